"""The output area: where a cell's output goes, and what of it can still be redrawn.

While one of our cells runs, everything it prints is written straight to the terminal and also
remembered (bounded) as a list of blocks. An ``update_display_data`` for a display still on
screen moves the cursor up to that display and redraws it and what followed; ``clear_output``
erases the cell's output the same way (with ``wait=True`` only when the next output comes).
A display that has scrolled away, or one updated while the prompt is up, is printed anew under a
one-line dim note.

Huge output is cut: past :data:`STREAM_CHARS` characters or :data:`STREAM_LINES` lines of one
cell's streams, the rest goes to a file only, and the cell ends with a note saying how much was
left out and how to see it all (``%mycon page``, or the file). The last image shown is kept for
``%mycon save`` and ``%mycon view`` (see ``console.console_commands``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console import parallel_output, render
from console.mime.text import MAX_CHARS, MAX_LINES, human_size, screen_rows

STREAM_CHARS = 32_000_000
"""Characters of one cell's streams shown before the rest goes to a file only (32 MB)."""
STREAM_LINES = 1_000_000
"""Lines of one cell's streams shown before the rest goes to a file only."""
SPOOL_CHARS = 256_000_000
"""Most characters of one cell's output kept in its file (a cell printing forever fills no disk)."""
REGION_CHARS = 256 * 1024
"""Most text remembered for redrawing (older blocks are forgotten: they scrolled away)."""

CUT_HINT = "%mycon page shows it all"
IMAGE_HINT = "[%mycon save keeps the last image, %mycon view opens it]"
PX_ERROR_HOLD = 0.5
"""Seconds another client's engine errors wait for more engines' before being shown folded."""
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")

@dataclass
class _Block:
    """Text written to the terminal in one piece; ``display_id`` when it is a display."""

    text: str
    display_id: str | None = None


def _is_image_bundle(data: Any) -> str | None:
    if not isinstance(data, Mapping):
        return None
    for mime in IMAGE_TYPES:
        if mime in data:
            return mime
    return None


def _plain_text(data: Any) -> str:
    value = data.get("text/plain", "") if isinstance(data, Mapping) else ""
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


class OutputArea:
    """Writes iopub output through ``write`` and keeps what is needed to redraw it in place."""

    def __init__(
        self,
        write: Callable[[str], None],
        options: Callable[[], render.RenderOptions],
        rows: Callable[[], int],
        spool_dir: str | None = None,
    ) -> None:
        self._write = write
        self._options = options
        self._rows = rows
        self._spool_dir = spool_dir
        self._blocks: list[_Block] = []
        self._region_chars = 0
        self._trimmed = False
        self._region_width = 0
        self._forget()
        self._live = False  # a cell of ours runs: redrawing in place is allowed
        self._col0 = True
        self._writing = False
        self._hinted = False
        self._clear_pending = False
        # cutting huge stream output
        self._shown_chars = 0
        self._shown_lines = 0
        self._cut = False
        self._head: list[str] = []
        self._spool: Any = None
        self._spool_chars = 0
        self._spool_lines = 0
        self.full_output: str | None = None  # file holding the last cut output in full
        self.last_image: tuple[str, Any] | None = None  # (mime, payload)
        self._px_errors = parallel_output.EngineErrorFolder(options)
        self._px_release: asyncio.TimerHandle | None = None

    # -- cell boundaries ------------------------------------------------------------------

    def begin_cell(self) -> None:
        """A cell of ours starts at column 0 of a fresh line: its output may be redrawn."""
        self._release_px_errors()
        self._forget()
        self._live = True
        self._col0 = True
        self._shown_chars = self._shown_lines = 0
        self._cut = False
        self._head = []

    def end_cell(self) -> None:
        """The cell is over; the prompt comes next, so nothing above it is redrawn any more."""
        self._release_px_errors()
        self._live = False
        self._clear_pending = False
        self._forget()
        if self._cut:
            self._finish_cut()
        self._head = []
        self._cut = False

    def _forget(self) -> None:
        self._blocks = []
        self._region_chars = 0
        self._trimmed = False  # the oldest text was forgotten: the region's start is unknown
        self._region_width = self._options().width

    # -- messages -------------------------------------------------------------------------

    def show(self, msg: Mapping[str, Any], live: bool = True) -> None:
        """Write one iopub message; ``live`` when it belongs to the running cell of ours."""
        header = msg.get("header") or {}
        msg_type = header.get("msg_type") or msg.get("msg_type")
        content = msg.get("content") or {}
        live = live and self._live
        if msg_type == "clear_output":
            if live:
                if content.get("wait"):
                    self._clear_pending = True
                else:
                    self._clear()
            return
        if msg_type not in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            return
        options = self._options()
        if live and self._clear_pending:
            self._clear_pending = False
            self._clear()
        transient = content.get("transient") or {}
        display_id = transient.get("display_id") if isinstance(transient, Mapping) else None
        display_id = display_id if isinstance(display_id, str) else None
        data = content.get("data") or {}
        mime = _is_image_bundle(data)
        if mime is not None:
            self.last_image = (mime, data[mime])
        if msg_type == "stream":
            name, raw = str(content.get("name", "")), str(content.get("text", ""))
            if self._px_errors.take(name, raw):
                self._px_timer(live)
                return
            self._release_px_errors()
            if parallel_output.has_engine_label(raw):
                self._stream(parallel_output.render_engine_stream(raw, options), live)
            else:
                self._stream(render.render_stream(content, options), live)
            return
        self._release_px_errors()
        if msg_type == "error" and content.get("ename") == parallel_output.ALREADY_DISPLAYED:
            text = parallel_output.render_already_displayed(str(content.get("evalue", "")), options)
        else:
            text = parallel_output.color_labels(render.render_iopub(msg, options), options)
        if mime is not None and not self._hinted and msg_type != "update_display_data":
            self._hinted = True  # once per session: how to keep or open an image
            text += render.style(IMAGE_HINT, render.DIM, options) + "\n"
        if msg_type in ("display_data", "execute_result") and self._too_big(data):
            text += self._save_full(_plain_text(data), options)
        if msg_type == "update_display_data":
            if display_id is None:
                return
            if live and self._redraw(display_id, text):
                return
            note = f"[display {display_id} updated; its earlier version is above]"
            text = render.style(note, render.DIM, options) + "\n" + text
        self._block(text, display_id if live else None)

    # -- parallel (%px) errors ----------------------------------------------------------

    def _px_timer(self, live: bool) -> None:
        """Held engine errors of another client's cell are shown after PX_ERROR_HOLD seconds
        even if nothing follows them (ours at the latest when the cell ends)."""
        if live or self._px_release is not None:
            return
        with contextlib.suppress(RuntimeError):
            self._px_release = asyncio.get_running_loop().call_later(PX_ERROR_HOLD, self._release_px_errors)

    def _release_px_errors(self) -> None:
        """Show the engines' error blocks held so far, identical ones folded."""
        if self._px_release is not None:
            self._px_release.cancel()
            self._px_release = None
        if self._px_errors.holding:
            self._stream(self._px_errors.release(), self._live)

    # -- writing --------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        if text:
            self._writing = True
            try:
                self._write(text)
            finally:
                self._writing = False
            self._col0 = text.endswith("\n")

    def seen(self, text: str) -> None:
        """Text someone else wrote to the same terminal (another client's output, a note).

        Counted so the rows between a display and the cursor stay right.
        """
        if self._writing or not text:
            return
        self._remember(text, None)
        self._col0 = text.endswith("\n")

    def _block(self, text: str, display_id: str | None) -> None:
        """A display, result or error: always starts at column 0."""
        if not text:
            return
        if not self._col0:
            self._remember("\n", None)
            self._emit("\n")
        self._remember(text, display_id)
        self._emit(text)

    def _remember(self, text: str, display_id: str | None) -> None:
        if not self._live:
            return
        if display_id is None and self._blocks and self._blocks[-1].display_id is None:
            self._blocks[-1].text += text
        else:
            self._blocks.append(_Block(text, display_id))
        self._region_chars += len(text)
        while self._region_chars > REGION_CHARS and self._blocks:
            # the oldest text has long scrolled away; a huge last block is forgotten too
            self._region_chars -= len(self._blocks.pop(0).text)
            self._trimmed = True

    def _offset(self, index: int) -> int | None:
        """Rows from the first row of block ``index`` to the cursor, None when off screen."""
        width = self._options().width
        if width != self._region_width:
            return None  # the terminal was resized: rows counted before no longer hold
        text = "".join(b.text for b in self._blocks[index:])
        if text.count("\n") >= self._rows():
            return None  # scrolled away for sure; no need to measure
        rows = screen_rows(text, width)
        if rows is None:
            return None
        offset = rows - 1
        return offset if offset < self._rows() - 1 else None

    def _redraw(self, display_id: str, text: str) -> bool:
        """Redraw every on-screen block of ``display_id`` with ``text``; False if none is."""
        indexes = [i for i, b in enumerate(self._blocks) if b.display_id == display_id]
        if not indexes:
            return False
        offset = self._offset(indexes[0])
        if offset is None:
            return False
        for i in indexes:
            self._blocks[i].text = text
        self._region_chars = sum(len(b.text) for b in self._blocks)
        tail = "".join(b.text for b in self._blocks[indexes[0] :])
        up = f"\x1b[{offset}A" if offset else ""
        self._emit("\r" + up + "\x1b[J" + tail)
        return True

    def _clear(self) -> None:
        """Erase the running cell's output (in place when all of it is still on screen)."""
        if not self._blocks:
            return
        offset = None if self._trimmed else self._offset(0)
        self._forget()
        if offset is None:
            self._emit(render.style("[output cleared]", render.DIM, self._options()) + "\n")
        else:
            self._emit("\r" + (f"\x1b[{offset}A" if offset else "") + "\x1b[J")
        self._col0 = True

    # -- huge output ----------------------------------------------------------------------

    def _stream(self, text: str, live: bool) -> None:
        if not text:
            return
        if not live:
            self._remember(text, None)
            self._emit(text)
            return
        if self._cut:
            self._to_spool(text)
            return
        lines = text.count("\n")
        if (
            self._shown_chars + len(text) <= STREAM_CHARS
            and self._shown_lines + lines <= STREAM_LINES
        ):
            self._shown_chars += len(text)
            self._shown_lines += lines
            self._head.append(text)
            self._remember(text, None)
            self._emit(text)
            return
        # Show up to the limit (cut at a line end), the rest only in the file.
        room_chars = STREAM_CHARS - self._shown_chars
        room_lines = STREAM_LINES - self._shown_lines
        end = min(len(text), max(0, room_chars))
        pos = -1
        for _ in range(max(0, room_lines)):
            pos = text.find("\n", pos + 1, end)
            if pos < 0:
                break
        else:
            end = pos + 1 if room_lines > 0 else 0
        if end < len(text) and end > 0:
            cut = text.rfind("\n", 0, end)
            end = cut + 1 if cut >= 0 else end
        shown = text[:end]
        self._shown_chars += len(shown)
        self._shown_lines += shown.count("\n")
        self._emit(shown)
        self._remember(shown, None)
        self._cut = True
        self._open_spool()
        self._to_spool(text)

    def _open_spool(self) -> None:
        try:
            fd, path = tempfile.mkstemp(prefix="mycon-output-", suffix=".txt", dir=self._spool_dir)
            self._spool = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
            self._keep_file(path)
            for chunk in self._head:
                self._spool.write(chunk)
        except OSError:
            self._spool = None
        self._spool_chars = sum(len(c) for c in self._head)
        self._spool_lines = sum(c.count("\n") for c in self._head)
        self._head = []

    def _to_spool(self, text: str) -> None:
        room = SPOOL_CHARS - self._spool_chars
        self._spool_chars += len(text)
        self._spool_lines += text.count("\n")
        if self._spool is not None and room > 0:
            try:
                self._spool.write(text[:room])
            except OSError:
                self._spool = None

    def _keep_file(self, path: str) -> None:
        """``path`` now holds the last cut output; the file of the one before goes."""
        old, self.full_output = self.full_output, path
        if old and old != path:
            try:
                os.unlink(old)
            except OSError:
                pass

    def _finish_cut(self) -> None:
        options = self._options()
        where = ""
        if self._spool is not None:
            try:
                self._spool.close()
                where = f"; {CUT_HINT} (saved in {self.full_output})"
                if self._spool_chars > SPOOL_CHARS:
                    where += f"; the file holds the first {human_size(SPOOL_CHARS)}"
            except OSError:
                pass
            self._spool = None
        if not where:
            self.full_output = None
            where = "; it could not be saved to a file"
        left = self._spool_chars - self._shown_chars
        left_lines = self._spool_lines - self._shown_lines
        note = (
            f"… output cut: {left_lines:,} more lines not shown "
            f"({human_size(left)} of {human_size(self._spool_chars)}){where}"
        )
        prefix = "" if self._col0 else "\n"
        self._emit(prefix + render.style(note, render.DIM, options) + "\n")

    @staticmethod
    def _too_big(data: Any) -> bool:
        text = _plain_text(data)
        if len(text) > MAX_CHARS:
            return True
        return text.count("\n", 0, MAX_CHARS) >= MAX_LINES

    def _save_full(self, text: str, options: render.RenderOptions) -> str:
        """Keep a cut value's whole text/plain in a file; a dim line saying where."""
        try:
            fd, path = tempfile.mkstemp(prefix="mycon-output-", suffix=".txt", dir=self._spool_dir)
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
                f.write(text)
        except OSError:
            return ""
        self._keep_file(path)
        return render.style(f"[{CUT_HINT} (saved in {path})]", render.DIM, options) + "\n"
