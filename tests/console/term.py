"""Drive the real ``mycon`` in a pseudo-terminal: type keys, read the (ANSI-stripped) output."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

MYCON = str(Path(sys.executable).with_name("mycon"))
JUPYTER = str(Path(sys.executable).with_name("jupyter"))
ANSI = re.compile(r"\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]")
WAIT = 30.0  # seconds any single expectation may take

UP = "\x1b[A"
CTRL_C = "\x03"
F2 = "\x1bOQ"
F5 = "\x1b[15~"
F6 = "\x1b[17~"
CTRL_D = "\x04"
CTRL_R = "\x12"
ESC = "\x1b"
TAB = "\t"
ENTER = "\r"


def plain(text: str) -> str:
    """Terminal output without escape sequences and carriage returns."""
    return ANSI.sub("", text).replace("\r", "")


@functools.cache
def kernel_available(name: str) -> bool:
    """Whether kernelspec ``name`` can start and answer (checked once per run, bounded)."""
    code = (
        "from jupyter_client.manager import start_new_kernel\n"
        f"km, kc = start_new_kernel(kernel_name={name!r}, startup_timeout=20)\n"
        "kc.stop_channels(); km.shutdown_kernel(now=True)\n"
    )
    try:
        return subprocess.run([sys.executable, "-c", code], timeout=40, capture_output=True).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def need_kernel(name: str) -> None:
    """Skip the test when kernelspec ``name`` cannot start here, saying so."""
    if not kernel_available(name):
        pytest.skip(f"kernelspec {name!r} cannot start here")


class Term:
    """One ``mycon`` process (or ``program``, e.g. ``jupyter console``) in a pseudo-terminal."""

    def __init__(
        self, *args: str, cols: int = 120, rows: int = 40, env: dict[str, str] | None = None,
        answers_cpr: bool = False, program: str = MYCON,
    ):
        full_env = dict(os.environ)
        full_env.update(
            {
                "TERM": "xterm-256color",
                "PROMPT_TOOLKIT_NO_CPR": "1",
                "COLUMNS": str(cols),
                "LINES": str(rows),
                "PAGER": "cat",
                "PYTHONUNBUFFERED": "1",
            }
        )
        full_env.update(env or {})
        self.child = pexpect.spawn(
            program, list(args), env=full_env, dimensions=(rows, cols), encoding="utf-8",
            codec_errors="replace", timeout=WAIT,
        )
        self.raw = ""
        self.pos = 0  # how far expectations have consumed plain(raw)
        # Answer cursor-position requests (ESC [ 6 n) when read, as a terminal emulator does
        # (mycon asks only when PROMPT_TOOLKIT_NO_CPR is not 1).
        self.answers_cpr = answers_cpr

    def _read(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            chunk = self.child.read_nonblocking(65536, timeout=left)
        except pexpect.TIMEOUT:
            raise TimeoutError from None
        self.raw += chunk
        if self.answers_cpr and "\x1b[6n" in chunk:
            self.child.send("\x1b[1;1R" * chunk.count("\x1b[6n"))

    def expect(self, text: str | re.Pattern[str], timeout: float = WAIT) -> re.Match[str] | str:
        """Wait until ``text`` (or a regex) appears in the output after what was consumed."""
        deadline = time.monotonic() + timeout
        while True:
            screen = plain(self.raw)
            if isinstance(text, str):
                idx = screen.find(text, self.pos)
                if idx >= 0:
                    self.pos = idx + len(text)
                    return text
            else:
                m = text.search(screen, self.pos)
                if m:
                    self.pos = m.end()
                    return m
            try:
                self._read(deadline)
            except TimeoutError:
                raise AssertionError(
                    f"{text!r} did not appear within {timeout:g} s; output after the last "
                    f"match:\n{screen[self.pos:][-3000:]}"
                ) from None
            except pexpect.EOF:
                raise AssertionError(
                    f"mycon exited before {text!r} appeared; output:\n{screen[self.pos:][-3000:]}"
                ) from None

    def prompt(self, timeout: float = WAIT) -> int:
        """Wait for the next ``In [n]:`` prompt; returns n."""
        m = self.expect(re.compile(r"In \[(\d+)\]: "), timeout)
        assert isinstance(m, re.Match)
        return int(m.group(1))

    def send(self, keys: str) -> None:
        """Type ``keys`` (escape sequences allowed)."""
        self.child.send(keys)

    def run(self, code: str) -> None:
        """Type one line of code and press Enter."""
        self.child.send(code + ENTER)

    def wait_exit(self, timeout: float = WAIT) -> int:
        """Wait for mycon to exit; returns its exit status."""
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            try:
                self._read(deadline)
            except pexpect.EOF:
                break
            except TimeoutError:
                raise AssertionError(f"mycon did not exit within {timeout:g} s") from None
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def close(self) -> None:
        """Stop mycon if it still runs (its owned kernel is shut down on the way out)."""
        if self.child.isalive():
            self.child.sendcontrol("d")
            try:
                self.child.expect("exit", timeout=5)
                self.child.send("y" + ENTER)
                self.child.expect(pexpect.EOF, timeout=15)
            except (pexpect.TIMEOUT, pexpect.EOF):
                pass
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()
