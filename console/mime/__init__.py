"""Rich output renderers: pure functions from a Jupyter mime bundle to terminal text.

The console calls :func:`render_bundle` with a display's ``data`` and ``metadata`` and writes the
returned string verbatim.  Nothing here touches the terminal.

Mime choice: the first type of ``options.order`` (default :data:`DEFAULT_ORDER`) that is in the
bundle and can be shown wins; a type that cannot be shown (bad data, no decoder) is skipped with a
one-line dim note and the next is tried; ``text/plain`` is the last resort.

Also for the console: :func:`detect_graphics` / :func:`detect_color_depth` (from the environment;
``detect.GRAPHICS_QUERY`` and ``detect.parse_graphics_reply`` for a bounded terminal query),
:func:`parse_order` (a user's ``html,png,plain``), :func:`truncate_text` (cut huge text with a
note), :func:`screen_rows` (rows an output took, to redraw it in place), :func:`save_image` and
:func:`viewer_command` (save an image, open it in the system viewer).

Modules: ``style`` (SGR at each colour depth, widths), ``doc`` (document model and its layout:
wrapping, lists, aligned tables), ``html``/``markdown``/``latex`` (parsers to that model or to
Unicode math), ``highlight`` (pygments tokens), ``png`` (stdlib PNG decoder), ``images`` (kitty,
iTerm2, sixel, half blocks), ``text`` (cutting), ``detect`` (terminal capabilities).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .detect import detect_color_depth, detect_graphics
from .images import GRAPHICS_MODES, save_image, viewer_command
from .style import COLOR_DEPTHS, dim_line
from .text import MAX_CHARS, MAX_LINES, screen_rows, truncate_text

__all__ = [
    "DEFAULT_ORDER",
    "GRAPHICS_MODES",
    "MimeOptions",
    "detect_color_depth",
    "detect_graphics",
    "parse_order",
    "render_bundle",
    "save_image",
    "screen_rows",
    "truncate_text",
    "viewer_command",
]

DEFAULT_ORDER: tuple[str, ...] = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/svg+xml",
    "text/html",
    "text/markdown",
    "text/latex",
    "application/json",
    "text/plain",
)
"""Mime types tried in this order, richest first; ``text/plain`` is the last resort.

Images first (a figure's text/plain is only ``<Figure ...>``), then HTML (DataFrames as tables),
Markdown, LaTeX (math as Unicode), JSON, and plain text.  Users may pass their own order; types
left out of it are never shown, except text/plain which is always the final fallback.
"""

MIME_ALIASES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "html": "text/html",
    "markdown": "text/markdown",
    "md": "text/markdown",
    "latex": "text/latex",
    "tex": "text/latex",
    "json": "application/json",
    "plain": "text/plain",
    "text": "text/plain",
}
"""Short names users may write in a mime order (``--mime-order html,png,plain``)."""


def parse_order(spec: str) -> tuple[str, ...]:
    """A user's comma-separated mime order (short names or full types) as a tuple of types.

    Raises ``ValueError`` naming the unknown entries and the accepted names.
    """
    order: list[str] = []
    unknown: list[str] = []
    for raw in spec.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        mime = MIME_ALIASES.get(name, name)
        if mime not in DEFAULT_ORDER:
            unknown.append(raw.strip())
        elif mime not in order:
            order.append(mime)
    if unknown:
        names = ", ".join(sorted(MIME_ALIASES))
        raise ValueError(f"unknown mime type(s) {', '.join(unknown)}; use full types or: {names}")
    if not order:
        raise ValueError("the mime order is empty")
    return tuple(order)


MAX_RICH_INPUT = 200_000
"""HTML/Markdown/LaTeX longer than this many characters is cut before parsing."""


@dataclass(frozen=True)
class MimeOptions:
    """What the terminal can show and what the user prefers."""

    width: int = 80  # terminal columns available
    graphics: str = "auto"  # "kitty" | "iterm" | "sixel" | "blocks" | "none" | "auto"
    order: tuple[str, ...] | None = None  # mime preference order; None = DEFAULT_ORDER
    color_depth: str = "truecolor"  # "truecolor" | "256" | "16" | "mono"


class CannotShow(Exception):
    """A renderer cannot show this payload; ``quiet`` ones fall back without a note."""

    def __init__(self, reason: str, quiet: bool = False) -> None:
        super().__init__(reason)
        self.quiet = quiet


@dataclass(frozen=True)
class _Opts:
    """Sanitised options handed to renderers."""

    width: int
    graphics: str
    depth: str


Renderer = Callable[[Any, Mapping[str, Any], _Opts], str]


def _sanitise(options: Any) -> _Opts:
    width = getattr(options, "width", 80)
    try:
        width = max(20, min(int(width), 1000))
    except (TypeError, ValueError):
        width = 80
    graphics = getattr(options, "graphics", "auto")
    if graphics == "auto" or graphics not in GRAPHICS_MODES:
        graphics = "blocks"
    depth = getattr(options, "color_depth", "truecolor")
    if depth not in COLOR_DEPTHS:
        depth = "16"
    return _Opts(width, graphics, depth)


def _as_text(value: Any) -> str:
    """A text payload as one string (nbformat allows a list of lines)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return "".join(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise CannotShow(f"payload is {type(value).__name__}, not text")


def _bounded(text: str, notes: list[str]) -> str:
    if len(text) > MAX_RICH_INPUT:
        notes.append(
            f"input cut to its first {MAX_RICH_INPUT:,} of {len(text):,} characters before rendering"
        )
        return text[:MAX_RICH_INPUT]
    return text


def _cut_output(text: str, opts: _Opts, max_chars: int = MAX_CHARS) -> str:
    kept, note = truncate_text(text, MAX_LINES, max_chars)
    if note is None:
        return kept
    reset = "\x1b[0m" if "\x1b" in kept else ""  # no colour left on from a cut-off line
    return kept + reset + "\n" + dim_line(note, opts.depth)


def _render_plain(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
    return _cut_output(_as_text(value).rstrip("\n"), opts)


def _render_json(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
    from .style import render_line

    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise CannotShow(f"invalid JSON ({e})") from e
    text = json.dumps(value, indent=2, ensure_ascii=False, default=repr, sort_keys=False)
    kept, note = truncate_text(text, MAX_LINES, MAX_CHARS)
    if opts.depth == "mono":
        body = kept
    else:
        from .highlight import highlight_lines

        body = "\n".join(render_line(ln, opts.depth) for ln in highlight_lines(kept, "json"))
    return body if note is None else body + "\n" + dim_line(note, opts.depth)


def _pictures(opts: _Opts) -> Callable[[str, str, int], list[str] | None]:
    """Renders images embedded in HTML/Markdown as a display's image would be."""

    def picture(mime: str, payload: str, width: int) -> list[str] | None:
        from .images import ImageError, render_image

        try:
            return render_image(payload, mime, {}, width, opts.graphics, opts.depth).split("\n")
        except ImageError:
            return None

    return picture


def _render_html(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
    from .doc import layout
    from .highlight import highlight_lines
    from .html import html_to_blocks

    notes: list[str] = []
    blocks = html_to_blocks(_bounded(_as_text(value), notes))
    if not blocks:
        raise CannotShow("the HTML has no visible text", quiet=True)
    text = "\n".join(layout(blocks, opts.width, opts.depth, highlight_lines, _pictures(opts)))
    return _with_notes(_cut_output(text, opts, max_chars=1 << 62), notes, opts)


def _render_markdown(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
    from .doc import layout
    from .highlight import highlight_lines
    from .markdown import markdown_to_blocks

    notes: list[str] = []
    blocks = markdown_to_blocks(_bounded(_as_text(value), notes))
    text = "\n".join(layout(blocks, opts.width, opts.depth, highlight_lines, _pictures(opts)))
    return _with_notes(_cut_output(text, opts, max_chars=1 << 62), notes, opts)


_WHY_SOURCE = {"text/latex": "LaTeX beyond what mycon converts to Unicode"}


def _render_latex(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
    from .latex import latex_document

    notes: list[str] = []
    text = latex_document(_bounded(_as_text(value), notes), opts.width, opts.depth)
    if text is None:
        raise CannotShow("LaTeX beyond what mycon converts to Unicode", quiet=True)
    return _with_notes(_cut_output(text, opts), notes, opts)


def _render_image(mime: str) -> Renderer:
    def render(value: Any, meta: Mapping[str, Any], opts: _Opts) -> str:
        from .images import ImageError, render_image

        try:
            return render_image(value, mime, meta, opts.width, opts.graphics, opts.depth)
        except ImageError as e:
            raise CannotShow(str(e), quiet=e.quiet) from e

    return render


RENDERERS: dict[str, Renderer] = {
    "text/plain": _render_plain,
    "application/json": _render_json,
    "text/html": _render_html,
    "text/markdown": _render_markdown,
    "text/latex": _render_latex,
    "image/png": _render_image("image/png"),
    "image/jpeg": _render_image("image/jpeg"),
    "image/gif": _render_image("image/gif"),
    "image/svg+xml": _render_image("image/svg+xml"),
}
"""The renderer of each mime type mycon can show."""


def _with_notes(text: str, notes: list[str], opts: _Opts) -> str:
    if not notes:
        return text
    lines = [dim_line(f"[{n}]", opts.depth) for n in notes]
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def _metadata_for(metadata: Any, mime: str) -> Mapping[str, Any]:
    if not isinstance(metadata, Mapping):
        return {}
    own = metadata.get(mime)
    return own if isinstance(own, Mapping) else metadata


def render_bundle(
    data: Mapping[str, Any], metadata: Mapping[str, Any], options: MimeOptions
) -> str:
    """Render a mime bundle to text for the terminal, written verbatim, no trailing newline.

    Never raises: a type that cannot be shown is skipped with a dim note and the next tried.
    """
    opts = _sanitise(options)
    notes: list[str] = []
    try:
        if not isinstance(data, Mapping):
            return dim_line(
                f"[no output to show: display data is {type(data).__name__}]", opts.depth
            )
        order = getattr(options, "order", None) or DEFAULT_ORDER
        try:
            order = tuple(str(m) for m in order)
        except TypeError:
            order = DEFAULT_ORDER
        if "text/plain" not in order:
            order = (*order, "text/plain")
        for mime in order:
            if mime not in data or mime not in RENDERERS:
                continue
            if data[mime] is None:
                notes.append(f"could not show {mime}: the payload is empty (None)")
                continue
            try:
                out = RENDERERS[mime](data[mime], _metadata_for(metadata, mime), opts)
            except CannotShow as e:
                if not e.quiet:
                    notes.append(f"could not show {mime}: {e}")
                continue
            except Exception as e:  # a renderer bug must never reach the console
                notes.append(f"could not show {mime}: {type(e).__name__}: {e}")
                continue
            return _with_notes(out, notes, opts)
        for mime in ("text/latex", "text/markdown", "text/html", "application/json"):
            if mime in order and isinstance(data.get(mime), str):
                # nothing rendered: the source beats showing nothing
                source = _cut_output(data[mime].strip("\n"), opts)
                return _with_notes(
                    source, [*notes, f"{_WHY_SOURCE.get(mime, mime)}: shown as source"], opts
                )
        if not notes:
            kinds = ", ".join(sorted(str(k) for k in data)) or "none"
            notes.append(f"no representation mycon can show (types: {kinds})")
        return _with_notes("", notes, opts)
    except Exception as e:  # pragma: no cover - last line of defence
        return dim_line(f"[could not show output: {type(e).__name__}: {e}]", opts.depth)
