"""Capture of stdout and stderr, batched into ``stream`` messages in order.

Python-level writes (``print``) append to one shared, ordered buffer without locks (a list
``append`` is atomic); writes to file descriptors 1 and 2 (subprocesses, C code) arrive through
pipes and join the same buffer. A flush turns consecutive runs of one stream into one message.
The io thread flushes every ``FLUSH_INTERVAL`` seconds; the dispatcher flushes before each reply.
"""

from __future__ import annotations

import codecs
import io
import os
import threading
from collections.abc import Callable

FLUSH_INTERVAL = 0.05  # seconds between automatic flushes while output is pending
MAX_MESSAGE_CHARS = 1 << 20  # text per stream message; larger output is split

Emit = Callable[[str, str], None]  # (stream name, text) -> publish one stream message

_forked = False  # True in a child that user code forked from the kernel (os.fork)


def _mark_forked() -> None:
    global _forked
    _forked = True


def in_fork_child() -> bool:
    """True in a process forked from the kernel: it must not touch the kernel's sockets."""
    return _forked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_mark_forked)


class StreamSink:
    """The ordered buffer shared by stdout and stderr, and the flush that publishes it."""

    def __init__(self, emit: Emit):
        self.parts: list[tuple[str, str]] = []
        self._emit = emit
        self._lock = threading.Lock()

    def flush(self) -> None:
        """Publish everything written so far, in order, one message per run of a stream."""
        with self._lock:
            parts = self.parts
            count = len(parts)
            if not count:
                return
            taken = parts[:count]
            del parts[:count]
            name = taken[0][0]
            chunk: list[str] = []
            size = 0
            for part_name, text in taken:
                if part_name != name or size >= MAX_MESSAGE_CHARS:
                    self._publish(name, chunk)
                    name, chunk, size = part_name, [], 0
                chunk.append(text)
                size += len(text)
            self._publish(name, chunk)

    def _publish(self, name: str, chunk: list[str]) -> None:
        text = "".join(chunk)
        for start in range(0, len(text), MAX_MESSAGE_CHARS):
            self._emit(name, text[start : start + MAX_MESSAGE_CHARS])


class OutStream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` in the kernel: text goes to the shared sink."""

    def __init__(self, name: str, sink: StreamSink, fd: int | None = None):
        super().__init__()
        self.name_ = name
        self._sink = sink
        self._append = sink.parts.append
        self._fd = fd

    # ``name`` is read-only on TextIOBase; expose the stream name the usual way.
    @property
    def name(self) -> str:  # type: ignore[override]
        return f"<{self.name_}>"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return "replace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        if self._fd is None:
            raise io.UnsupportedOperation("this stream has no file descriptor")
        return self._fd

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if _forked:
            return self._write_to_fd(text)
        self._append((self.name_, text))
        return len(text)

    def _write_to_fd(self, text: str) -> int:
        """In a forked child: the sink is the parent's, so write to the inherited pipe."""
        if self._fd is not None:
            data = text.encode("utf-8", "replace")
            while data:
                data = data[os.write(self._fd, data) :]
        return len(text)

    def flush(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if not _forked:
            self._sink.flush()


class FdCapture:
    """Redirects file descriptors 1 and 2 into pipes whose text joins the sink.

    The original descriptors are kept (``original_stderr``) so the kernel can still log to the
    terminal it was started from.
    """

    def __init__(self, sink: StreamSink):
        self._sink = sink
        self._lock = threading.RLock()  # re-entered when the SIGIO handler interrupts a drain
        self.readers: dict[int, tuple[str, codecs.IncrementalDecoder]] = {}
        self.original_stdout = os.dup(1)
        self.original_stderr = os.dup(2)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            os.dup2(write_end, fd)
            os.close(write_end)
            self.readers[read_end] = (name, codecs.getincrementaldecoder("utf-8")("replace"))

    def drain_on_signal(self) -> bool:
        """Drain as soon as a pipe becomes readable (SIGIO), so output stays in order.

        The handler runs in the main thread between two bytecodes: text that a subprocess or
        C code wrote before the next ``print`` joins the buffer before that print does.
        Returns False where the platform cannot do this (the io thread still drains).
        """
        import signal

        try:
            import fcntl

            for read_end in self.readers:
                fcntl.fcntl(read_end, fcntl.F_SETOWN, os.getpid())
                flags = fcntl.fcntl(read_end, fcntl.F_GETFL)
                fcntl.fcntl(read_end, fcntl.F_SETFL, flags | os.O_ASYNC)
            signal.signal(signal.SIGIO, lambda signum, frame: self.drain())
        except (ImportError, AttributeError, OSError, ValueError):
            return False
        return True

    def drain(self) -> None:
        """Move whatever the pipes hold into the sink (non-blocking)."""
        with self._lock:
            for read_end, (name, decoder) in self.readers.items():
                while True:
                    try:
                        data = os.read(read_end, 1 << 16)
                    except BlockingIOError:
                        break
                    except OSError:
                        break
                    if not data:
                        break
                    text = decoder.decode(data)
                    if text:
                        self._sink.parts.append((name, text))
                    if len(data) < 1 << 16:
                        break
