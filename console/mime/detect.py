"""Guess a terminal's graphics protocol and colour depth from its environment.

Pure functions of an environment mapping.  A console may refine the guess with a bounded terminal
query: :data:`GRAPHICS_QUERY` is what to write and :func:`parse_graphics_reply` reads the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

GRAPHICS_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[c"
"""Asks for kitty graphics support (an APC answer) then the primary device attributes (DA1).

Every terminal answers DA1, so the console can stop reading at the DA1 reply's final ``c``.
"""


def detect_graphics(env: Mapping[str, str]) -> str:
    """Best graphics mode for this terminal: kitty, iterm, sixel, blocks or none."""
    term = env.get("TERM", "").lower()
    program = env.get("TERM_PROGRAM", "").lower()
    if not term or term == "dumb":
        return "none"
    if env.get("TMUX") or term.startswith(("screen", "tmux")):
        return "blocks"  # multiplexers do not pass image escapes through by default
    if (
        env.get("KITTY_WINDOW_ID")
        or term == "xterm-kitty"
        or program == "ghostty"
        or term == "xterm-ghostty"
    ):
        return "kitty"
    if (
        program in ("iterm.app", "wezterm", "mintty")
        or env.get("LC_TERMINAL", "").lower() == "iterm2"
    ):
        return "iterm"
    if env.get("WEZTERM_EXECUTABLE"):
        return "iterm"
    if env.get("KONSOLE_VERSION") or term.startswith(("foot", "mlterm", "yaft", "contour")):
        return "sixel"
    return "blocks"


def detect_color_depth(env: Mapping[str, str]) -> str:
    """Colour depth of this terminal: truecolor, 256, 16 or mono (NO_COLOR means mono)."""
    if "NO_COLOR" in env:
        return "mono"
    term = env.get("TERM", "").lower()
    if not term or term == "dumb":
        return "mono"
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    if env.get("KITTY_WINDOW_ID") or term in ("xterm-kitty", "xterm-ghostty"):
        return "truecolor"
    if env.get("TERM_PROGRAM", "").lower() in ("iterm.app", "wezterm", "vscode"):
        return "truecolor"
    if "256" in term or "direct" in term:
        return "256"
    return "16"


_TERMINAL_REPLY = re.compile(r"\x1b_[^\x1b]*\x1b\\|\x1b\[\?[0-9;]*c")


def typeahead_in_reply(reply: str) -> str:
    """What the user typed while the terminal was answering :data:`GRAPHICS_QUERY`: the
    bytes read that are not part of an APC or device-attributes reply."""
    return _TERMINAL_REPLY.sub("", reply)


def parse_graphics_reply(reply: str) -> str | None:
    """Graphics mode proven by a terminal's answer to :data:`GRAPHICS_QUERY`, or None."""
    if "\x1b_Gi=31;OK" in reply:
        return "kitty"
    start = reply.find("\x1b[?")
    if start >= 0:
        end = reply.find("c", start)
        if end > 0:
            params = reply[start + 3 : end].split(";")
            if "4" in params[1:]:
                return "sixel"
    return None
