"""The printer: writes rendered text to the terminal, batched per screen refresh.

Text is queued by ``write`` and flushed at most once per refresh interval, triggered by the
write itself (a timer only runs while something waits to be flushed: no polling). While no
prompt is on screen (our own cell runs) everything is written straight to the terminal.

While a prompt is on screen the text goes above it, and the terminal stays in raw mode: the
prompt is erased, the text written, the prompt redrawn, all in one step of the event loop, so a
key typed meanwhile is neither echoed by the tty driver nor held back. At most a frame's worth
(:data:`FRAME_LINES` lines, :data:`FRAME_BYTES` characters) is written per refresh, the rest
waits for the next; a backlog beyond :data:`BACKLOG_LINES` lines (another client flooding the
kernel) keeps only its newest lines, and the next frame starts with a one-line note saying how
many lines were skipped. Nobody reads 60 screens a second; the user's keys come first.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

REFRESH_INTERVAL = 1 / 60
_TRAILING_SGR = re.compile(r"(?:\x1b\[[0-9;]*m)+$")  # colour resets after a line's newline
PARTIAL_HOLD = 1.0
"""Seconds an unfinished line (a ``\r`` progress bar) waits above a live prompt for its end."""
FRAME_LINES = 60
"""Most lines written above a live prompt per refresh."""
FRAME_BYTES = 8 * 1024
"""Most characters written above a live prompt per refresh (a longer line goes whole)."""
BACKLOG_LINES = 240
"""Most lines waiting to go above a live prompt; older ones are skipped, with a note."""
BACKLOG_BYTES = 64 * 1024
"""Most characters waiting to go above a live prompt (the newest line is always kept)."""


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
        self._skipped = 0  # lines dropped from the backlog since the last frame
        self.style_note: Callable[[str], str] = lambda text: text
        """How a note of the printer's own looks (set by the console: dim)."""

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

    @property
    def queued(self) -> bool:
        """Whether text still waits for a later frame."""
        return bool(self._chunks) or self._handle is not None

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
            frame, rest = self._next_frame(self._trim_backlog(text))
            if rest:
                self._chunks.append(rest)  # the next refresh writes the next frame
                self._schedule()
            else:
                frame = self._hold_partial(frame)  # the held tail is the newest, unfinished line
            if frame:
                self._write_above_prompt(app, self._skip_note() + frame)
        else:
            self._raw(self._skip_note() + text)

    def _skip_note(self) -> str:
        """The line saying how many lines were skipped since the last frame ('' if none)."""
        if not self._skipped:
            return ""
        skipped, self._skipped = self._skipped, 0
        word = "line" if skipped == 1 else "lines"
        note = f"… {skipped:,} {word} skipped (output came faster than the screen can show it)"
        return self.style_note(note) + "\n"

    def _trim_backlog(self, text: str) -> str:
        """Keep the newest :data:`BACKLOG_LINES` whole lines of ``text`` (and its unfinished
        end); the older ones are counted as skipped."""
        end = text.rfind("\n") + 1
        if len(text) <= BACKLOG_BYTES and text.count("\n") <= BACKLOG_LINES:
            return text
        lines = text[: end - 1].split("\n") if end else []
        keep = min(len(lines), BACKLOG_LINES)
        size = sum(len(line) + 1 for line in lines[len(lines) - keep :])
        while keep > 1 and size > BACKLOG_BYTES:
            size -= len(lines[len(lines) - keep]) + 1
            keep -= 1
        self._skipped += len(lines) - keep
        kept = lines[len(lines) - keep :]
        return ("\n".join(kept) + "\n" if kept else "") + text[end:]

    @staticmethod
    def _next_frame(text: str) -> tuple[str, str]:
        """Split ``text`` into what the next refresh writes (whole lines) and the rest."""
        if len(text) <= FRAME_BYTES and text.count("\n") <= FRAME_LINES:
            return text, ""
        limit = min(len(text), FRAME_BYTES)
        pos = 0
        for _ in range(FRAME_LINES):
            nl = text.find("\n", pos, limit)
            if nl < 0:
                break
            pos = nl + 1
        if pos == 0:  # the first line alone is longer than a frame: it goes whole
            nl = text.find("\n")
            pos = nl + 1 if nl >= 0 else len(text)
        return text[:pos], text[pos:]

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._handle is None:
            self._handle = loop.call_later(self.interval, self.flush)

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

    def _raw(self, text: str) -> None:
        if text:
            self._at_line_start = _TRAILING_SGR.sub("", text[-64:]).endswith("\n")
        self.stream.write(text)
        self.stream.flush()

    def _write_above_prompt(self, app: Any, text: str) -> None:
        """Erase the prompt, write ``text``, redraw the prompt below it, without cooked mode."""
        if not text.endswith("\n"):
            text += "\n"  # the prompt is redrawn below: never leave it mid-line
        if getattr(app, "_running_in_terminal", False) or not hasattr(app, "renderer"):
            self._in_terminal(app, text)  # something else owns the terminal: wait our turn
            return
        app.renderer.erase(leave_alternate_screen=False)
        self._raw(text)
        request = getattr(app, "_request_absolute_cursor_position", None)
        if request is not None:
            request()  # as after run_in_terminal: the rows below the prompt are measured anew
        app.invalidate()  # the erased renderer draws the whole prompt anew, below the text

    def _in_terminal(self, app: Any, text: str) -> None:
        from prompt_toolkit.application import run_in_terminal

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
