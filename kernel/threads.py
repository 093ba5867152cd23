"""The kernel's helper threads: none of them takes a signal meant for the main thread.

A process-directed SIGINT or SIGTERM that lands on a helper thread runs the Python handler
only when the main thread next executes bytecode; a main thread blocked in a socket receive
would not wake for it. Helper threads therefore block both signals before doing anything.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


def block_signals_in_this_thread() -> None:
    """Leave SIGINT and SIGTERM to the main thread (its user code and its serving loop)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def start_helper(target: Callable[..., Any], *args: Any, name: str) -> threading.Thread:
    """Start a daemon thread running ``target(*args)`` with the signals blocked."""

    def run() -> None:
        block_signals_in_this_thread()
        target(*args)

    thread = threading.Thread(target=run, name=name, daemon=True)
    # the kernel's own machinery, never user code: debugpy (the visual debugger) must neither
    # trace these threads nor suspend them when user code stops at a breakpoint
    thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
    thread.start()
    return thread
