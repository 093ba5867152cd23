"""Launch a kernel under test and talk to it at the protocol level.

jupyter_client launches the kernel (``KernelManager``, from its kernelspec) and signs what we
send (``Session``). Incoming messages are parsed lightly (the header, parent header and, when
asked, the content; no signature check, no date parsing) so the harness's own cost stays out of
the kernel's figures. Every wait has a deadline and raises ``BenchError`` saying what it waited
for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

DELIM = b"<IDS|MSG>"
BENCH_DIR = Path(__file__).resolve().parent
ECHO_KERNEL_NAME = "mycon-bench-echo"


class BenchError(Exception):
    """A benchmark could not produce a figure; the message says why, in words."""


@dataclass(frozen=True)
class KernelTarget:
    """One kernel to measure: a role in the table and the kernelspec that launches it."""

    role: str  # "ours", "reference" or "floor"
    kernel_name: str
    kernel_dirs: tuple[str, ...] = ()
    profile_dir: str = ""  # when set, benchmarks record a py-spy profile of the kernel there

    def spec_manager(self) -> KernelSpecManager | None:
        if not self.kernel_dirs:
            return None
        return KernelSpecManager(kernel_dirs=list(self.kernel_dirs))


def echo_kernel_target() -> KernelTarget:
    """A kernelspec for bench/echo_kernel.py in a private folder (nothing is installed)."""
    root = Path(tempfile.mkdtemp(prefix="mycon-bench-spec-"))
    spec_dir = root / ECHO_KERNEL_NAME
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, str(BENCH_DIR / "echo_kernel.py"), "-f", "{connection_file}"],
        "display_name": "echo (transport floor)",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelTarget("floor", ECHO_KERNEL_NAME, (str(root),))


@dataclass
class Message:
    """An incoming message, parsed only as far as the benchmarks need."""

    channel: str
    msg_type: str
    parent_id: str
    raw_content: bytes
    _content: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def content(self) -> dict[str, Any]:
        if self._content is None:
            self._content = json.loads(self.raw_content)
        return self._content


def _parse(channel: str, frames: list[bytes]) -> Message:
    split = frames.index(DELIM)
    header = json.loads(frames[split + 2])
    parent = json.loads(frames[split + 3]) or {}  # xeus-python sends null for "no parent"
    return Message(channel, header["msg_type"], parent.get("msg_id", ""), frames[split + 5])


def _context() -> zmq.Context[Any]:
    """A context whose sockets retry a refused connection every millisecond, not every 100 ms.

    Without this, a client that connects before the kernel has bound its ports only notices the
    kernel at the next 100 ms retry, and start-up figures come out in 100 ms steps.
    """
    ctx: zmq.Context[Any] = zmq.Context()
    ctx.setsockopt(zmq.RECONNECT_IVL, 1)
    return ctx


class KernelConnection:
    """One running kernel: its process, a shell and an iopub socket, and a signing session."""

    def __init__(self, target: KernelTarget) -> None:
        self.target = target
        self.context = _context()
        kwargs: dict[str, Any] = {"kernel_name": target.kernel_name, "context": self.context}
        specs = target.spec_manager()
        if specs is not None:
            kwargs["kernel_spec_manager"] = specs
        self.manager = KernelManager(**kwargs)
        self.session: Session | None = None
        self.log = tempfile.TemporaryFile(prefix="mycon-bench-kernel-")  # its stdout and stderr
        self.shell: zmq.Socket[Any] | None = None
        self.iopub: zmq.Socket[Any] | None = None
        self.poller = zmq.Poller()

    # -- life cycle -----------------------------------------------------------------------
    def launch(self) -> float:
        """Start the process and connect; return the ``perf_counter`` time of the launch."""
        launched = time.perf_counter()
        try:
            self.manager.start_kernel(stdout=self.log, stderr=subprocess.STDOUT)
        except Exception as exc:  # a missing kernelspec, a command that cannot run...
            raise BenchError(f"could not launch kernel {self.target.kernel_name!r}: {exc}") from exc
        self.session = self.manager.session
        self.shell = self.manager.connect_shell()
        self.iopub = self.manager.connect_iopub()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        return launched

    def close(self) -> None:
        """Shut the kernel down hard and release the sockets; never raises."""
        for sock in (self.shell, self.iopub):
            if sock is not None:
                sock.close(linger=0)
        try:
            if self.manager.has_kernel:
                self.manager.shutdown_kernel(now=True)
        except Exception:
            pid = self.pid()
            if pid:
                kill_tree(pid)
        try:
            self.manager.cleanup_resources()
        except Exception:
            pass
        self.context.term()
        self.log.close()

    def explain(self, exc: BenchError) -> BenchError:
        """``exc``, plus the kernel's exit status and last words if it has died."""
        code = self.exit_code()
        if code is None:
            return exc
        self.log.seek(0)
        lines = [ln for ln in self.log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        said = f": {lines[-1].strip()[:150]}" if lines else ""
        return BenchError(f"{exc}; the kernel exited with code {code}{said}")

    def exit_code(self) -> int | None:
        """The kernel process's exit code, or None while it runs."""
        process = getattr(self.manager.provisioner, "process", None)
        return process.poll() if process is not None else None

    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def rss(self) -> int:
        """Resident memory of the kernel process and all its children, in bytes."""
        pid = self.pid()
        if pid is None:
            raise BenchError("the kernel's process id is unknown")
        return tree_rss(pid)

    # -- messages -------------------------------------------------------------------------
    def build(self, msg_type: str, content: dict[str, Any]) -> tuple[str, list[bytes]]:
        """A signed shell request, ready to send: (msg_id, frames)."""
        assert self.session is not None
        msg = self.session.msg(msg_type, content)
        return msg["header"]["msg_id"], self.session.serialize(msg)

    def send_frames(self, frames: list[bytes]) -> None:
        assert self.shell is not None
        self.shell.send_multipart(frames, copy=False)

    def send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg_id, frames = self.build(msg_type, content)
        self.send_frames(frames)
        return msg_id

    def receive(self, timeout: float) -> list[Message]:
        """Whatever shell and iopub messages arrive within ``timeout`` seconds (maybe none)."""
        assert self.shell is not None and self.iopub is not None
        got = []
        for sock, _ in self.poller.poll(int(timeout * 1000) + 1):
            channel = "shell" if sock is self.shell else "iopub"
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)  # type: ignore[union-attr]
                except zmq.Again:
                    break
                got.append(_parse(channel, frames))
        return got

    def messages(self, deadline: float, waiting_for: str) -> Iterator[Message]:
        """Yield incoming shell and iopub messages until ``deadline`` (then raise BenchError)."""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(f"timed out waiting for {waiting_for}")
            yield from self.receive(left)

    def request(self, msg_type: str, content: dict[str, Any], timeout: float,
                msg_id: str | None = None, keep: bool = False) -> Exchange:
        """Send a request (unless ``msg_id`` says it was sent) and wait for reply and idle."""
        if msg_id is None:
            msg_id = self.send(msg_type, content)
        return self.follow(msg_id, timeout, msg_type, keep)

    def follow(self, msg_id: str, timeout: float, what: str, keep: bool = False) -> Exchange:
        """Wait until both the reply to ``msg_id`` and its ``idle`` status have arrived."""
        exchange = Exchange(msg_id)
        deadline = time.perf_counter() + timeout
        for msg in self.messages(deadline, f"the reply and idle for {what} ({timeout:g} s)"):
            if msg.parent_id != msg_id:
                continue
            if msg.channel == "shell":
                exchange.reply = msg
                exchange.reply_at = time.perf_counter()
            elif msg.msg_type == "status" and b'"idle"' in msg.raw_content:
                exchange.idle_at = time.perf_counter()
            elif keep:
                exchange.iopub.append(msg)
            if exchange.reply is not None and exchange.idle_at:
                return exchange
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float) -> float:
        """Send kernel_info until it is answered on shell and iopub; return the reply's time.

        Like jupyter_client's readiness check, an iopub message caused by our kernel_info proves
        that the iopub subscription is live, so nothing later is missed. The request is sent
        again every second until answered, then every 50 ms until iopub shows it.
        """
        deadline = time.perf_counter() + timeout
        first_reply = 0.0
        iopub_live = False
        pending: set[str] = set()
        sent_at = -1e9
        while True:
            now = time.perf_counter()
            if now >= deadline:
                if self.exit_code() is not None:
                    raise BenchError("no kernel_info_reply")
                state = "no iopub message" if first_reply else "no kernel_info_reply"
                raise BenchError(f"kernel not ready after {timeout:g} s ({state})")
            if now - sent_at >= (0.05 if first_reply else 1.0):
                if self.exit_code() is not None:
                    raise BenchError("no kernel_info_reply")
                pending.add(self.send("kernel_info_request", {}))
                sent_at = now
            for msg in self.receive(min(0.05, deadline - now)):
                if msg.parent_id not in pending:
                    continue
                if msg.channel == "shell":
                    first_reply = first_reply or time.perf_counter()
                else:
                    iopub_live = True
                if first_reply and iopub_live:
                    return first_reply

    def execute(self, code: str, timeout: float, keep: bool = False) -> Exchange:
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        exchange = self.request("execute_request", content, timeout, keep=keep)
        exchange.check_ok(f"execute {code[:40]!r}")
        return exchange


@dataclass
class Exchange:
    """What came back for one request: the reply, its arrival times, and (if kept) iopub."""

    msg_id: str
    reply: Message | None = None
    reply_at: float = 0.0
    idle_at: float = 0.0
    iopub: list[Message] = field(default_factory=list)

    @property
    def done_at(self) -> float:
        return max(self.reply_at, self.idle_at)

    def check_ok(self, what: str) -> dict[str, Any]:
        assert self.reply is not None
        content = self.reply.content
        if content.get("status") != "ok":
            detail = content.get("evalue") or content.get("status")
            raise BenchError(f"{what} answered {content.get('status')!r}: {detail}")
        return content


@contextmanager
def running_kernel(target: KernelTarget, timeout: float,
                   label: str = "kernel") -> Iterator[KernelConnection]:
    """A launched, ready kernel that is shut down on leaving, whatever happened.

    With ``target.profile_dir`` set, py-spy records the kernel from readiness to shutdown into
    ``<profile_dir>/<label>-<role>-<time>.txt``.
    """
    from bench.profile import Profiler  # only needed with --profile

    kernel = KernelConnection(target)
    profiler = None
    try:
        kernel.launch()
        kernel.wait_ready(timeout)
        pid = kernel.pid()
        if target.profile_dir and pid:
            name = f"{label}-{target.role}-{time.strftime('%H%M%S')}.txt"
            profiler = Profiler(pid, Path(target.profile_dir) / name)
        yield kernel
    except BenchError as exc:
        raise kernel.explain(exc) from None
    finally:
        kernel.close()
        if profiler is not None:
            written = profiler.finish()
            if written:
                print(f"  profile written: {written}", file=sys.stderr)


def tree_rss(pid: int) -> int:
    """RSS of a process and all its descendants, in bytes (vanished processes count 0)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error as exc:
        raise BenchError(f"process {pid} is gone: {exc}") from exc
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def kill_tree(pid: int, timeout: float = 3.0, graceful: bool = True) -> None:
    """End a process and its descendants (SIGTERM first if ``graceful``, then SIGKILL)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    if graceful:
        for proc in procs:
            try:
                proc.terminate()
            except psutil.Error:
                pass
        _wait_gone(procs, timeout)
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    _wait_gone(procs, timeout)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> None:
    """Wait until every process has exited; a zombie counts as gone (we may not be its parent)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not any(_running(proc) for proc in procs):
            return
        time.sleep(0.01)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
