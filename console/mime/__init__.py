"""Rich output renderers: pure functions from a Jupyter mime bundle to terminal text.

The console calls :func:`render_bundle` with a display's ``data`` and ``metadata`` and writes
the returned string verbatim.  Nothing here touches the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_ORDER", "MimeOptions", "detect_graphics", "render_bundle"]

DEFAULT_ORDER: tuple[str, ...] = ("text/plain",)
"""Mime types tried in this order, richest first; ``text/plain`` is the last resort."""


@dataclass(frozen=True)
class MimeOptions:
    """What the terminal can show and what the user prefers."""

    width: int = 80
    graphics: str = "auto"
    order: tuple[str, ...] | None = None
    color_depth: str = "truecolor"


def render_bundle(data: Mapping[str, Any], metadata: Mapping[str, Any], options: MimeOptions) -> str:
    """Render a mime bundle to text for the terminal (placeholder: text/plain only)."""
    text = data.get("text/plain") if isinstance(data, Mapping) else None
    if isinstance(text, list):
        text = "".join(str(t) for t in text)
    if not isinstance(text, str):
        return "\x1b[2m[no text/plain representation]\x1b[0m"
    return text.rstrip("\n")


def detect_graphics(env: Mapping[str, str]) -> str:
    """Best graphics mode for this terminal from the environment (placeholder)."""
    return "blocks"
