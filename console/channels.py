"""The kernel's ZeroMQ sockets (shell, iopub, stdin, control), read from the event loop.

The link (``console.link.KernelLink``) owns one ``ZmqChannels`` per connection: it sends
through it, and gets every message read off a socket, still in frames, through ``receive``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

RECONNECT_FIRST_MS = 10  # first retry of a refused connection to the kernel
RECONNECT_MAX_MS = 1000  # retries back off to this

Frames = list[Any]


class ZmqChannels:
    """The four channels of one jupyter_client client, each drained from the loop's readers."""

    def __init__(
        self,
        client: Any,
        receive: Callable[[str, Frames], None],
        closed: Callable[[], bool],
    ) -> None:
        self.client = client
        self.receive = receive  # (channel name, frames) of each message read
        self.closed = closed  # True once the link is closed: stop reading
        self.sockets: dict[str, Any] = {}
        self.drains: dict[str, Callable[[], None]] = {}

    def open(self) -> None:
        """Open the channels and read each one from the event loop (no heartbeat thread).

        Each socket is used through a plain (synchronous) shadow, watched with the loop's
        ``add_reader`` on its ZMQ_FD. That FD is edge-triggered: it only says "events may have
        changed", and any send on the socket can consume the edge while a reply is already
        queued. So every wake-up, and every send, drains the socket until ZMQ_EVENTS says it
        is empty. (Awaiting zmq.asyncio's recv while other tasks sent on the same socket lost
        replies under load: the reader stayed asleep with a reply queued.)
        """
        import zmq

        client = self.client
        # A kernel just launched binds its ports ~0.1 s later; zmq retries a refused connect
        # after RECONNECT_IVL (100 ms by default), which would add most of that again.
        # Retry every 10 ms, backing off to 1 s while a kernel stays away.
        client.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_FIRST_MS)
        client.context.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_MAX_MS)
        client.start_channels(hb=False)
        loop = asyncio.get_running_loop()
        for name in ("shell", "iopub", "stdin", "control"):
            channel = getattr(client, f"{name}_channel")
            sock: Any = zmq.Socket.shadow(channel.socket.underlying)
            self.sockets[name] = sock

            def drain(name: str = name, sock: Any = sock) -> None:
                if name == "stdin":
                    # An input_request is judged against the cell's reply and idle, which the
                    # kernel sent earlier: read those first, whatever order the loop woke us in.
                    for earlier in ("shell", "iopub"):
                        if earlier in self.sockets:
                            self._drain(earlier, self.sockets[earlier])
                self._drain(name, sock)

            self.drains[name] = drain
            loop.add_reader(int(sock.getsockopt(zmq.FD)), drain)
            loop.call_soon(drain)

    def _drain(self, name: str, sock: Any) -> None:
        """Read every message queued on one socket and hand each one on."""
        import zmq

        while not self.closed():
            try:
                if not sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    return
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError:
                return  # socket closed under us
            self.receive(name, frames)

    def send(self, channel: str, msg: dict[str, Any]) -> bool:
        """Send ``msg`` on ``channel``; False when that channel is closed."""
        sock = self.sockets.get(channel)
        if sock is None:
            return False
        self.client.session.send(sock, msg)
        # A send may swallow the FD's edge for a message that is already queued: look now.
        asyncio.get_running_loop().call_soon(self.drains[channel])
        return True

    def close(self) -> None:
        """Stop reading the sockets (the client's channels are stopped by the link)."""
        import zmq

        loop = asyncio.get_running_loop()
        for sock in self.sockets.values():
            with contextlib.suppress(Exception):
                loop.remove_reader(int(sock.getsockopt(zmq.FD)))
        self.sockets.clear()
        self.drains.clear()
