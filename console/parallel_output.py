"""Parallel (ipyparallel ``%px``) output made readable: pure functions from output text to text.

ipyparallel's magics republish each engine's output in the client kernel, labelled by engine:
``[stdout:2] ...`` and ``[stderr:2] ...`` (stream or display_data text), ``[output:2]`` before
an engine's displays, ``Out[2:5]: value`` (display_data) for results, and one
``[2:execute]`` block per engine on stderr for a remote error. Here each label gets a colour of
its engine's own, and a remote error that several engines raised alike is folded into one
block naming the engines (``EngineErrorFolder`` gathers the blocks of one cell).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from console import render

_SGR = r"(?:\x1b\[[0-9;]*m)*"
_LABEL_RE = re.compile(
    rf"^{_SGR}(?P<label>\[(?:stdout|stderr|output):(?P<stream>\d+)\]"
    rf"|\[(?P<error>\d+):[A-Za-z_]\w*\]|Out\[(?P<result>\d+):\d+\]:)(?P<space> ?){_SGR}",
    re.MULTILINE,
)
_ERROR_HEADER_RE = re.compile(r"^\[(?P<engine>\d+):(?P<method>[A-Za-z_]\w*)\]$")
_AUTOPX_RE = re.compile(r"^%autopx (enabled|disabled)$", re.MULTILINE)
_CELL_NUMBER_RE = re.compile(r"In\s?\[\d+\]")

ENGINE_COLORS = ("\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m", "\x1b[32m", "\x1b[96m", "\x1b[95m", "\x1b[94m")
"""Each engine's label colour, by engine id (cycling); red is kept for errors."""

ALREADY_DISPLAYED = "AlreadyDisplayedError"
"""The error ipyparallel raises after the engines' own errors were shown (streamed)."""


def engine_color(engine: int) -> str:
    """The SGR colour of engine ``engine``'s labels."""
    return ENGINE_COLORS[engine % len(ENGINE_COLORS)]


def has_engine_label(text: str) -> bool:
    """Whether ``text`` holds an ipyparallel engine label at the start of a line."""
    return "[" in text and _LABEL_RE.search(text) is not None


def color_labels(text: str, options: render.RenderOptions) -> str:
    """``text`` with every engine label at a line start in its engine's colour (bold).

    Colours the label carried (ipyparallel's red ``Out[e:n]:``) are replaced; with colour off
    the label is left plain.
    """
    if "[" not in text:
        return text

    def paint(match: re.Match[str]) -> str:
        label = match.group("label")
        engine = int(match.group("stream") or match.group("error") or match.group("result"))
        if not options.color:
            return label + match.group("space")
        return render.BOLD + engine_color(engine) + label + "\x1b[0m" + match.group("space")

    return _LABEL_RE.sub(paint, text)


def render_engine_stream(text: str, options: render.RenderOptions) -> str:
    """A stream text carrying engine labels: labels coloured, the rest as the engine wrote it
    (an engine's stderr keeps its own colours instead of turning all red)."""
    text = color_labels(text, options)
    return text if options.color else render.strip_ansi(text)


def is_engine_error(text: str) -> bool:
    """Whether a stderr text starts with an engine's error block (``[2:execute]`` line)."""
    first = render.strip_ansi(text).split("\n", 1)[0].strip()
    return _ERROR_HEADER_RE.match(first) is not None


def split_engine_errors(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Stderr text as (what comes before the first block, [(engine, method, body)])."""
    lead: list[str] = []
    blocks: list[tuple[int, str, list[str]]] = []
    for line in text.split("\n"):
        header = _ERROR_HEADER_RE.match(render.strip_ansi(line).strip())
        if header is not None:
            blocks.append((int(header.group("engine")), header.group("method"), []))
        elif blocks:
            blocks[-1][2].append(line)
        else:
            lead.append(line)
    return "\n".join(lead), [(engine, method, "\n".join(body)) for engine, method, body in blocks]


def _same_error_key(method: str, body: str) -> tuple[str, str]:
    """What makes two engines' errors 'the same': the traceback's text, cell numbers aside."""
    return method, _CELL_NUMBER_RE.sub("In[]", render.strip_ansi(body)).strip()


def fold_engine_errors(text: str, options: render.RenderOptions) -> str:
    """Engines' error blocks with the identical ones folded into one naming all its engines.

    ``[0:execute]`` + traceback, ``[1:execute]`` + the same traceback become one
    ``[0,1:execute] the same error on engines 0, 1`` header and the traceback once.
    """
    lead, blocks = split_engine_errors(text)
    groups: dict[tuple[str, str], tuple[list[int], str, str]] = {}
    for engine, method, body in blocks:
        key = _same_error_key(method, body)
        if key in groups:
            groups[key][0].append(engine)
        else:
            groups[key] = ([engine], method, body)
    out = [lead] if lead else []
    for engines, method, body in groups.values():
        engines.sort()
        if len(engines) == 1:
            header = color_labels(f"[{engines[0]}:{method}]", options)
        else:
            ids = ",".join(str(e) for e in engines)
            label = render.style(f"[{ids}:{method}]", render.BOLD, options)
            note = render.style(f" the same error on {len(engines)} engines: {', '.join(map(str, engines))}",
                                render.RED, options)
            header = label + note
        out.append(header + "\n" + body.rstrip("\n"))
    folded = "\n".join(out)
    return folded + "\n" if folded and text.endswith("\n") else folded


def autopx_switch(text: str) -> bool | None:
    """Whether output text says ``%autopx`` was switched on (True) or off (False); None when
    it says neither. ipyparallel's magic prints ``%autopx enabled`` / ``%autopx disabled``."""
    if "%autopx " not in text:
        return None
    found = _AUTOPX_RE.findall(render.strip_ansi(text).replace("\r", ""))
    return found[-1] == "enabled" if found else None


def render_already_displayed(evalue: str, options: render.RenderOptions) -> str:
    """ipyparallel's closing ``AlreadyDisplayedError`` ("2 errors"): one line, the engines'
    errors being above it."""
    return render.style(f"{evalue or 'errors'} on the engines (shown above)", render.RED, options) + "\n"


class EngineErrorFolder:
    """Gathers the engines' error blocks of one cell (they come one stderr message per engine
    or all in one) and gives them back folded when the next other output comes or the cell ends."""

    def __init__(self, options: Callable[[], render.RenderOptions]) -> None:
        self._options = options
        self._held: list[str] = []

    @property
    def holding(self) -> bool:
        """Whether error blocks wait to be shown."""
        return bool(self._held)

    def take(self, name: str, text: str) -> bool:
        """Hold ``text`` if it is (the rest of) engines' errors on stderr; True when held."""
        if name != "stderr":
            return False
        if is_engine_error(text) or (self._held and not self._held[-1].endswith("\n")):
            self._held.append(text)
            return True
        return False

    def release(self) -> str:
        """The held blocks, folded ('' when none)."""
        if not self._held:
            return ""
        text, self._held = "".join(self._held), []
        return fold_engine_errors(text, self._options())
