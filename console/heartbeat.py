"""The heartbeat watch of a kernel link: is the kernel still there?

``KernelLink.watch_heartbeat()`` starts one. It pings the kernel's heartbeat channel every
HB_INTERVAL, declares the kernel gone after HB_MISSES unanswered pings (or its process exit)
and back when it answers again, through the link's ``alive``/``silent`` flags and its
``on_death``/``on_revival``/``on_silent`` callbacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

HB_INTERVAL = 1.0  # seconds between heartbeat pings
HB_MISSES = 3  # pings missed in a row before the kernel counts as gone


class Watched(Protocol):
    """What the watch reads and sets on the link that owns it."""

    client: Any
    manager: Any
    alive: bool
    silent: bool
    _closed: bool
    _restarting: bool

    @property
    def on_death(self) -> Callable[[str], None]: ...

    @property
    def on_revival(self) -> Callable[[], None]: ...

    @property
    def on_silent(self) -> Callable[[str], None]: ...

    async def is_alive(self) -> bool: ...

    def _fail_waiters(self, reason: str) -> None: ...


def silence() -> str:
    """Why a kernel whose heartbeat stopped answering counts as gone, in words."""
    return f"the kernel did not answer its heartbeat for {HB_MISSES * HB_INTERVAL:g} s"


class HeartbeatWatch:
    """Pings one link's kernel on its heartbeat channel until the link closes."""

    def __init__(self, link: Watched) -> None:
        self.link = link

    def _socket(self) -> Any:
        import zmq
        import zmq.asyncio

        client = self.link.client
        sock = zmq.asyncio.Context.instance().socket(zmq.DEALER)
        sock.linger = 0
        server_key = getattr(client, "curve_publickey", None)
        if server_key:
            public, secret = zmq.curve_keypair()
            sock.curve_secretkey = secret
            sock.curve_publickey = public
            sock.curve_serverkey = server_key
        sock.connect(client._make_url("hb"))
        return sock

    async def run(self) -> None:
        """Declare the kernel gone after HB_MISSES unanswered pings (or its process exit),
        and back when it answers again. Each ping waits at most HB_INTERVAL. An owned kernel
        whose process still runs is only reported silent (``on_silent``), never given up."""
        link = self.link
        loop = asyncio.get_running_loop()
        sock = self._socket()
        misses = 0
        n = 0
        try:
            while not link._closed:
                started = loop.time()
                if link._restarting:
                    await asyncio.sleep(HB_INTERVAL)
                    continue
                n += 1
                token = f"mycon-ping-{n}".encode()
                await sock.send_multipart([b"", token])
                answered = await self._pong(sock, token, started + HB_INTERVAL)
                exited = link.manager is not None and not link._restarting and not await link.is_alive()
                if link._restarting:
                    continue
                if answered and not exited:
                    misses = 0
                    if not link.alive or link.silent:
                        link.alive, link.silent = True, False
                        link.on_revival()
                else:
                    misses = HB_MISSES if exited else misses + 1
                    if misses < HB_MISSES:
                        pass
                    elif link.manager is not None and not exited:
                        # Our own kernel's process lives: busy in C code or a stuck heartbeat.
                        # Say so once; killing it would lose the user's work for nothing.
                        if not link.silent:
                            link.silent = True
                            link.on_silent(silence())
                    elif link.alive:
                        link.alive = False
                        reason = "the kernel died (its process exited)" if exited else silence()
                        link._fail_waiters(reason)
                        link.on_death(reason)
                await asyncio.sleep(max(0.0, started + HB_INTERVAL - loop.time()))
        finally:
            sock.close(linger=0)

    @staticmethod
    async def _pong(sock: Any, token: bytes, deadline: float) -> bool:
        """Wait until ``deadline`` for the echo of ``token`` (older echoes are skipped)."""
        import zmq

        loop = asyncio.get_running_loop()
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False
            if not await sock.poll(int(left * 1000) + 1, zmq.POLLIN):
                return False
            frames = await sock.recv_multipart()
            if frames and frames[-1] == token:
                return True
