"""Free TCP ports for connection files written by tests."""

from __future__ import annotations

import socket
import subprocess
import time


def free_ports(count: int, host: str = "") -> list[int]:
    """``count`` distinct ports nothing listens on, on ``host`` ("" checks every address).

    Plain sockets, closed before returning: a ZeroMQ socket closes in its I/O thread, after
    ``close()`` returns, so a kernel started right after could still find its port taken.
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_listening(port: int, process: subprocess.Popen[str], timeout: float) -> None:
    """Until something listens on loopback ``port`` (a server started as ``process``, which
    may log its address just before it binds): try to connect every 20 ms, for at most
    ``timeout`` seconds; fail at once if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, f"{process.args!r} exited with status {process.returncode}"
            assert time.monotonic() < deadline, f"nothing listened on port {port} within {timeout} s"
            time.sleep(0.02)
