"""Deciding whether a cell is ready to run (``is_complete_request``), as a Python REPL would.

Also home of ``scan``, a small lexical scanner (strings, comments, brackets, line starts) that
the completion and inspection services share: it works on unfinished code where ``tokenize``
gives up.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable

INDENT_STEP = "    "
STRING_PREFIX_CHARS = frozenset("rRbBuUfF")
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}
COMPOUND = (
    ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
) + tuple(getattr(ast, name) for name in ("Match", "TryStar") if hasattr(ast, name))
MAGIC_ASSIGNMENT = re.compile(
    r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]"
)


class OpenString:
    """A string literal still open at the end of the scanned text."""

    __slots__ = ("quote", "start", "content_start", "prefix")

    def __init__(self, quote: str, start: int, content_start: int, prefix: str) -> None:
        self.quote = quote  # ', ", ''' or """
        self.start = start  # offset of the literal's first character (its prefix, if any)
        self.content_start = content_start  # offset just after the opening quote
        self.prefix = prefix  # e.g. "f", "rb"


class Scan:
    """What a left-to-right pass over some code found (the state at its end)."""

    def __init__(self) -> None:
        self.brackets: list[tuple[str, int]] = []  # open brackets and their offsets
        self.string: OpenString | None = None  # the open string at the end, if any
        self.in_comment = False
        self.continued = False  # the last line ended with a backslash
        self.line_starts: list[tuple[int, bool]] = [(0, True)]  # offset, starts a statement
        self.comments: list[int] = []  # offsets of '#' outside strings
        self.broken_string = False  # a single-quoted string ran into a newline


def _string_prefix(code: str, quote_at: int) -> str:
    """The string prefix (``rb``, ``f``...) written just before a quote, if any."""
    start = quote_at
    while start > 0 and quote_at - start < 2 and code[start - 1] in STRING_PREFIX_CHARS:
        start -= 1
    if start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
        return ""  # the letters belong to a longer name (``xr"..."`` is not a prefix)
    return code[start:quote_at]


def scan(code: str) -> Scan:
    """Scan Python source (possibly unfinished) for strings, comments and brackets."""
    state = Scan()
    i, n = 0, len(code)
    string: OpenString | None = None
    while i < n:
        char = code[i]
        if string is not None:
            if char == "\\":
                if i + 1 < n and code[i + 1] == "\n":
                    state.line_starts.append((i + 2, False))
                i += 2
                continue
            if code.startswith(string.quote, i):
                i += len(string.quote)
                string = None
                continue
            if char == "\n":
                if len(string.quote) == 1:  # an unterminated one-line string ends here
                    state.broken_string = True
                    string = None
                    state.line_starts.append((i + 1, not state.brackets))
                else:
                    state.line_starts.append((i + 1, False))
            i += 1
            continue
        if state.in_comment:
            if char != "\n":
                i += 1
                continue
            state.in_comment = False
        if char == "#":
            state.in_comment = True
            state.comments.append(i)
        elif char in OPENERS:
            state.brackets.append((char, i))
        elif char in CLOSERS:
            if state.brackets and state.brackets[-1][0] == CLOSERS[char]:
                state.brackets.pop()
        elif char in "'\"":
            prefix = _string_prefix(code, i)
            quote = char * 3 if code.startswith(char * 3, i) else char
            string = OpenString(quote, i - len(prefix), i + len(quote), prefix)
            i += len(quote)
            continue
        elif char == "\\" and code.startswith("\n", i + 1):
            state.line_starts.append((i + 2, False))
            i += 2
            continue
        elif char == "\n":
            state.line_starts.append((i + 1, not state.brackets))
        i += 1
    state.string = string
    stripped = code.rstrip(" \t")
    state.continued = (
        string is None and not state.in_comment and stripped.endswith("\\")
    )
    return state


def _code_part(line: str, line_offset: int, comments: list[int]) -> str:
    """The line without its comment (if a comment starts on it)."""
    end = line_offset + len(line)
    for position in comments:
        if line_offset <= position < end:
            return line[: position - line_offset]
    return line


def neutralize(code: str, state: Scan | None = None, automagic: Callable[[str], bool] | None = None) -> str:
    """Replace magics, shell escapes and help requests by plain Python of the same shape.

    Only lines that start a statement are touched; the line count stays the same. With
    ``automagic`` (``Shell.automagic``), magics typed without their % count as magics too.
    """
    state = state or scan(code)
    out: list[str] = []
    starts = state.line_starts
    for number, (offset, statement_start) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(code)
        line = code[offset:end]
        body = line.rstrip("\n")
        newline = line[len(body):]
        stripped = body.lstrip()
        indent = body[: len(body) - len(stripped)]
        if statement_start and stripped:
            code_part = _code_part(body, offset, state.comments).rstrip()
            if stripped[0] in "%!?" or (code_part.endswith("?") and stripped[0] != "#"):
                body = indent + "pass"
            elif automagic is not None and _is_automagic(code_part.strip(), automagic):
                body = indent + "pass"
            else:
                match = MAGIC_ASSIGNMENT.match(stripped)
                if match and not stripped[match.end() - 1 :].startswith("!="):
                    body = indent + stripped[: match.end() - 1] + "None"
        out.append(body + newline)
    return "".join(out)


def _is_automagic(line: str, automagic: Callable[[str], bool]) -> bool:
    from ..execution.transform import automagic_call

    return automagic_call(line, automagic) is not None


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _last_code_line(code: str, state: Scan) -> tuple[str, str]:
    """The last line holding code: (its indentation, its code without the comment)."""
    starts = state.line_starts
    for number in range(len(starts) - 1, -1, -1):
        offset = starts[number][0]
        end = starts[number + 1][0] if number + 1 < len(starts) else len(code)
        line = code[offset:end].rstrip("\n")
        code_part = _code_part(line, offset, state.comments).rstrip()
        if code_part.strip():
            return _indent_of(line), code_part
    return "", ""


def _compile(source: str) -> object | None:
    """codeop's verdict: a code object (complete), None (incomplete) or SyntaxError."""
    import codeop

    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0x2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compiler(source, "<input>", "exec")


def is_complete(code: str, automagic: Callable[[str], bool] | None = None) -> dict[str, str]:
    """The ``is_complete_reply`` content for a cell: complete, incomplete (+indent) or invalid.

    ``automagic``: as for ``neutralize`` (``cd ..`` is complete, not invalid).
    """
    if not code.strip():
        return {"status": "complete"}
    lines = code.split("\n")
    ends_with_blank_line = len(lines) > 1 and not lines[-1].strip()
    first = next(line for line in lines if line.strip())
    if first.startswith("%%"):  # a cell magic runs once followed by an empty line
        if ends_with_blank_line:
            return {"status": "complete"}
        return {"status": "incomplete", "indent": _indent_of(lines[-1])}
    state = scan(code)
    source = neutralize(code, state, automagic)
    state = scan(source)
    indent, last_code = _last_code_line(source, state)
    opens_block = last_code.endswith(":") and not state.brackets and state.string is None
    next_indent = indent + INDENT_STEP if opens_block else indent
    string = state.string
    if string is not None and len(string.quote) == 1:
        if source.endswith(("\\", "\\\n")):
            return {"status": "incomplete", "indent": ""}  # continued by a backslash
        return {"status": "invalid"}  # an unterminated one-line string
    try:
        compiled = _compile(source)
    except (SyntaxError, ValueError, OverflowError, TypeError, MemoryError):
        return {"status": "invalid"}
    if compiled is None and string is not None:
        return {"status": "incomplete", "indent": ""}  # no indent inside a string
    if compiled is None:
        return {"status": "incomplete", "indent": next_indent}
    if ends_with_blank_line:
        return {"status": "complete"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. an invalid escape: the cell's run will say so
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {"status": "complete"}
    last = tree.body[-1] if tree.body else None
    if isinstance(last, COMPOUND):
        first_line = min(
            [last.lineno] + [node.lineno for node in getattr(last, "decorator_list", [])]
        )
        if (last.end_lineno or last.lineno) > first_line:
            return {"status": "incomplete", "indent": indent}
    return {"status": "complete"}
