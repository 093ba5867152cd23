"""Free TCP ports for connection files written by tests."""

from __future__ import annotations

import socket


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
