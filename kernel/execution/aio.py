"""The kernel's asyncio event loop: cells ``await`` on it, and the tasks they start live on.

As in ipykernel, ``asyncio.get_event_loop()`` in a cell is this loop (it becomes the thread's
current loop as soon as anything imports asyncio), a cell's top-level ``await`` runs on it, and
tasks a cell created keep running between cells while the kernel waits for its next request.
asyncio is imported only when user code (or a library) imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CellLoop:
    """One event loop for the life of the kernel, made when first needed."""

    def __init__(self) -> None:
        self.loop: Any = None

    def get(self) -> Any:
        """The loop (made now if needed), set as the main thread's current loop."""
        import asyncio

        loop = self.loop
        if loop is None or loop.is_closed():
            loop = self.loop = asyncio.new_event_loop()
        # asyncio.run() in a cell leaves no current loop behind: make ours current again
        asyncio.set_event_loop(loop)
        return loop

    def adopt(self, module: Any = None) -> None:
        """asyncio was imported: make our loop the current one, so that ``get_event_loop()``
        in a cell returns the loop that keeps running between cells (the main thread's only:
        an import in another thread leaves it to the next cell)."""
        import threading

        if threading.current_thread() is threading.main_thread():
            self.get()

    def run(self, coroutine: Any, watch: tuple[int, Callable[[], None]] | None = None) -> Any:
        """Run a cell's coroutine (top-level ``await``) to its end on the loop; meanwhile
        ``watch`` = (fd, callback) runs the callback whenever fd is readable."""
        loop = self.get()
        if watch is None:
            return loop.run_until_complete(coroutine)
        fd, callback = watch
        loop.add_reader(fd, callback)
        try:
            loop.call_soon(callback)  # what arrived before the reader was added
            return loop.run_until_complete(coroutine)
        finally:
            loop.remove_reader(fd)

    def pending(self) -> bool:
        """True if tasks or timed callbacks wait on the loop (so it must run between cells)."""
        loop = self.loop
        if loop is None or loop.is_closed() or loop.is_running():
            return False
        import asyncio

        if any(not task.done() for task in asyncio.all_tasks(loop)):
            return True
        return bool(getattr(loop, "_scheduled", None) or getattr(loop, "_ready", None))

    def run_until_readable(self, fd: int, ready: Callable[[], bool], limit: float) -> None:
        """Run the loop until ``ready()`` says a request waits (``fd`` becomes readable) or
        ``limit`` seconds passed; the caller then serves the request."""
        if ready():
            return
        loop = self.get()
        wake = loop.create_future()

        def check() -> None:
            if not wake.done() and ready():
                wake.set_result(None)

        def time_up() -> None:
            if not wake.done():
                wake.set_result(None)

        loop.add_reader(fd, check)
        timer = loop.call_later(limit, time_up)
        try:
            loop.call_soon(check)  # the socket may have become ready before the reader was added
            loop.run_until_complete(wake)
        finally:
            timer.cancel()
            loop.remove_reader(fd)
