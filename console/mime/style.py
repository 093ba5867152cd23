"""Text styles and their ANSI SGR codes at a given colour depth, plus display-width helpers.

Every renderer builds lines out of ``(text, Style)`` pieces; this module turns them into escape
sequences for "truecolor", "256", "16" or "mono" terminals.  Each painted line ends with a reset,
so lines can be cut, indented or interleaved without colour bleeding.
"""

from __future__ import annotations

import colorsys
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

RGB = tuple[int, int, int]

COLOR_DEPTHS: tuple[str, ...] = ("truecolor", "256", "16", "mono")
RESET = "\x1b[0m"


@dataclass(frozen=True)
class Style:
    """Foreground/background colour and attributes of a run of text."""

    fg: RGB | None = None
    bg: RGB | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    raw: bool = False  # the text carries its own escapes (a picture): written as is

    def merge(self, other: Style) -> Style:
        """This style with ``other`` laid on top (other's colours win, attributes add up)."""
        return replace(
            self,
            fg=other.fg or self.fg,
            bg=other.bg or self.bg,
            bold=self.bold or other.bold,
            dim=self.dim or other.dim,
            italic=self.italic or other.italic,
            underline=self.underline or other.underline,
            strike=self.strike or other.strike,
        )


PLAIN = Style()
DIM = Style(dim=True)
RAW = Style(raw=True)

Piece = tuple[str, Style]
"""A run of text in one style; a line is a list of pieces."""

_CUBE = (0, 95, 135, 175, 215, 255)


def _dist(a: RGB, b: RGB) -> int:
    # weighted Euclidean distance: a cheap approximation of perceived difference
    dr, dg, db = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return 2 * dr * dr + 4 * dg * dg + 3 * db * db


def _cube_index(v: int) -> int:
    return 0 if v < 48 else 1 if v < 115 else (v - 35) // 40


@lru_cache(maxsize=65536)
def rgb_to_256(rgb: RGB) -> int:
    """Nearest xterm 256-colour palette index (colour cube or grey ramp) for an RGB colour."""
    r, g, b = rgb
    ri, gi, bi = _cube_index(r), _cube_index(g), _cube_index(b)
    cube = (_CUBE[ri], _CUBE[gi], _CUBE[bi])
    cube_idx = 16 + 36 * ri + 6 * gi + bi
    avg = (r + g + b) // 3
    gi2 = 23 if avg > 238 else max(0, (avg - 3) // 10)
    grey_v = 8 + 10 * gi2
    grey = (grey_v, grey_v, grey_v)
    return 232 + gi2 if _dist(grey, rgb) < _dist(cube, rgb) else cube_idx


@lru_cache(maxsize=65536)
def rgb_to_16(rgb: RGB) -> int:
    """The closest of the 16 ANSI colours (0-15) by hue, for greys by lightness.

    Matching by hue keeps a yellowish code colour yellow rather than grey, which plain RGB
    distance to xterm's palette would pick.
    """
    r, g, b = rgb
    hi, lo = max(rgb), min(rgb)
    light = (hi + lo) // 2
    if hi - lo < 48 or (hi < 60):
        if light < 50:
            return 0
        if light < 150:
            return 8
        return 7 if light < 220 else 15
    h, _, _ = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
    # hue sextants: red, yellow, green, cyan, blue, magenta -> ANSI 1, 3, 2, 6, 4, 5
    sextant = round(h * 6) % 6
    base = (1, 3, 2, 6, 4, 5)[sextant]
    return base + 8 if light >= 128 else base


def _color_codes(rgb: RGB, depth: str, background: bool) -> str:
    if depth == "truecolor":
        return f"{48 if background else 38};2;{rgb[0]};{rgb[1]};{rgb[2]}"
    if depth == "256":
        return f"{48 if background else 38};5;{rgb_to_256(rgb)}"
    idx = rgb_to_16(rgb)
    base = (40 if background else 30) if idx < 8 else (100 if background else 90)
    return str(base + idx % 8)


@lru_cache(maxsize=4096)
def sgr(style: Style, depth: str) -> str:
    """The SGR escape that switches to ``style`` ("" for the plain style)."""
    codes: list[str] = []
    if style.bold:
        codes.append("1")
    if style.dim:
        codes.append("2")
    if style.italic:
        codes.append("3")
    if style.underline:
        codes.append("4")
    if style.strike:
        codes.append("9")
    if depth != "mono":
        if style.fg is not None:
            codes.append(_color_codes(style.fg, depth, False))
        if style.bg is not None:
            codes.append(_color_codes(style.bg, depth, True))
    return f"\x1b[{';'.join(codes)}m" if codes else ""


def paint(text: str, style: Style, depth: str) -> str:
    """``text`` in ``style``, followed by a reset when any code was emitted."""
    code = sgr(style, depth)
    return f"{code}{text}{RESET}" if code else text


def render_line(pieces: Iterable[Piece], depth: str) -> str:
    """Join styled pieces into one terminal line (adjacent pieces of equal style merged)."""
    out: list[str] = []
    cur: Style | None = None
    buf: list[str] = []
    for text, style in pieces:
        if not text:
            continue
        if style.raw:
            if buf:
                out.append(paint("".join(buf), cur or PLAIN, depth))
                buf, cur = [], None
            out.append(text)
            continue
        if style != cur and buf:
            out.append(paint("".join(buf), cur or PLAIN, depth))
            buf = []
        cur = style
        buf.append(text)
    if buf:
        out.append(paint("".join(buf), cur or PLAIN, depth))
    return "".join(out)


def dim_line(text: str, depth: str) -> str:
    """A one-line note in the dim style."""
    return paint(text, DIM, depth)


@lru_cache(maxsize=8192)
def char_width(ch: str) -> int:
    """Columns one character takes (0 for combining and control characters, 2 for wide)."""
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0f":
        return 0
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns ``text`` (without escapes) takes in a terminal."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(char_width(c) for c in text)


def strip_ansi(text: str) -> str:
    """``text`` without CSI/OSC/APC/DCS escape sequences (for tests and width checks)."""
    return _ANSI_RE.sub("", text) if "\x1b" in text else text


_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]_P^][^\x07\x1b]*(?:\x07|\x1b\\)")
