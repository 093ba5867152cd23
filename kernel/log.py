"""The kernel's own log: one line per event, to the terminal the kernel was started from.

User output is captured into iopub; this log goes to the original stderr, kept aside before
capture starts (see ``iostream.FdCapture``). ``MYCON_KERNEL_LOG=quiet`` silences it.
"""

from __future__ import annotations

import os
import time

_log_fd = 2
_quiet = os.environ.get("MYCON_KERNEL_LOG", "") == "quiet"


def set_log_fd(fd: int) -> None:
    """Send the log to ``fd`` (the original stderr once capture has started)."""
    global _log_fd
    _log_fd = fd


def log(message: str, exc: BaseException | None = None) -> None:
    """Write one log line (and a traceback for ``exc``); never raises."""
    if _quiet:
        return
    stamp = time.strftime("%H:%M:%S")
    text = f"[mycon kernel {stamp}] {message}\n"
    if exc is not None:
        import traceback

        text += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        os.write(_log_fd, text.encode("utf-8", "replace"))
    except OSError:
        pass
