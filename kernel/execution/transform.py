"""Input transformation: magics, shell escapes and ``obj?`` help turned into plain Python.

Pure functions on strings. Only the start of a logical line can hold special syntax, so a small
scanner follows strings, brackets, comments and backslash continuations to know where logical
lines start; ``%`` in ``a % b`` or ``!`` in ``a != b`` or ``"?"`` inside a string are left alone.

The generated code calls the runtime helper ``__mycon_magic__`` that ``kernel.magics.runtime``
puts in builtins:
- ``%name args``        -> ``__mycon_magic__.line('name', 'args')``
- ``%%name args`` (first line) -> ``__mycon_magic__.cell('name', 'args', body)``
- ``!cmd``              -> ``__mycon_magic__.system('cmd')``
- ``x = !cmd``          -> ``x = __mycon_magic__.getoutput('cmd')``
- ``x = %name args``    -> ``x = __mycon_magic__.line('name', 'args')``
- ``obj?`` / ``?obj``   -> ``__mycon_magic__.help('obj', 0)`` (``??``: detail 1)
- ``name args`` where ``name`` is a line magic no variable shadows (automagic, as ``%name args``)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .tracebacks import CellError

HELPER = "__mycon_magic__"

_NAME = r"[A-Za-z_][\w.]*"
_ASSIGN = re.compile(
    rf"^(?P<target>{_NAME}(?:\[[^\]=]*\])?(?:\s*,\s*{_NAME})*)\s*=\s*(?P<kind>!|%)(?P<rest>.*)$",
    re.DOTALL,
)
_ASSIGN_START = re.compile(rf"{_NAME}(?:\s*,\s*{_NAME})*[ \t]*=[ \t]*[!%]")
_MAGIC_NAME = re.compile(r"^%{1,2}([A-Za-z_][\w.]*)")
_WORD_AND_REST = re.compile(r"([A-Za-z_]\w*)(.*)", re.DOTALL)
# after the name and a space, these make the line Python's own: assignment, call, item, tuple,
# annotation, augmented assignment (``cd = 1``, ``who (x)``, ``env [0]``, ``a, b = c``, ...);
# with no space (``time.sleep(1)``, ``env[0]``) the line is never a magic
_PYTHON_AFTER_NAME = re.compile(r"[=(\[,:]|(?://|\*\*|>>|<<|[-+*/%&|^@])=")
# names a cell binds itself (checked before automagic: ``import time`` then ``time`` is the module)
_BINDINGS = re.compile(
    r"^[ \t]*(?:from[ \t]+\S+[ \t]+)?import[ \t]+(?P<imports>[^\n#;]+)"
    r"|^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(?P<defined>\w+)"
    r"|^[ \t]*(?:async[ \t]+)?for[ \t]+(?P<loop>[^\n]+?)[ \t]+in\b"
    r"|\bas[ \t]+(?P<alias>\w+)"
    r"|(?P<walrus>\w+)[ \t]*:="
    r"|^[ \t]*(?P<targets>[\w.()\[\]*]+(?:[ \t]*,[ \t]*[\w.()\[\]*]+)*)"
    r"[ \t]*(?::[^=\n]+)?(?:\*\*|//|>>|<<|[-+*/%&|^@])?=(?!=)",
    re.MULTILINE,
)
_HELP = re.compile(r"^(?P<pre>\?{1,2})?(?P<expr>[^?]*?)(?P<post>\?{1,2})?$", re.DOTALL)


def _scan(code: str) -> list[tuple[int, int]]:
    """Logical lines of ``code`` as ``(start, end)`` character ranges.

    ``end`` excludes a trailing comment and the newline. A logical line spans physical lines
    while brackets are open, a string is open or a line ends with a backslash. A line starting
    with ``%`` or ``!`` is not Python: it ends at its newline (backslash continues it).
    """
    lines: list[tuple[int, int]] = []
    n = len(code)
    i = 0
    while i < n or not lines:
        start = i
        first = start
        while first < n and code[first] in " \t":
            first += 1
        if first < n and (code[first] in "%!" or _ASSIGN_START.match(code, first)):
            end = first
            while True:
                newline = code.find("\n", end)
                if newline < 0:
                    end = n
                    break
                if newline > 0 and code[newline - 1] == "\\":
                    end = newline + 1
                    continue
                end = newline
                break
            lines.append((start, end))
            i = end + 1
            continue
        end, i = _scan_python(code, start)
        lines.append((start, end))
    return lines


def _scan_python(code: str, i: int) -> tuple[int, int]:
    """From a logical line's start: (end of its code part, start of the next line)."""
    n = len(code)
    depth = 0
    quote = ""  # the open string's delimiter: ', ", ''' or """
    code_end = -1  # where a trailing comment starts
    while i < n:
        ch = code[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if code.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
            if ch != "\n" or len(quote) == 3:
                i += 1
                continue
            quote = ""  # an unterminated one-line string ends at the line's end
            depth = 0
        if ch in "'\"":
            quote = ch * 3 if code.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        if ch == "#":
            if code_end < 0:
                code_end = i
            newline = code.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "\\" and code.startswith("\n", i + 1):
            code_end = -1
            i += 2
            continue
        elif ch == "\n":
            if depth == 0:
                return (code_end if code_end >= 0 else i), i + 1
            code_end = -1
        i += 1
    return (code_end if code_end >= 0 else n), n + 1


def _quote(text: str) -> str:
    return repr(text)


def _line_magic(text: str) -> str | None:
    """``%name args`` -> the helper call, or None if ``text`` is not a line magic."""
    match = _MAGIC_NAME.match(text)
    if match is None or text.startswith("%%"):
        return None
    name = match.group(1)
    args = text[match.end() :].strip()
    return f"{HELPER}.line({_quote(name)}, {_quote(args)})"


def _help(text: str) -> str | None:
    """``obj?``, ``obj??``, ``?obj``, ``%magic?`` -> the helper call, or None."""
    if "?" not in text:
        return None
    match = _HELP.match(text)
    if match is None:
        return None
    pre, post = match.group("pre") or "", match.group("post") or ""
    expr = match.group("expr").strip()
    if not expr and (pre or post) and not (pre and post) and not text.strip("?"):
        return f"{HELPER}.help('', 0)"  # a bare ``?``: the introduction
    if not (pre or post) or (pre and post) or not expr:
        return None
    if any(c in expr for c in "\n;") or "=" in expr.replace("==", ""):
        return None
    detail = 1 if len(pre or post) == 2 else 0
    return f"{HELPER}.help({_quote(expr)}, {detail})"


def automagic_call(text: str, is_magic: Callable[[str], bool]) -> str | None:
    """``name args`` -> the helper call when ``name`` is a magic typed without its %, else None.

    ``is_magic(name)`` says whether a line magic of that name exists and no variable hides it.
    """
    match = _WORD_AND_REST.fullmatch(text)
    if match is None:
        return None
    name, rest = match.groups()
    if rest and rest[0] not in " \t":
        return None
    if _PYTHON_AFTER_NAME.match(rest.lstrip()) or not is_magic(name):
        return None
    return _line_magic("%" + text)


def _transform_line(text: str) -> str | None:
    """The Python for one logical line's code (no indent, no comment), or None if plain."""
    if not text:
        return None
    first = text[0]
    if first == "!":
        command = text[2:] if text.startswith("!!") else text[1:]
        func = "getoutput" if text.startswith("!!") else "system"
        return f"{HELPER}.{func}({_quote(command.strip())})"
    if text.startswith("%%"):
        match = _MAGIC_NAME.match(text)
        if match is not None:
            raise CellError(f"%%{match.group(1)} is a cell magic: it must be on the cell's first line")
        return None
    if first == "%":
        if text.endswith("?") and _help(text) is not None:
            return _help(text)
        return _line_magic(text)
    assign = _ASSIGN.match(text)
    if assign is not None:
        rest = assign.group("rest")
        target = assign.group("target")
        if assign.group("kind") == "!":
            return f"{target} = {HELPER}.getoutput({_quote(rest.strip())})"
        call = _line_magic("%" + rest)
        if call is not None:
            return f"{target} = {call}"
        return None
    if first == "?" or text.endswith("?"):
        return _help(text)
    return None


def bound_names(code: str) -> set[str]:
    """Names ``code`` binds (imports, definitions, loop and ``as`` targets, assignments), roughly."""
    names: set[str] = set()
    for match in _BINDINGS.finditer(code):
        imports = match.group("imports")
        if imports is not None:
            for part in imports.strip("() \t").split(","):
                words = part.split()
                if words:
                    names.add(words[-1] if len(words) >= 3 and words[-2] == "as" else words[0].split(".")[0])
            continue
        text = next(group for group in match.groups() if group is not None)
        names.update(re.findall(r"[A-Za-z_]\w*", text))
    return names


def transform_cell(code: str, automagic: Callable[[str], bool] | None = None) -> str:
    """Turn a cell with magics, shell escapes or ``?`` help into plain Python.

    With ``automagic`` (see ``automagic_call``), a one-line statement that starts with a magic's
    name is that magic. Raises ``CellError`` for a cell magic that is not on the first line.
    """
    stripped = code.lstrip("\n")
    if stripped.startswith("%%"):
        return _cell_magic(stripped)
    if automagic is not None:
        bound = bound_names(code)
        if bound:
            is_magic = automagic
            automagic = lambda name: name not in bound and is_magic(name)  # noqa: E731
    pieces: list[str] = []
    last = 0
    for start, end in _scan(code):
        segment = code[start:end]
        body = segment.lstrip(" \t")
        indent = segment[: len(segment) - len(body)]
        body = body.rstrip()
        replacement = None
        if automagic is not None and body and "\n" not in body and body[0] not in "%!?":
            replacement = automagic_call(body, automagic)
        if replacement is None:
            if not body or body[0] not in "%!?" and "?" not in body[-1:] and "=" not in body:
                continue
            if "\n" in body and body[0] not in "%!":
                continue  # a multi-line statement: only a shell escape or magic may continue
            replacement = _transform_line(body.replace("\\\n", " ") if body[0] in "%!" else body)
        if replacement is None:
            continue
        body_end = start + len(indent) + len(body)
        pieces.append(code[last:start])
        pieces.append(indent + replacement + "\n" * body.count("\n"))  # keep line numbers
        last = body_end
    if not pieces:
        return code
    pieces.append(code[last:])
    return "".join(pieces)


def _cell_magic(code: str) -> str:
    """``%%name args`` on the first line: the whole cell goes to the cell magic."""
    first, _, body = code.partition("\n")
    match = _MAGIC_NAME.match(first)
    if match is None:
        return code  # not a magic name: let Python report the syntax error
    name = match.group(1)
    args = first[match.end() :].strip()
    if args.endswith("?") and not body.strip():
        return f"{HELPER}.help({_quote('%%' + name)}, {1 if args.endswith('??') else 0})"
    if body and not body.endswith("\n"):
        body += "\n"  # IPython ends every cell with a newline before a cell magic sees it
    return f"{HELPER}.cell({_quote(name)}, {_quote(args)}, {_quote(body)})"


_PROMPTS = (  # (any line's prompt, what the first line must show) for pasted sessions
    (re.compile(r"^(?:>>>|\.\.\.)(?: |$)"), re.compile(r"^>>>(?: |$)")),
    (re.compile(r"^(?:In \[\d+\]: |\s*\.{3,}: ?)"), re.compile(r"^(?:In \[\d+\]: |\s*\.{3,}: ?)")),
)


def clean_input(code: str) -> str:
    """Input as IPython cleans it before anything else: leading blank lines dropped, a cell
    whose first line is indented dedented by that indent, pasted ``>>>`` / ``...`` and
    ``In [n]:`` / ``...:`` prompts stripped (when the first line, or the second, has one)."""
    lines = code.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return code
    first = lines[0]
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    if indent:
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    for prompt, initial in _PROMPTS:
        if initial.match(lines[0]) or (len(lines) > 1 and prompt.match(lines[1])):
            lines = [prompt.sub("", line, count=1) for line in lines]
    return "".join(lines)
