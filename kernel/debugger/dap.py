"""A client connection to debugpy's adapter: DAP messages over TCP, framed by ``Content-Length``.

Requests get a sequence number of ours and are answered by the response that names it (so the
front end's numbers never collide with the kernel's own requests); every wait is bounded. A
reader thread takes what the adapter sends: responses for the waiting requests, events for a
callback (which publishes them as ``debug_event``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from ..log import log
from ..threads import start_helper

HEADER = b"Content-Length: "
SEPARATOR = b"\r\n\r\n"
CONNECT_TIMEOUT = 10.0  # seconds for the adapter to accept us after debugpy.listen()
MAX_MESSAGE = 1 << 28  # a larger Content-Length is a broken stream, not a message


class DebuggerError(Exception):
    """The adapter could not be reached or did not answer in time (the message says which)."""


class AdapterConnection:
    """One connection to debugpy's adapter."""

    def __init__(self, host: str, port: int, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.on_event = on_event
        self.sock = _connect(host, port)
        self._send_lock = threading.Lock()
        self._state = threading.Condition()
        self._responses: dict[int, dict[str, Any]] = {}
        self._events_seen: set[str] = set()
        self._seq = 0
        self.closed = False
        self.reader = start_helper(self._read_all, name="debugpy-reader")

    # ----- sending -------------------------------------------------------------------------------

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        """Send a request; returns its sequence number (for ``response``)."""
        with self._send_lock:
            self._seq += 1
            seq = self._seq
            message: dict[str, Any] = {"type": "request", "seq": seq, "command": command}
            if arguments is not None:
                message["arguments"] = arguments
            body = json.dumps(message, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
            try:
                self.sock.sendall(HEADER + str(len(body)).encode("ascii") + SEPARATOR + body)
            except OSError as exc:
                raise DebuggerError(f"the connection to debugpy's adapter is broken ({exc})") from None
        return seq

    def response(self, seq: int, command: str, timeout: float) -> dict[str, Any]:
        """The adapter's response to request ``seq`` (``command``, for the message on timeout)."""
        with self._state:
            if not self._state.wait_for(lambda: seq in self._responses or self.closed, timeout):
                raise DebuggerError(f"debugpy did not answer {command!r} within {timeout:g} s")
            if seq not in self._responses:
                raise DebuggerError(f"the connection to debugpy's adapter closed before it answered {command!r}")
            return self._responses.pop(seq)

    def request(self, command: str, arguments: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        """Send a request and wait (bounded) for its response."""
        return self.response(self.send(command, arguments), command, timeout)

    def wait_for_event(self, event: str, timeout: float) -> None:
        """Wait until the adapter sent ``event`` at least once."""
        with self._state:
            if not self._state.wait_for(lambda: event in self._events_seen or self.closed, timeout):
                raise DebuggerError(f"debugpy sent no {event!r} event within {timeout:g} s")

    def forget_event(self, event: str) -> None:
        with self._state:
            self._events_seen.discard(event)

    def close(self) -> None:
        """Close the connection (the reader thread ends)."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # ----- receiving -----------------------------------------------------------------------------

    def _read_all(self) -> None:
        buffer = b""
        try:
            while True:
                message, buffer = _take_message(buffer)
                if message is None:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    buffer += chunk
                    continue
                self._dispatch(message)
        except OSError:
            pass
        except Exception as exc:  # noqa: BLE001 - a bad frame ends the connection, not the kernel
            log(f"debugger: reading from debugpy's adapter failed: {type(exc).__name__}: {exc}")
        finally:
            with self._state:
                self.closed = True
                self._state.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "response":
            with self._state:
                self._responses[int(message.get("request_seq", -1))] = message
                self._state.notify_all()
        elif kind == "event":
            with self._state:
                self._events_seen.add(str(message.get("event")))
                self._state.notify_all()
            try:
                self.on_event(message)
            except Exception as exc:  # noqa: BLE001
                log(f"debugger: publishing a debug_event failed: {type(exc).__name__}: {exc}")


def _take_message(buffer: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """The first whole message in ``buffer`` and what follows it, or (None, buffer)."""
    start = buffer.find(HEADER)
    if start < 0:
        return None, buffer
    end = buffer.find(SEPARATOR, start)
    if end < 0:
        return None, buffer
    size = int(buffer[start + len(HEADER) : end].split(b"\r\n", 1)[0])
    if not 0 <= size <= MAX_MESSAGE:
        raise ValueError(f"Content-Length {size} is not a message size")
    body_start = end + len(SEPARATOR)
    if len(buffer) - body_start < size:
        return None, buffer
    message = json.loads(buffer[body_start : body_start + size].decode("utf-8"))
    return message, buffer[body_start + size :]


def _connect(host: str, port: int) -> socket.socket:
    """Connect to the adapter, which may take a moment to start listening."""
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise DebuggerError(f"cannot connect to debugpy's adapter at {host}:{port}: {exc}") from None
            time.sleep(0.05)
            continue
        sock.settimeout(None)  # the reader waits for events as long as the session lasts
        return sock
