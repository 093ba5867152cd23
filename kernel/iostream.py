"""Capture of stdout and stderr, batched into ``stream`` messages in order.

Python-level writes (``print``) append to one shared, ordered buffer without locks (a list
``append`` is atomic); writes to file descriptors 1 and 2 (subprocesses, C code) arrive through
pipes and join the same buffer. A flush turns consecutive runs of one stream into one message.
The io thread flushes every ``FLUSH_INTERVAL`` seconds; the dispatcher flushes before each reply.
"""

from __future__ import annotations

import codecs
import contextvars
import io
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

FLUSH_INTERVAL = 0.05  # seconds between automatic flushes while output is pending
MAX_MESSAGE_CHARS = 1 << 20  # text per stream message; larger output is split

# (stream name, text, parent header or None for the current request) -> publish one message
Emit = Callable[[str, str, Any], None]

# The header of the request whose code runs in this context: asyncio tasks and callbacks copy it
# when they are created, so their output goes to the cell that started them.
request_parent: contextvars.ContextVar[Any] = contextvars.ContextVar("request_parent", default=None)
# A thread's own parent (``set_thread_parent``): its output goes there whatever runs meanwhile.
_thread_parent = threading.local()


def thread_parent() -> Any:
    """The parent this thread's output goes to, if it was given one."""
    return getattr(_thread_parent, "parent", None)


def set_thread_parent(parent: Any) -> Any:
    """Send this thread's output to ``parent``; returns a token for ``reset_thread_parent``."""
    token = thread_parent()
    _thread_parent.parent = parent
    return token


def reset_thread_parent(token: Any) -> None:
    """Undo ``set_thread_parent`` (``token`` is what it returned)."""
    _thread_parent.parent = token


def parent_of_write() -> Any:
    """Where output written here and now belongs: the thread's parent, else the request that
    started the running task or cell (None: whichever request is current when it is sent)."""
    parent = getattr(_thread_parent, "parent", None)
    return parent if parent is not None else request_parent.get()

_forked = False  # True in a child that user code forked from the kernel (os.fork)


def _mark_forked() -> None:
    global _forked
    _forked = True
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, OutStream):
            stream.write_to_fd()


def in_fork_child() -> bool:
    """True in a process forked from the kernel: it must not touch the kernel's sockets."""
    return _forked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_mark_forked)


class StreamSink:
    """The ordered buffer shared by stdout and stderr, and the flush that publishes it.

    ``parts`` holds stdout text as plain strings (the hot path: one ``append`` per write) and
    any other stream's text as ``(name, text)`` tuples, in the order written.
    """

    def __init__(self, emit: Emit):
        # str: stdout; (name, text): another stream; (name, text, parent): routed output
        self.parts: list[str | tuple[str, str] | tuple[str, str, Any]] = []
        self._emit = emit
        self._lock = threading.Lock()
        # False until output may belong to another request than the current one (a task or a
        # thread outlives its cell): only then does each write look up its parent
        self.routed = False

    def route(self) -> None:
        """From now on, tag each write with its parent (``parent_of_write``)."""
        if self.routed:
            return
        self.routed = True
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if isinstance(stream, OutStream) and stream._sink is self:
                stream.use_routing()

    def flush(self) -> None:
        """Publish everything written so far, in order, one message per run of a stream."""
        with self._lock:
            parts = self.parts
            count = len(parts)
            if not count:
                return
            taken = parts[:count]
            del parts[:count]
            try:
                text = "".join(taken)  # type: ignore[arg-type]
            except TypeError:  # another stream's text is in there: split into runs
                self._flush_runs(taken)
            else:
                self._publish("stdout", text)

    def _flush_runs(self, taken: list[str | tuple[str, str] | tuple[str, str, Any]]) -> None:
        name = "stdout"
        parent: Any = None
        chunk: list[str] = []
        for part in taken:
            if isinstance(part, str):
                part_name, text, part_parent = "stdout", part, None
            elif len(part) == 2:
                (part_name, text), part_parent = part, None  # type: ignore[misc]
            else:
                part_name, text, part_parent = part  # type: ignore[misc]
            if part_name != name or part_parent is not parent:
                if chunk:
                    self._publish(name, "".join(chunk), parent)
                name, parent, chunk = part_name, part_parent, []
            chunk.append(text)
        if chunk:
            self._publish(name, "".join(chunk), parent)

    def _publish(self, name: str, text: str, parent: Any = None) -> None:
        for start in range(0, len(text), MAX_MESSAGE_CHARS):
            self._emit(name, text[start : start + MAX_MESSAGE_CHARS], parent)


def _closed_append(text: object) -> None:
    raise ValueError("I/O operation on closed file.")


class OutStream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` in the kernel: text goes to the shared sink."""

    def __init__(self, name: str, sink: StreamSink, fd: int | None = None):
        super().__init__()
        self.name_ = name
        self._sink = sink
        self._fd = fd
        self._append: Callable[[str], None]
        if name == "stdout":
            self._append = sink.parts.append
        else:
            parts = sink.parts

            def append_tagged(text: str) -> None:
                parts.append((name, text))

            self._append = append_tagged
        if sink.routed:
            self.use_routing()

    def use_routing(self) -> None:
        """Tag each write with the request it belongs to (see ``StreamSink.route``)."""
        parts, name = self._sink.parts, self.name_

        def append_routed(text: str) -> None:
            parts.append((name, text, parent_of_write()))

        self._append = append_routed

    def _is_master_process(self) -> bool:
        """False in a process forked from the kernel (ipykernel's streams answer this too;
        code written for ipykernel, its own tests among it, asks)."""
        return not _forked

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
        """Buffer ``text`` (the hot path of ``print``: keep it this short)."""
        if text.__class__ is not str and not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._append(text)
        return len(text)

    def close(self) -> None:
        self._append = _closed_append  # type: ignore[assignment]
        super().close()

    def write_to_fd(self) -> None:
        """In a child forked by user code: the sink is the parent's (no thread here flushes
        it), so text goes straight to the inherited descriptor, which the parent captures."""
        fd = self._fd
        if fd is None or self.closed:
            return

        def write_fd(text: str) -> None:
            data = text.encode("utf-8", "replace")
            while data:
                data = data[os.write(fd, data) :]

        self._append = write_fd

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
        self._draining = False  # True while a drain runs (a re-entered one returns at once)
        self.readers: dict[int, tuple[str, codecs.IncrementalDecoder]] = {}
        self.original_stdout = os.dup(1)
        self.original_stderr = os.dup(2)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            os.dup2(write_end, fd)
            os.close(write_end)
            self.readers[read_end] = (name, codecs.getincrementaldecoder("utf-8")("replace"))
        self._poller: Any = None
        try:
            import select

            self._poller = select.poll()
            for read_end in self.readers:
                self._poller.register(read_end, select.POLLIN)
        except (ImportError, AttributeError, OSError):  # no poll(): read each pipe
            self._poller = None

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
            if self._draining:
                # the SIGIO handler interrupted a drain in this same thread: appending here
                # would put later text before the chunk the outer drain holds; it reads on
                return
            self._draining = True
            try:
                self._drain_locked()
            finally:
                self._draining = False

    def _drain_locked(self) -> None:
        if self._poller is not None and not self._poller.poll(0):
            return  # nothing written (one system call, where reading each pipe costs two)
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
                    self._sink.parts.append(text if name == "stdout" else (name, text))
                if len(data) < 1 << 16:
                    break
