"""Bounding huge text: cut to a number of lines and characters, with a note of what was left."""

from __future__ import annotations

import re

MAX_LINES = 1000
"""Lines of one output shown before it is cut."""
MAX_CHARS = 200_000
"""Characters of one output shown before it is cut."""


def human_size(n: int) -> str:
    """``n`` bytes/characters in words: 512 B, 3.4 kB, 98.2 MB."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


_ESCAPE_END = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]_P^][^\x07\x1b]*(?:\x07|\x1b\\)|[ -~])")


def _outside_escape(text: str, end: int) -> int:
    """``end`` moved back to before an escape sequence it would cut in half.

    A cut inside an OSC/APC/DCS string (an inline image) would leave the terminal swallowing
    everything after it.
    """
    start = text.rfind("\x1b", max(0, end - 1_000_000), end)
    if start < 0:
        return end
    m = _ESCAPE_END.match(text, start)
    return end if m is not None and m.end() <= end else start


def truncate_text(
    text: str, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS, hint: str = ""
) -> tuple[str, str | None]:
    """Cut ``text`` to at most ``max_lines`` lines and ``max_chars`` characters.

    Returns ``(kept, note)``: ``note`` is None when nothing was cut, else one line saying how much
    was left out (lines and size), followed by ``hint`` (how to see it all) when given.  Runs in
    time proportional to what is kept plus one ``count`` over the text, so a 100 MB string is fine.
    """
    max_lines = max(1, max_lines)
    max_chars = max(1, max_chars)
    end = min(len(text), max_chars)
    pos = -1
    for _ in range(max_lines):
        pos = text.find("\n", pos + 1, end)
        if pos < 0:
            break
    else:
        end = pos  # max_lines complete lines found before the char limit
    if end >= len(text):
        return text, None
    end = _outside_escape(text, end)
    kept = text[:end]
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    kept_lines = kept.count("\n") + 1
    rest_lines = total_lines - kept_lines
    cut_mid_line = text[end] != "\n"
    kept = kept.rstrip("\n")
    parts = []
    if cut_mid_line:
        parts.append("the rest of a long line")
    if rest_lines > 0:
        parts.append(f"{rest_lines:,} more line{'s' if rest_lines != 1 else ''}")
    note = (
        f"… output cut: {' and '.join(parts)} not shown "
        f"({human_size(len(text) - end)} of {human_size(len(text))})"
    )
    if hint:
        note += f"; {hint}"
    return kept, note


_GRAPHICS_ESCAPES = ("\x1b_G", "\x1b]1337;File", "\x1bP")


def screen_rows(text: str, width: int) -> int | None:
    """Terminal rows ``text`` takes when written at column 0 of a ``width``-column terminal.

    For redrawing an output in place (cursor up that many rows).  None when the text holds an
    inline image (kitty, iTerm2, sixel), whose height only the terminal knows.
    """
    from .style import strip_ansi, text_width

    if any(esc in text for esc in _GRAPHICS_ESCAPES):
        return None
    width = max(1, width)
    rows = 0
    for line in strip_ansi(text).split("\n"):
        widest = max(text_width(seg.expandtabs(8)) for seg in line.split("\r"))
        rows += max(1, -(-widest // width))
    return rows
