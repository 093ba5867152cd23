"""A stream's text as a notebook shows it, for the saved notebook.

A terminal and a notebook both show a stream's last state, not every byte of it: ``\\r`` returns
to the line's start and later text overwrites what is there (what is left of a longer line stays,
as in JupyterLab's output area), ``\\b`` steps one column back, and "erase in line" (``ESC[K``)
erases. Colour (SGR, ``ESC[...m``) is kept: Jupyter renders it. Every other control sequence
(clear screen, cursor up/down, cursor save and restore, window titles, the bell) is dropped: a
notebook's output has no screen or cursor for them to act on, and Jupyter's renderers drop them.
"""

from __future__ import annotations

import itertools
import re

RESET = "\x1b[0m"
_CONTROL = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"  # CSI: parameters, final byte (m: colour; K: erase in line...)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window title, hyperlink
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-OQ-WYZ\\`a-~]"  # other escapes: ESC c (reset), ESC 7 / ESC 8 (cursor save)...
    r"|[\r\n\x08\x07]"
)
_SPECIAL = re.compile(r"[\r\x08\x07\x1b]")  # text without these is lines and nothing else
_PARTIAL_MAX = 512  # characters an escape sequence split across two messages may hold back
_STATE_MAX = 256  # characters of colour state kept (a stream that never resets stays bounded)


class NotebookStreamText:
    """Feeds of one stream output in, the text a notebook shows out (``shown_lines()``).

    Finished lines are final (no control sequence here moves up); the last line stays editable
    until a newline ends it, so a ``\\r`` in a later message still overwrites it.
    """

    def __init__(self) -> None:
        self._done: list[str] = []  # finished lines, each with its newline
        self._chars: list[str] = []  # the open line, one character per column
        self._colours: list[str] = []  # the colour state of each of those columns
        self._cursor = 0
        self._colour = ""  # the SGR sequences in force (since the last reset)
        self._partial = ""  # an escape sequence cut off at the end of the last message

    def feed(self, text: str) -> None:
        """Add one stream message's text."""
        text, self._partial = self._partial + text, ""
        if "\n" in text and not _SPECIAL.search(text):  # plain lines (most output): no rewriting
            first, *middle, last = text.split("\n")
            self._write(first)
            self._end_line()
            colour = self._colour
            self._done.extend((colour + line + RESET if colour and line else line) + "\n" for line in middle)
            self._write(last)
            return
        start = 0
        for match in _CONTROL.finditer(text):
            self._write(text[start:match.start()])
            start = match.end()
            self._control(match)
        rest = text[start:]
        escape = rest.find("\x1b")
        if escape >= 0 and len(rest) - escape <= _PARTIAL_MAX:
            rest, self._partial = rest[:escape], rest[escape:]  # completed by the next message
        self._write(rest)

    def shown_lines(self) -> list[str]:
        """The text as nbformat keeps it: a list of lines (the open one last, if not empty)."""
        return self._done + [self._render_open()] if self._chars else list(self._done)

    def _write(self, text: str) -> None:
        text = text.replace("\x1b", "")  # a stray escape that starts no sequence we know
        if not text:
            return
        if self._cursor > len(self._chars):
            missing = self._cursor - len(self._chars)
            self._chars.extend(" " * missing)
            self._colours.extend([""] * missing)
        end = self._cursor + len(text)
        self._chars[self._cursor:end] = text
        self._colours[self._cursor:end] = [self._colour] * len(text)
        self._cursor = end

    def _control(self, match: re.Match[str]) -> None:
        token = match.group(0)
        if token == "\n":
            self._end_line()
        elif token == "\r":
            self._cursor = 0
        elif token == "\x08":
            self._cursor = max(0, self._cursor - 1)
        elif match.group(2) == "m":
            self._set_colour(token, match.group(1))
        elif match.group(2) in ("K", "C", "D", "G"):
            self._move_or_erase(match.group(2), match.group(1))

    def _end_line(self) -> None:
        self._done.append(self._render_open() + "\n")
        self._chars, self._colours, self._cursor = [], [], 0

    def _set_colour(self, sequence: str, parameters: str) -> None:
        if parameters in ("", "0"):
            self._colour = ""
        elif parameters.startswith("0;"):
            self._colour = sequence
        else:
            colour = self._colour + sequence
            if len(colour) > _STATE_MAX:  # keep the latest whole sequences
                start = colour.find("\x1b", len(colour) - _STATE_MAX)
                colour = colour[start:] if start >= 0 else sequence
            self._colour = colour

    def _move_or_erase(self, final: str, parameters: str) -> None:
        """Erase in line (K) and the moves within a line (C right, D left, G to a column)."""
        number = int(parameters) if parameters.isdigit() else 0
        if final == "K":
            if number == 0:  # to the end of the line
                del self._chars[self._cursor:], self._colours[self._cursor:]
            elif number == 1:  # from the start to the cursor, inclusive
                width = min(self._cursor + 1, len(self._chars))
                self._chars[:width], self._colours[:width] = [" "] * width, [""] * width
            elif number == 2:  # the whole line (the cursor stays where it is)
                self._chars, self._colours = [], []
        elif final == "C":
            self._cursor += max(number, 1)
        elif final == "D":
            self._cursor = max(0, self._cursor - max(number, 1))
        else:
            self._cursor = max(number, 1) - 1

    def _render_open(self) -> str:
        """The open line, its colours opened where they change and closed at its end (a line
        stands on its own, so finished lines never need their neighbours)."""
        if not any(self._colours):
            return "".join(self._chars)
        out: list[str] = []
        shown = ""
        for colour, cells in itertools.groupby(zip(self._colours, self._chars, strict=True), key=lambda cell: cell[0]):
            if colour != shown:
                out.append((RESET if shown else "") + colour)
                shown = colour
            out.append("".join(char for _, char in cells))
        if shown:
            out.append(RESET)
        return "".join(out)
