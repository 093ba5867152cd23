"""Tracebacks for the user: their frames only, cells named ``Cell In[n], line k``.

Pure functions from an exception to the list of strings an ``error`` message carries.
"""

from __future__ import annotations

import linecache
import os
import traceback
from types import TracebackType

RED = "\x1b[0;31m"
BOLD_RED = "\x1b[1;31m"
GREEN = "\x1b[0;32m"
CYAN = "\x1b[0;36m"
RESET = "\x1b[0m"
RULE = "-" * 75
CONTEXT_LINES = 2  # lines shown before the failing one
MAGIC_CALL = "__mycon_magic__."  # how kernel.execution.transform writes a magic into a cell
LOCAL_WIDTH = 100  # characters of a local variable's repr shown by %xmode Verbose

# the kernel package (this file is kernel/execution/tracebacks.py): its frames are not the user's
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class CellError(Exception):
    """Raised by kernel-side helpers (magics) to report a plain error without a traceback."""


def _is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR)


def _location(filename: str, lineno: int | None, name: str, cells: dict[str, int]) -> str:
    if filename in cells:
        where = f"{GREEN}Cell In[{cells[filename]}], line {lineno}{RESET}"
    else:
        where = f"{GREEN}File {filename}:{lineno}{RESET}"
    if name not in ("<module>", "<cell line: 0>"):
        where += f", in {CYAN}{name}(){RESET}"
    return where


def _context(filename: str, lineno: int | None) -> list[str]:
    if not lineno:
        return []
    lines = []
    first = max(1, lineno - CONTEXT_LINES)
    width = len(str(lineno))
    for number in range(first, lineno + 1):
        text = linecache.getline(filename, number).rstrip("\n")
        if number == lineno:
            lines.append(f"{GREEN}---->{RESET} {number:>{width}} {text}")
        elif text.strip() or number > first:
            lines.append(f"      {number:>{width}} {text}")
    return lines


def _exception_line(etype: type[BaseException], evalue: BaseException) -> str:
    text = "".join(traceback.format_exception_only(etype, evalue)).rstrip("\n")
    last = text.splitlines()[-1] if text else etype.__name__
    name, sep, rest = last.partition(":")
    if sep:
        return f"{BOLD_RED}{name}{RESET}:{rest}"
    return f"{BOLD_RED}{last}{RESET}"


def _syntax_error_lines(evalue: SyntaxError, cells: dict[str, int]) -> list[str]:
    filename = evalue.filename or "<unknown>"
    lineno = evalue.lineno or 1
    lines = [_location(filename, lineno, "<module>", cells)]
    text = evalue.text
    if text is None:
        text = linecache.getline(filename, lineno)
    if text:
        stripped = text.rstrip("\n")
        lines.append(f"    {stripped}")
        if evalue.offset:
            indent = max(0, evalue.offset - 1)
            width = 1
            end = getattr(evalue, "end_offset", None)
            if end and evalue.end_lineno == lineno and end > evalue.offset:
                width = end - evalue.offset
            lines.append("    " + " " * indent + f"{BOLD_RED}{'^' * width}{RESET}")
    return lines


REPEAT_SHOWN = 3  # identical consecutive frames shown before the rest are folded
CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"


def _locals_lines(frame: traceback.FrameSummary) -> list[str]:
    """``name = value`` for a frame's local variables (``%xmode Verbose``), values cut short."""
    if frame.name == "<module>":
        return []  # a cell's or module's top level: its "locals" are every global
    lines = []
    for name, value in (frame.locals or {}).items():
        if name.startswith("__"):
            continue
        text = value if len(value) <= LOCAL_WIDTH else value[: LOCAL_WIDTH - 1] + "…"
        lines.append(f"        {CYAN}{name}{RESET} = {text}")
    return lines


def _frame_blocks(frames: list[traceback.FrameSummary], cells: dict[str, int]) -> list[str]:
    """One block per frame; a run of the same frame (recursion) is folded after a few."""
    blocks: list[str] = []
    previous: tuple[str, int | None, str] | None = None
    run = 0

    def fold_note() -> None:
        if run >= REPEAT_SHOWN:
            blocks.append(f"[... the frame above repeated {run - REPEAT_SHOWN + 1} more times]")

    for frame in frames:
        key = (frame.filename, frame.lineno, frame.name)
        if key == previous:
            run += 1
        else:
            fold_note()
            previous, run = key, 0
        if run < REPEAT_SHOWN:
            block = [_location(frame.filename, frame.lineno, frame.name, cells)]
            block.extend(_context(frame.filename, frame.lineno))
            block.extend(_locals_lines(frame))
            blocks.append("\n".join(block))
    fold_note()
    return blocks


def format_exception(
    etype: type[BaseException],
    evalue: BaseException,
    tb: TracebackType | None,
    cells: dict[str, int],
    _seen: set[int] | None = None,
    mode: str = "Context",
) -> list[str]:
    """The traceback lines of an ``error`` message, without the kernel's own frames.

    Chained exceptions (``raise ... from``, or raised while handling another) come first,
    as in Python's own traceback. ``mode`` is ``%xmode``'s: ``Minimal`` is the exception line
    alone, ``Verbose`` adds each frame's local variables, ``Plain`` and ``Context`` are the
    usual.
    """
    if mode == "Minimal":
        return [_exception_line(etype, evalue)]
    seen = _seen if _seen is not None else set()
    seen.add(id(evalue))
    out: list[str] = []
    chained = evalue.__cause__ or (None if evalue.__suppress_context__ else evalue.__context__)
    if chained is not None and id(chained) not in seen:
        out.extend(format_exception(type(chained), chained, chained.__traceback__, cells, seen, mode))
        out.append("")
        out.append(CAUSE if evalue.__cause__ is not None else CONTEXT)
        out.append("")
    extracted = list(traceback.StackSummary.extract(traceback.walk_tb(tb), capture_locals=mode == "Verbose"))
    frames = [f for f in extracted if not _is_internal(f.filename)]
    if not frames:
        frames = extracted[-1:]
    # A magic's line as the kernel rewrote it (``__mycon_magic__.cell(...)``) says nothing the
    # frames of the code it ran do not: shown only when nothing follows it.
    frames = [f for i, f in enumerate(frames) if i == len(frames) - 1 or MAGIC_CALL not in (f.line or "")]
    if isinstance(evalue, SyntaxError) and not frames:
        out.extend(_syntax_error_lines(evalue, cells))
    else:
        pad = max(1, 42 - len(etype.__name__))
        out.append(f"{RED}{RULE}{RESET}")
        out.append(f"{BOLD_RED}{etype.__name__}{RESET}" + " " * pad + "Traceback (most recent call last)")
        out.extend(_frame_blocks(frames, cells))
        if isinstance(evalue, SyntaxError):
            out.append("\n".join(_syntax_error_lines(evalue, cells)))
    out.append("")
    out.append(_exception_line(etype, evalue))
    return out


def syntax_error(evalue: SyntaxError, cells: dict[str, int]) -> list[str]:
    """The traceback lines for a cell that does not compile: location, line and caret."""
    lines = _syntax_error_lines(evalue, cells)
    lines.append(_exception_line(type(evalue), evalue))
    return lines
