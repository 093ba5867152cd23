"""Tracebacks for the user, as ipykernel's IPython writes them: their frames only, cells named
``Cell In[n], line k``, frames with their arguments (``in f(x)``) and source lines around.

Pure functions from an exception to the list of strings an ``error`` message carries (each
frame one string ending with a newline, as IPython's).
"""

from __future__ import annotations

import ast
import linecache
import os
import traceback
from types import CodeType, FrameType, TracebackType

RED = "\x1b[0;31m"
BOLD_RED = "\x1b[1;31m"
GREEN = "\x1b[0;32m"
CYAN = "\x1b[0;36m"
RESET = "\x1b[0m"
RULE = "-" * 75
CONTEXT_LINES = 4  # source lines shown before a frame's line (one fewer after), as ipykernel
NUMBER_WIDTH = 7  # columns of the line numbers (the arrow fills them on the current line)

# the kernel package (this file is kernel/execution/tracebacks.py): its frames are not the user's
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# every cell's file name -> (execution count, serial); the names have IPython's form,
# ``<temp dir>/mycon_<pid>/<digits>.py``, so warnings and SyntaxErrors name them as ipykernel does
CELL_FILES: dict[str, tuple[int, int]] = {}
_cell_dir: list[str] = []


def cell_file_name(count: int, serial: int, code: str) -> str:
    """A new cell's file name (no file is written: the source lives in linecache)."""
    if not _cell_dir:
        _cell_dir.append(os.path.join(_temp_dir(), f"mycon_{os.getpid()}"))
    name = os.path.join(_cell_dir[0], f"{hash((code, serial)) % 10**10}.py")
    CELL_FILES[name] = (count, serial)
    return name


def _temp_dir() -> str:
    """The folder ``tempfile.gettempdir()`` would name, found the way it looks first ($TMPDIR,
    $TEMP, $TMP, then the system's); only a name here (nothing is written), so importing
    tempfile, and shutil, bz2, lzma with it, costs a cell's first run for nothing."""
    for variable in ("TMPDIR", "TEMP", "TMP"):
        folder = os.environ.get(variable)
        if folder:
            return os.path.abspath(folder)
    return "/tmp" if os.name == "posix" else os.path.abspath(os.curdir)


def is_cell_file(filename: str) -> bool:
    """True for the file name of a cell (see ``cell_file_name``)."""
    return filename in CELL_FILES


class CellError(Exception):
    """Raised by kernel-side helpers (magics) to report a plain error without a traceback."""


def _is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR)


def _qualname(code: CodeType) -> str:
    return getattr(code, "co_qualname", None) or code.co_name


def _arguments(frame: FrameType, verbose: bool) -> str:
    """``(x, *args, **kw)`` as IPython writes a frame's arguments; ``(x=2)`` in Verbose mode."""
    import inspect

    def value_text(value: object) -> str:
        if not verbose:
            return ""
        try:
            return "=" + repr(value)
        except Exception:  # noqa: BLE001 - a user repr may fail
            return "=<repr failed>"

    try:
        args, varargs, varkw, local_values = inspect.getargvalues(frame)
        return inspect.formatargvalues(args, varargs, varkw, local_values, formatvalue=value_text)
    except KeyError:
        return "(***failed resolving arguments***)"


def _place(filename: str, lineno: int | None, cells: dict[str, int]) -> str:
    """``Cell In[n], line k``, or ``File path:k`` (home as ``~``)."""
    if filename in cells:
        return f"Cell In[{cells[filename]}], line {lineno}"
    home = os.path.expanduser("~")
    if home not in ("~", "/") and filename.startswith(home):
        filename = "~" + filename[len(home):]
    return f"File {filename}:{lineno}"


def _location(filename: str, lineno: int | None, name: str, cells: dict[str, int], call: str = "()") -> str:
    where = f"{GREEN}{_place(filename, lineno, cells)}{RESET}"
    if name not in ("<module>", "<cell line: 0>"):
        where += f", in {CYAN}{name}{RESET}{call}"
    return where


def _arrow(lineno: int) -> str:
    """``---->`` before the current line, shorter as the number gets longer (IPython's)."""
    pad = NUMBER_WIDTH - len(str(lineno))
    return ("-" * (pad - 2) + "> ") if pad >= 2 else ">" if pad == 1 else ""


def _source_lines(code: CodeType, frame: FrameType | None, lineno: int) -> str:
    """The lines around ``lineno`` in the frame's function (or cell): up to 4 before, 3 after."""
    import inspect

    first = code.co_firstlineno
    try:
        lines = inspect.getsourcelines(frame if frame is not None else code)[0]
    except (OSError, TypeError):
        lines = ["'Could not get source, probably due dynamically evaluated source code.'"]
    index = lineno - first
    start = max(index - CONTEXT_LINES, 0)
    shown = lines[start : index + CONTEXT_LINES]
    out = []
    for number, text in enumerate(shown, lineno - (index - start)):
        text = text.rstrip("\n") + "\n"
        if number == lineno:
            out.append(f"{GREEN}{_arrow(number)}{number}{RESET} {text}")
        else:
            out.append(f"{GREEN}{number:>{NUMBER_WIDTH}}{RESET} {text}")
    return "".join(out)


def _exception_line(etype: type[BaseException], evalue: BaseException) -> str:
    try:
        text = str(evalue)
    except Exception:  # noqa: BLE001 - a broken __str__
        text = "<exception str() failed>"
    return f"{BOLD_RED}{etype.__name__}{RESET}: {text}"


def _notes(evalue: BaseException) -> list[str]:
    notes = getattr(evalue, "__notes__", [])
    if not isinstance(notes, (list, tuple)):
        notes = [repr(notes)]
    return [str(note) for note in notes]


def _syntax_error_text(evalue: SyntaxError, cells: dict[str, int]) -> str:
    """A SyntaxError as IPython writes it: place, the stripped line, a caret, the message."""
    filename = evalue.filename or "<string>"
    lineno = evalue.lineno
    text = linecache.getline(filename, lineno) if lineno else ""
    if not text:
        text = evalue.text or ""
    place = _place(filename, lineno, cells) if lineno else _place(filename, None, cells).rsplit(":", 1)[0]
    out = [f"  {GREEN}{place}{RESET}\n"]
    if text is not None:
        indent = len(text) - len(text.lstrip())
        out.append(f"    {text.strip()}\n")
        if evalue.offset is not None:
            caret = "".join(c if c.isspace() else " " for c in text[indent : evalue.offset - 1])
            out.append(f"    {caret}{BOLD_RED}^{RESET}\n")
    message = evalue.msg
    out.append(f"{BOLD_RED}{type(evalue).__name__}{RESET}: {message}\n" if message else f"{type(evalue).__name__}\n")
    out.extend(note + "\n" for note in _notes(evalue))
    return "".join(out)


REPEAT_SHOWN = 3  # identical consecutive frames shown before the rest are folded
CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"


class _Frame:
    """One traceback entry: its frame, code and the line IPython names for it."""

    __slots__ = ("code", "frame", "lineno")

    def __init__(self, frame: FrameType, lineno: int, cells: dict[str, int]) -> None:
        self.frame = frame
        self.code = frame.f_code
        # ipykernel's cells (and frozen modules) have no file on disk: IPython shows such a
        # frame by its own current line (for an exception chained in the same frame, the later)
        filename = self.code.co_filename
        raw = filename in cells or (not filename.endswith(".py") and filename.startswith("<frozen "))
        self.lineno = frame.f_lineno if raw and frame.f_lineno else lineno

    @property
    def filename(self) -> str:
        return self.code.co_filename


def _frames(tb: TracebackType | None, cells: dict[str, int]) -> list[_Frame]:
    frames = [_Frame(frame, lineno, cells) for frame, lineno in traceback.walk_tb(tb)]
    users = [f for f in frames if not _is_internal(f.filename)]
    return users or frames[-1:]


def _frame_record(entry: _Frame, cells: dict[str, int], verbose: bool) -> str:
    """One frame as IPython's Context/Verbose mode writes it, ending with a newline."""
    name = _qualname(entry.code)
    call = _arguments(entry.frame, verbose) if name != "<module>" else ""
    head = _location(entry.filename, entry.lineno, name, cells, call)
    if entry.filename not in cells:
        lines = _statement_lines(entry.filename, entry.code, entry.lineno)
        if lines is not None:
            return head + "\n" + lines
    return head + "\n" + _source_lines(entry.code, entry.frame, entry.lineno)


PIECES_AROUND = 2  # statements shown before and after a library frame's (IPython's, via stack_data)
MAX_PIECE_LINES = 6  # a longer statement around it shows its first 3 and last 2 lines


def _pieces(tree: ast.AST, source_lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges of a file's statements, as pieces: a compound statement's header is one
    piece and each statement in its bodies others; the lines between statements (comments,
    ``else:``) are one piece, blank lines at its ends left out."""
    covered: list[tuple[int, int]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            end = node.end_lineno or node.lineno
            inner = [b for field in ("body", "orelse", "finalbody") for b in getattr(node, field, []) or []
                     if isinstance(b, ast.stmt)]
            handlers = list(getattr(node, "handlers", []) or []) + list(getattr(node, "cases", []) or [])
            if inner and inner[0].lineno > start:
                covered.append((start, inner[0].lineno - 1))
                visit(inner)
                for handler in handlers:
                    handler_body = handler.body
                    first = getattr(handler, "lineno", None) or handler_body[0].lineno
                    if handler_body and handler_body[0].lineno > first:
                        covered.append((first, handler_body[0].lineno - 1))
                    visit(handler_body)
            else:
                covered.append((start, end))

    visit(getattr(tree, "body", []))
    taken: set[int] = set()
    for start, end in covered:
        taken.update(range(start, end + 1))
    pieces = list(covered)
    gap: list[int] = []  # lines between statements (comments, ``else:``) make one piece
    for number in range(1, len(source_lines) + 2):
        if number <= len(source_lines) and number not in taken:
            gap.append(number)
            continue
        filled = [n for n in gap if source_lines[n - 1].strip()]
        if filled:
            pieces.append((filled[0], filled[-1]))
        gap = []
    return sorted(set(pieces))


_parsed: dict[str, tuple[int, list[tuple[int, int]]]] = {}


def _statement_lines(filename: str, code: CodeType, lineno: int) -> str | None:
    """The lines IPython shows around a library frame's line: whole statements, dedented."""
    lines = linecache.getlines(filename)
    if not lines or not filename.endswith(".py") or len(lines) > 10_000:
        return None
    cached = _parsed.get(filename)
    if cached is None or cached[0] != len(lines):
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            return None
        cached = _parsed[filename] = (len(lines), _pieces(tree, lines))
    pieces = [p for p in cached[1] if "".join(lines[p[0] - 1 : p[1]]).strip()]
    if code.co_name != "<module>":  # only the function's own statements
        first = code.co_firstlineno
        scope = next((p for p in pieces if p[0] <= first <= p[1]), None)
        last = max((ln for ln in _code_lines(code)), default=lineno)
        pieces = [p for p in pieces if (scope[0] if scope else first) <= p[0] <= max(last, lineno)]
    current = next((i for i, p in enumerate(pieces) if p[0] <= lineno <= p[1]), None)
    if current is None:
        return None
    shown: list[int | None] = []  # line numbers; None is a gap
    for index in range(max(0, current - PIECES_AROUND), min(len(pieces), current + PIECES_AROUND + 1)):
        start, end = pieces[index]
        while end > start and not lines[end - 1].strip():
            end -= 1
        numbers: list[int | None] = list(range(start, end + 1))
        if index != current and len(numbers) > MAX_PIECE_LINES:
            numbers = numbers[:3] + [None] + numbers[-2:]
        shown.extend(numbers)
    texts = [lines[n - 1].rstrip("\n") for n in shown if n is not None]
    indent = min((len(t) - len(t.lstrip()) for t in texts if t.strip()), default=0)
    out = []
    for number in shown:
        if number is None:
            out.append("   (...)")
            continue
        text = lines[number - 1].rstrip("\n")[indent:] + "\n"
        if number == lineno:
            out.append(f"{GREEN}{_arrow(number)}{number}{RESET} {text}")
        else:
            out.append(f"{GREEN}{number:>{NUMBER_WIDTH}}{RESET} {text}")
    return "".join(out)


def _code_lines(code: CodeType) -> list[int]:
    """The lines a code object (with its nested ones) spans."""
    found = [line for _, _, line in code.co_lines() if line is not None]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found.extend(_code_lines(const))
    return found


def _frame_records(frames: list[_Frame], cells: dict[str, int], verbose: bool) -> list[str]:
    """One record per frame; a run of the same frame (recursion) is folded after a few."""
    records: list[str] = []
    previous: tuple[str, int, str] | None = None
    run = 0

    def fold_note() -> None:
        if run >= REPEAT_SHOWN:
            records.append(f"    [... skipping similar frames: {previous[2] if previous else ''} "
                           f"({run - REPEAT_SHOWN + 1} more times)]\n")

    for entry in frames:
        key = (entry.filename, entry.lineno, entry.code.co_name)
        if key == previous:
            run += 1
        else:
            fold_note()
            previous, run = key, 0
        if run < REPEAT_SHOWN:
            records.append(_frame_record(entry, cells, verbose))
    fold_note()
    return records


def _plain_records(frames: list[_Frame], cells: dict[str, int]) -> list[str]:
    """``%xmode Plain``: place and stripped line per frame, as Python's own traceback."""
    records = []
    for entry in frames:
        name = _qualname(entry.code)
        record = f"  {GREEN}{_place(entry.filename, entry.lineno, cells)}{RESET}"
        if name != "<module>":
            record += f" in {CYAN}{name}{RESET}"
        line = linecache.getline(entry.filename, entry.lineno).strip()
        records.append(record + "\n" + (f"    {line}\n" if line else ""))
    return records


def format_exception(
    etype: type[BaseException],
    evalue: BaseException,
    tb: TracebackType | None,
    cells: dict[str, int],
    _seen: set[int] | None = None,
    mode: str = "Context",
) -> list[str]:
    """The traceback of an ``error`` message, as IPython's ``%xmode`` writes it, without the
    kernel's own frames.

    Chained exceptions (``raise ... from``, or raised while handling another) come first.
    ``Minimal`` is the exception line alone, ``Plain`` is Python's own layout, ``Context``
    shows source lines around each frame's line, ``Verbose`` adds the arguments' values.
    """
    if mode == "Minimal":
        return [_exception_line(etype, evalue) + "\n"]
    top = _seen is None  # the outermost call: its output starts with the rule
    seen = _seen if _seen is not None else set()
    seen.add(id(evalue))
    out: list[str] = []
    chained = evalue.__cause__ or (None if evalue.__suppress_context__ else evalue.__context__)
    if chained is not None and id(chained) not in seen:
        out.extend(format_exception(type(chained), chained, chained.__traceback__, cells, seen, mode))
        out.append("\n" + (CAUSE if evalue.__cause__ is not None else CONTEXT) + "\n")
    frames = _frames(tb, cells)
    if mode == "Plain":
        out.append("Traceback (most recent call last):\n")
        out.extend(_plain_records(frames, cells))
        if isinstance(evalue, SyntaxError):
            out.append(_syntax_error_text(evalue, cells))
        else:
            out.append(_exception_line(etype, evalue) + "\n")
            out.extend(note + "\n" for note in _notes(evalue))
        return out
    if top:
        out.insert(0, f"{RED}{RULE}{RESET}")
    pad = max(1, 42 - len(etype.__name__))
    out.append(f"{BOLD_RED}{etype.__name__}{RESET}" + " " * pad + "Traceback (most recent call last)")
    out.extend(_frame_records(frames, cells, verbose=mode == "Verbose"))
    if isinstance(evalue, SyntaxError):
        out.append(_syntax_error_text(evalue, cells))
    else:
        out.append(_exception_line(etype, evalue))
        out.extend(_notes(evalue))
    return out


def syntax_error(evalue: SyntaxError, cells: dict[str, int]) -> list[str]:
    """The traceback of a cell that does not compile: one text, as IPython sends it."""
    return [_syntax_error_text(evalue, cells)]
