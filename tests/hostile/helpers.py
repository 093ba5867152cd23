"""Helpers for the hostile-input suite: raw sockets that speak the wire format, memory probes.

``RawClient`` talks to a kernel over real ZeroMQ sockets without jupyter_client's checks, so
tests can send anything (unsigned, replayed, malformed) and see exactly what comes back.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.jsonutil import json_default
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session as ReferenceSession

CHANNELS = ("shell", "control", "stdin")


def kernel_pid(km: KernelManager) -> int:
    """The process id of a kernel started by ``km``."""
    process = getattr(km.provisioner, "process", None)
    assert process is not None, "the kernel has no local process"
    return int(process.pid)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class RawClient:
    """DEALER sockets on shell, control and stdin plus a SUB on iopub, signing with ``key``."""

    def __init__(self, info: dict[str, Any], key: bytes | None = None, identity: bytes | None = None) -> None:
        self.info = info
        self.context = zmq.Context()
        self.session = ReferenceSession(key=str(info["key"]).encode() if key is None else key, signature_scheme=info.get("signature_scheme", "hmac-sha256"))
        # ASCII JSON: lone surrogates travel as \\ud800 escapes, as any JSON library may send
        self.session.pack = lambda obj: json.dumps(obj, default=json_default, ensure_ascii=True, allow_nan=False).encode()
        self.sockets: dict[str, zmq.Socket] = {}
        self._curve = zmq.curve_keypair() if info.get("curve_publickey") else None
        for name in CHANNELS:
            sock = self.context.socket(zmq.DEALER)
            sock.linger = 0
            self._secure(sock)
            # one identity on every channel, as jupyter_client does: the kernel sends an
            # input_request on stdin to the identity that sent the shell request
            sock.identity = identity or self.session.bsession
            sock.connect(self._address(info[f"{name}_port"]))
            self.sockets[name] = sock
        self.iopub = self.context.socket(zmq.SUB)
        self.iopub.linger = 0
        self._secure(self.iopub)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(self._address(info["iopub_port"]))

    def _secure(self, sock: zmq.Socket) -> None:
        """CurveZMQ client keys when the kernel's connection info has a server key."""
        if self._curve is not None:
            sock.curve_serverkey = str(self.info["curve_publickey"]).encode()
            sock.curve_publickey, sock.curve_secretkey = self._curve

    def _address(self, port: int) -> str:
        return f"{self.info.get('transport', 'tcp')}://{self.info['ip']}:{port}"

    def wait_for_iopub(self, timeout: float = 20.0, kernel: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
        """Block until the iopub subscription is live (kernel_info until any iopub arrives).

        With the ``kernel`` process (and the file its stderr goes to), a kernel that exits
        instead fails at once, with what it wrote.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if kernel is not None and kernel.poll() is not None:
                said = log.read_text(errors="replace") if log is not None else ""
                raise AssertionError(f"the kernel exited with status {kernel.returncode}: {said}")
            self.send_msg("shell", "kernel_info_request", {})
            if self.iopub.poll(200):
                self.drain(0.3)
                return
        said = log.read_text(errors="replace") if log is not None else ""
        raise AssertionError(f"no iopub message within {timeout:.0f} s; the kernel wrote: {said!r}")

    def msg(self, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
        return self.session.msg(msg_type, content)

    def frames(self, msg: dict[str, Any]) -> list[bytes]:
        """The signed wire frames of ``msg`` (no routing ids: DEALER adds ours)."""
        return self.session.serialize(msg)

    def send_frames(self, channel: str, frames: list[bytes]) -> None:
        self.sockets[channel].send_multipart(frames)

    def send_msg(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        msg = self.msg(msg_type, content)
        self.send_frames(channel, self.frames(msg))
        return str(msg["header"]["msg_id"])

    def recv(self, channel: str, timeout: float = 20.0) -> dict[str, Any] | None:
        """One message from ``channel`` (verified with our session), or None on timeout."""
        sock = self.iopub if channel == "iopub" else self.sockets[channel]
        if not sock.poll(int(timeout * 1000)):
            return None
        raw = sock.recv_multipart()
        _, parts = self.session.feed_identities(raw)
        return self.session.deserialize(parts)

    def reply_to(self, channel: str, msg_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The reply to ``msg_id`` on ``channel``; fails in words on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            msg = self.recv(channel, max(left, 0))
            assert msg is not None, f"no reply to {msg_id} on {channel} within {timeout:.0f} s"
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def until_idle(self, msg_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """iopub messages of request ``msg_id`` up to its idle status (excluded)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv("iopub", max(deadline - time.monotonic(), 0))
            assert msg is not None, f"no idle for {msg_id} within {timeout:.0f} s"
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out
            out.append(msg)

    def execute(self, code: str, timeout: float = 20.0, **content: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run ``code``; return (execute_reply, its iopub messages)."""
        body = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
        body.update(content)
        msg_id = self.send_msg("shell", "execute_request", body)
        reply = self.reply_to("shell", msg_id, timeout)
        return reply, self.until_idle(msg_id, timeout)

    def drain(self, quiet: float = 0.1) -> int:
        """Discard what iopub holds until it is quiet for ``quiet`` seconds; return the count."""
        count = 0
        while self.iopub.poll(int(quiet * 1000)):
            self.iopub.recv_multipart()
            count += 1
        return count

    def close(self) -> None:
        for sock in [*self.sockets.values(), self.iopub]:
            sock.close(linger=0)
        self.context.term()


@contextmanager
def raw_client(info: dict[str, Any], **kwargs: Any) -> Iterator[RawClient]:
    client = RawClient(info, **kwargs)
    try:
        yield client
    finally:
        client.close()


def stream_text(outputs: list[dict[str, Any]], name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == name)


class StandaloneKernel:
    """``python -m kernel`` started by hand (no jupyter_client), its log written to a file."""

    def __init__(self, workdir: str, *args: str, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        import sys

        self.workdir = workdir
        self.log_path = os.path.join(workdir, "kernel.log")
        self.connection_file = os.path.join(workdir, "runtime", f"kernel-{os.urandom(4).hex()}.json")
        full_env = dict(os.environ, JUPYTER_RUNTIME_DIR=os.path.join(workdir, "runtime"))
        full_env.update(env or {})
        full_env.pop("MYCON_KERNEL_LOG", None)
        argv = list(args) if args else ["-f", self.connection_file]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kernel", *argv],
            cwd=cwd or workdir,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert "connection file" in first, f"kernel did not start: {first!r} {self.log()}"
        self.connection_file = first.rsplit(" ", 1)[-1].strip()
        with open(self.connection_file, encoding="utf-8") as handle:
            self.info: dict[str, Any] = json.load(handle)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


@contextmanager
def standalone_kernel(workdir: str, *args: str, **kwargs: Any) -> Iterator[StandaloneKernel]:
    kernel = StandaloneKernel(workdir, *args, **kwargs)
    try:
        yield kernel
    finally:
        kernel.stop()


def kernel_pid_of(kernel: StandaloneKernel) -> int:
    return int(kernel.proc.pid)
