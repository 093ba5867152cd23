"""The printer: writes rendered text to the terminal, batched per screen refresh.

Text is queued by ``write`` and flushed at most once per refresh interval, triggered by the
write itself (a timer only runs while something waits to be flushed: no polling). While a
prompt is on screen the text goes above it (prompt_toolkit's ``run_in_terminal``) so what the
user is typing stays intact; otherwise it is written straight to the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

REFRESH_INTERVAL = 1 / 60
PARTIAL_HOLD = 1.0
"""Seconds an unfinished line (a ``\r`` progress bar) waits above a live prompt for its end."""
FRAME_BYTES = 32 * 1024  # most text written above a live prompt per refresh


class Printer:
    """Batches text and writes it verbatim (ANSI and graphics escapes included)."""

    def __init__(self, stream: TextIO | None = None, interval: float = REFRESH_INTERVAL) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.interval = interval
        self._chunks: list[str] = []
        self._handle: asyncio.Handle | None = None
        self._last_flush = 0.0
        self._at_line_start = True
        self._app: Any = None
        self._held = False
        self._pending: set[Any] = set()
        self._watchers: list[Callable[[str], None]] = []
        self._partial = ""  # an unfinished line held back while a prompt is live
        self._partial_timer: asyncio.TimerHandle | None = None

    # -- modes ------------------------------------------------------------------------------

    def set_app(self, app: Any) -> None:
        """Print above this running prompt_toolkit application (None: write directly)."""
        if app is None and (self._chunks or self._partial):
            self._app = None
            self.flush()
        self._app = app

    def hold(self) -> None:
        """Queue without writing (while the prompt is still tearing down)."""
        self._held = True

    def release(self) -> None:
        """Write what was queued while held, and go on writing."""
        self._held = False
        if self._chunks:
            self.flush()

    def watch(self, watcher: Callable[[str], None]) -> None:
        """Call ``watcher`` with every text written (the output area counts rows with it)."""
        self._watchers.append(watcher)

    # -- writing ----------------------------------------------------------------------------

    def write(self, text: str) -> None:
        """Queue ``text``; it reaches the screen within one refresh interval."""
        if not text:
            return
        for watcher in self._watchers:
            watcher(text)
        self._chunks.append(text)
        if self._handle is not None or self._held:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        wait = self._last_flush + self.interval - loop.time()
        if wait <= 0:
            self._handle = loop.call_soon(self.flush)
        else:
            self._handle = loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Write everything queued now."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not (self._chunks or self._partial) or self._held:
            return
        text = self._partial + "".join(self._chunks)
        self._partial = ""
        self._chunks.clear()
        with contextlib.suppress(RuntimeError):
            self._last_flush = asyncio.get_running_loop().time()
        app = self._app
        if app is not None and getattr(app, "is_running", False):
            # While the user types, write at most a frame's worth per refresh (cut at a line
            # end) so a flood from another client never holds a keystroke's echo back.
            if len(text) > FRAME_BYTES:
                cut = text.rfind("\n", 0, FRAME_BYTES) + 1
                if cut > 0:
                    text, rest = text[:cut], text[cut:]
                    self._chunks.append(rest)
                    self._schedule()
            text = self._hold_partial(text)  # after the cut: the held tail is the newest text
            if not text:
                return
            self._write_above_prompt(app, text)
        else:
            self._raw(text)

    def _hold_partial(self, text: str) -> str:
        """Keep an unfinished last line back (the prompt sits below it); returns the rest.

        Above a prompt a line cannot be rewritten, so ``\r`` updates would each become a new
        line: only the line's latest state is kept, and it is written when its newline comes
        or after :data:`PARTIAL_HOLD` seconds without one.
        """
        cut = text.rfind("\n") + 1
        tail = text[cut:]
        if not tail:
            return text
        ret = tail.rfind("\r")
        if ret >= 0 and tail[ret + 1 :]:
            tail = tail[ret + 1 :]
        self._partial = tail
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._partial = ""
            return text
        if self._partial_timer is None:
            self._partial_timer = loop.call_later(PARTIAL_HOLD, self._release_partial)
        return text[:cut]

    def _release_partial(self) -> None:
        """The held line waited long enough: show its current state."""
        self._partial_timer = None
        if not self._partial:
            return
        app = self._app
        if app is not None and getattr(app, "is_running", False) and not self._held:
            text, self._partial = self._partial, ""
            self._write_above_prompt(app, text)
        else:
            self.flush()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._handle is None:
            self._handle = loop.call_later(self.interval, self.flush)

    def _raw(self, text: str) -> None:
        self._at_line_start = text.endswith("\n")
        self.stream.write(text)
        self.stream.flush()

    def _write_above_prompt(self, app: Any, text: str) -> None:
        from prompt_toolkit.application import run_in_terminal

        if not text.endswith("\n"):
            text += "\n"  # the prompt is redrawn below: never leave it mid-line

        def emit() -> None:
            self._raw(text)

        # run_in_terminal schedules itself; keep the future (the loop holds tasks weakly).
        fut = asyncio.ensure_future(run_in_terminal(emit, in_executor=False))
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)

    def ensure_line_start(self) -> None:
        """Flush, and end a partial last line so the next prompt starts in column 0."""
        self.flush()
        if not self._at_line_start:
            self._raw("\n")

    @property
    def at_line_start(self) -> bool:
        """True when the last character written ends a line."""
        return self._at_line_start and not self._chunks and not self._partial
