"""Pure functions from Jupyter messages to terminal text (ANSI SGR styling).

Nothing here touches a terminal or a socket: every function takes message content (plain
dicts) and returns a string to write verbatim. Rich mime bundles go through
``console.mime.render_bundle`` when that package is importable; text/plain otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

RESET = "\x1b[0m"
GREEN = "\x1b[32m"
BRIGHT_GREEN = "\x1b[92m"
RED = "\x1b[31m"
BRIGHT_RED = "\x1b[91m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
YELLOW = "\x1b[33m"
# Our kernel's iopub message (not in the protocol) saying it waits for some client's input.
INPUT_WAIT = "mycon_input_wait"

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


@dataclass(frozen=True)
class Prompts:
    """The prompt texts; ``{n}`` stands for the execution count.

    An empty ``continuation`` is made from ``input``: ``...: `` right-aligned with it (dots
    as wide as a short prompt, e.g. ``... `` under ``>>> ``).
    """

    input: str = "In [{n}]: "
    continuation: str = ""
    output: str = "Out[{n}]: "

    def input_parts(self, count: int | str) -> tuple[str, str, str]:
        """The input prompt as (before the number, the number, after it)."""
        before, sep, after = self.input.partition("{n}")
        return before, str(count) if sep else "", after.replace("{n}", str(count))


@dataclass(frozen=True)
class RenderOptions:
    """What the renderers need to know about the terminal and the user's taste."""

    width: int = 80
    color: bool = True
    graphics: str = "auto"  # kitty | iterm | sixel | blocks | none | auto
    color_depth: str = "auto"  # truecolor | 256 | 16 | mono | auto
    mime_order: tuple[str, ...] | None = None
    prompts: Prompts = Prompts()


_probed_graphics: list[str] = []


def set_probed_graphics(mode: str | None) -> None:
    """What a terminal query proved the terminal shows (kitty, sixel), to beat the guess."""
    _probed_graphics[:] = [mode] if mode else []
    _resolve.cache_clear()


@lru_cache(maxsize=64)
def _resolve(options: RenderOptions) -> RenderOptions:
    from console.mime import detect_color_depth, detect_graphics

    graphics, depth = options.graphics, options.color_depth
    if graphics == "auto":
        graphics = _probed_graphics[0] if _probed_graphics else detect_graphics(os.environ)
    if depth == "auto":
        depth = detect_color_depth(os.environ)
    return replace(options, graphics=graphics, color_depth=depth)


def resolve_options(options: RenderOptions) -> RenderOptions:
    """``auto`` graphics and colour depth replaced by what this terminal can do.

    Graphics: a terminal query's answer when one was made (``set_probed_graphics``), else a
    guess from the environment; colour depth from the environment (COLORTERM, TERM, NO_COLOR).
    """
    if options.graphics != "auto" and options.color_depth != "auto":
        return options
    return _resolve(options)


def strip_ansi(text: str) -> str:
    """Text without ANSI escape sequences (for measuring and for plain output)."""
    return _ANSI_RE.sub("", text)


def style(text: str, sgr: str, options: RenderOptions) -> str:
    """Wrap ``text`` in an SGR sequence when colour is on."""
    if not options.color or not text:
        return text
    return f"{sgr}{text}{RESET}"


def in_prompt_text(count: int | str, prompts: Prompts = Prompts()) -> str:
    """The plain text of the input prompt, e.g. ``In [3]: ``."""
    return "".join(prompts.input_parts(count))


def continuation_text(count: int | str, prompts: Prompts = Prompts()) -> str:
    """The continuation prompt, as wide as the input prompt (``   ...: `` under ``In [3]: ``)."""
    if prompts.continuation:
        return prompts.continuation.replace("{n}", str(count))
    width = len(in_prompt_text(count, prompts))
    if width >= 5:
        return " " * (width - 5) + "...: "
    return ("..." + " " * width)[:width]


def out_prompt(count: int | None, options: RenderOptions) -> str:
    """The ``Out[n]: `` marker before an execute_result."""
    label = options.prompts.output.replace("{n}", str(count) if count is not None else " ")
    return style(label, RED, options)


def render_stream(content: Mapping[str, Any], options: RenderOptions) -> str:
    """A ``stream`` message: stdout as is, stderr in red so it stands out."""
    text = str(content.get("text", ""))
    if content.get("name") == "stderr":
        # Colour each line separately so a later \r or newline never leaks the colour.
        return "\n".join(style(line, RED, options) for line in text.split("\n"))
    return text


def _plain(data: Mapping[str, Any]) -> str:
    value = data.get("text/plain", "")
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    return str(value)


def render_bundle(
    data: Mapping[str, Any], metadata: Mapping[str, Any], options: RenderOptions
) -> str:
    """A mime bundle as terminal text: rich renderers when present, text/plain otherwise."""
    mime: Any = None
    try:
        from console import mime
    except ImportError:
        pass
    if mime is not None and hasattr(mime, "render_bundle") and hasattr(mime, "MimeOptions"):
        try:
            options = resolve_options(options)
            mopts = mime.MimeOptions(
                width=options.width,
                graphics=options.graphics,
                order=options.mime_order,
                color_depth=options.color_depth if options.color else "mono",
            )
            return str(mime.render_bundle(data, metadata, mopts))
        except Exception:  # a renderer bug must never cost the user the output
            pass
    if "text/plain" in data:
        return _plain(data)
    kinds = ", ".join(sorted(data)) or "nothing"
    return style(f"[output of type {kinds}: no text form]", DIM, options)


def render_execute_result(content: Mapping[str, Any], options: RenderOptions) -> str:
    """An ``execute_result``: ``Out[n]:`` and the value; multi-line values start on a new line."""
    body = render_bundle(content.get("data", {}), content.get("metadata", {}), options)
    head = out_prompt(content.get("execution_count"), options)
    if "\n" in body and head:
        return head + "\n" + body + "\n"
    return head + body + "\n"


def render_display(content: Mapping[str, Any], options: RenderOptions) -> str:
    """A ``display_data`` or ``update_display_data`` message."""
    body = render_bundle(content.get("data", {}), content.get("metadata", {}), options)
    return body + "\n" if body else ""


def render_error(content: Mapping[str, Any], options: RenderOptions) -> str:
    """An ``error`` message: the kernel's traceback lines (they carry their own colours)."""
    lines = [str(line) for line in content.get("traceback") or []]
    if not lines:
        lines = [style(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}", RED, options)]
    text = "\n".join(lines)
    if not options.color:
        text = strip_ansi(text)
    return text + "\n"


def render_input(content: Mapping[str, Any], options: RenderOptions, who: str = "") -> str:
    """An ``execute_input`` from another client, e.g. ``[client 2] In [5]: code``."""
    count = content.get("execution_count")
    count_text = str(count) if count is not None else " "
    code = str(content.get("code", ""))
    prefix = f"[{who}] " if who else ""
    lines = code.split("\n")
    head = style(prefix + in_prompt_text(count_text, options.prompts), GREEN, options)
    cont = style(" " * len(prefix) + continuation_text(count_text, options.prompts), GREEN, options)
    return head + ("\n" + cont).join(lines) + "\n"


def render_input_wait(content: Mapping[str, Any], options: RenderOptions, who: str) -> str:
    """Our kernel's ``mycon_input_wait`` from another client's cell, as a line to show."""
    state = content.get("state")
    what = "a password" if content.get("password") else "input"
    if state == "waiting":
        prompt = " ".join(strip_ansi(str(content.get("prompt", ""))).split())
        prompt = prompt if len(prompt) <= 120 else prompt[:119] + "…"
        asked = f": {prompt}" if prompt else ""
        return style(f"[{who}] asked for {what}{asked}  (the kernel waits for their answer)", YELLOW, options) + "\n"
    if state == "answered":
        return style(f"[{who}] answered", DIM, options) + "\n"
    return style(f"[{who}] {what} cancelled", DIM, options) + "\n"


def render_iopub(msg: Mapping[str, Any], options: RenderOptions) -> str:
    """Any iopub message of a cell as text to write (empty for those with nothing to show)."""
    msg_type = msg.get("header", {}).get("msg_type") or msg.get("msg_type")
    content = msg.get("content", {})
    if msg_type == "stream":
        return render_stream(content, options)
    if msg_type == "execute_result":
        return render_execute_result(content, options)
    if msg_type in ("display_data", "update_display_data"):
        return render_display(content, options)
    if msg_type == "error":
        return render_error(content, options)
    return ""


def render_page(data: Mapping[str, Any], options: RenderOptions) -> str:
    """A ``page`` payload (``obj?``): the kernel's text, ANSI colours kept when colour is on."""
    text = _plain(data) if "text/plain" in data else render_bundle(data, {}, options)
    return text if options.color else strip_ansi(text)


def render_banner(kernel_info: Mapping[str, Any], attach_hint: str, options: RenderOptions) -> str:
    """The start-up banner: the kernel's own banner plus how to attach another terminal."""
    banner = str(kernel_info.get("banner") or "").rstrip()
    if not banner:
        lang = kernel_info.get("language_info", {}) or {}
        impl = kernel_info.get("implementation", "kernel")
        banner = f"{impl} ({lang.get('name', '?')} {lang.get('version', '')})".strip()
    parts = [banner]
    if attach_hint:
        parts.append(style(attach_hint, DIM, options))
    return "\n".join(parts) + "\n"


def signature_help(data: Mapping[str, Any], max_lines: int = 3, width: int = 80) -> str:
    """The first lines of an inspect_reply, plain, for the help toolbar.

    IPython-style ``Header:`` labels are dropped (``Signature: f(x)`` shows as ``f(x)``) and
    lines that are only a label, or about type, file and source, are skipped.
    """
    text = strip_ansi(_plain(data))
    skip = ("Type:", "File:", "Init docstring:", "String form:", "Source:", "Class docstring:")
    kept: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith(skip):
            continue
        m = re.match(r"(Signature|Init signature|Call signature|Docstring):\s*(.*)$", line)
        if m:
            line = m.group(2)
            if not line:
                continue
        kept.append(line[: max(10, width - 1)])
        if len(kept) >= max_lines:
            break
    return "\n".join(kept)


def mime_order(spec: str) -> tuple[str, ...] | None:
    """The ``mime_order`` setting as types (None: mycon's default order; checked by the CLI)."""
    if not spec:
        return None
    from console.mime import parse_order

    try:
        return parse_order(spec)
    except ValueError:
        return None
