"""Helpers for the multi-client tests: the real ``mycon`` command, line readers with bounds,
headless kernels started with ``mycon kernel``."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.blocking.client import BlockingKernelClient

MYCON = str(Path(sys.executable).with_name("mycon"))
WAIT = 30.0  # seconds any single expectation may take


def run_mycon(*args: str, stdin: str | None = None, timeout: float = WAIT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mycon ARGS`` to its end (bounded) and capture its output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [MYCON, *args], input=stdin if stdin is not None else "", capture_output=True,
        text=True, timeout=timeout, env=full_env,
    )


class Lines:
    """The lines a subprocess writes to one pipe, read by a thread, awaited with a bound."""

    def __init__(self, pipe: object) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe: object) -> None:
        for line in iter(pipe.readline, ""):  # type: ignore[attr-defined]
            self.queue.put(line)
        self.queue.put(None)

    def until(self, predicate: Callable[[str], bool], timeout: float = WAIT) -> str:
        """The first new line for which ``predicate`` holds (earlier ones are kept in seen)."""
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no such line within {timeout} s; saw {self.seen!r}") from None
            if line is None:
                raise AssertionError(f"the pipe closed first; saw {self.seen!r}")
            self.seen.append(line)
            if predicate(line):
                return line

    def rest(self, timeout: float = WAIT) -> str:
        """Everything until the pipe closes."""
        try:
            self.until(lambda line: False, timeout)
        except AssertionError as e:
            if "closed" not in str(e):
                raise
        return "".join(self.seen)


@dataclass
class Headless:
    """A ``mycon kernel`` process and what it printed."""

    process: subprocess.Popen[str]
    out: Lines
    err: Lines
    connection_file: str = ""
    attach: str = ""
    pid: int = 0
    lines: list[str] = field(default_factory=list)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` to ``mycon kernel`` alone; its exit status (bounded)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=WAIT)


@contextmanager
def headless_kernel(kernel_name: str = "mycon", *options: str) -> Iterator[Headless]:
    """``mycon kernel --kernel NAME [OPTIONS]``, ready (it printed the attach command); stopped after."""
    process = subprocess.Popen(
        [MYCON, "kernel", "--kernel", kernel_name, *options], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    kernel = Headless(process, Lines(process.stdout), Lines(process.stderr))
    try:
        first = kernel.out.until(lambda line: line.startswith("Kernel "))
        if "(pid " in first:
            kernel.pid = int(first.split("(pid ")[1].split(")")[0])
        kernel.connection_file = kernel.out.until(lambda line: line.startswith("Connection file: ")).split(": ", 1)[1].strip()
        kernel.out.until(lambda line: line.startswith("Attach"))
        kernel.attach = kernel.out.until(lambda line: line.strip().startswith("mycon --existing")).strip()
        kernel.out.until(lambda line: "Ctrl-C" in line)
        yield kernel
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=WAIT)


@contextmanager
def client_for(path: str) -> Iterator[BlockingKernelClient]:
    """A blocking client on the kernel of connection file ``path``, ready (kernel_info answered)."""
    client = BlockingKernelClient()
    client.load_connection_file(path)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=WAIT)
        yield client
    finally:
        client.stop_channels()


def pid_gone(pid: int) -> bool:
    """True when no process ``pid`` exists (a zombie counts as gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True
