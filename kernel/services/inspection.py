"""Help on an object (``inspect_request``, ``obj?`` and ``obj??``).

Finds the expression under the cursor (inside a call ``f(x, |``, the function called), looks it
up without running code (the completion service's ``evaluate``) and describes it: signature,
type, string form, file, docstring and, at detail level 1, the source. Headings are coloured
with ANSI codes, as in IPython's ``?`` pages.
"""

from __future__ import annotations

import ast
import inspect as pyinspect
import linecache
import re
import types
from typing import Any

from .completion import Instance, Unresolved, evaluate, expression_before, signature_text
from .iscomplete import scan

HEADING = "\x1b[31m"  # red, as IPython's "Signature:" headings
RESET = "\x1b[0m"
MAX_STRING_FORM = 200


def _is_name_char(char: str) -> bool:
    return char == "_" or char.isalnum()


def expression_at(code: str, cursor: int) -> str:
    """The expression to describe for a cursor in ``code``.

    A name the cursor is on (or at the start of) wins; otherwise, inside an open call, the
    function being called; otherwise the name chain just before the cursor.
    """
    cursor = max(0, min(cursor, len(code)))
    end = cursor
    if end < len(code) and _is_name_char(code[end]):
        while end < len(code) and _is_name_char(code[end]):
            end += 1
        expression = expression_before(code, end)
        if expression:
            return expression
    text = code[:cursor]
    state = scan(text)
    for opener, where in reversed(state.brackets):
        if opener == "(":
            callee = expression_before(text, where)
            if callee and not callee[0].isdigit():
                return callee
            break
    stripped = text.rstrip("?").rstrip()
    return expression_before(stripped, len(stripped))


def _lookup(expression: str, namespace: dict[str, Any]) -> tuple[bool, Any]:
    expression = expression.strip().strip("?").strip()
    if not expression:
        return False, None
    try:
        value = evaluate(expression, namespace)
    except Unresolved:
        return _class_attribute(expression, namespace)
    except Exception:
        return False, None
    if isinstance(value, Instance):
        value = value.cls
    return True, value


def _class_attribute(expression: str, namespace: dict[str, Any]) -> tuple[bool, Any]:
    """For ``obj.prop``: the property (or other descriptor) itself, from the class; not run."""
    base, dot, name = expression.rpartition(".")
    if not dot or not name.isidentifier():
        return False, None
    try:
        owner = evaluate(base, namespace)
    except Exception:
        return False, None
    cls = owner.cls if isinstance(owner, Instance) else owner if isinstance(owner, type) else type(owner)
    for klass in getattr(cls, "__mro__", ()):
        attribute = vars(klass).get(name)
        if attribute is not None:
            return True, attribute
    return False, None


def _type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__
    if module in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{module}.{kind.__qualname__}"


def _string_form(value: Any) -> str | None:
    try:
        text = str(value)
    except Exception as exc:  # a broken __str__ is reported, not fatal
        return f"<str() failed: {type(exc).__name__}: {exc}>"
    if len(text) > MAX_STRING_FORM:
        half = MAX_STRING_FORM // 2 - 3
        text = text[:half] + " ... " + text[-half:]
    return text


def _cell_number(filename: str) -> tuple[int, int] | None:
    """(execution count, serial) of a cell's file name, None for other files."""
    from ..execution.tracebacks import CELL_FILES

    return CELL_FILES.get(filename)


def _class_in_cell(cls: type) -> tuple[str, int, str] | None:
    """Where a class typed in a cell is defined: (cell file, first line, source).

    ``inspect`` looks for classes in their module's file, which for ``__main__`` is the
    kernel itself; the cells are in linecache instead. The cell is found from the class's
    functions or, failing that, it is the latest cell that defines a class of that name.
    """
    if getattr(cls, "__module__", None) != "__main__":
        return None
    files: list[str] = []
    for attribute in vars(cls).values():
        function = getattr(attribute, "__func__", None) or getattr(attribute, "fget", None) or attribute
        code = getattr(function, "__code__", None)
        if code is not None and _cell_number(code.co_filename) and code.co_filename not in files:
            files.append(code.co_filename)
    if not files:
        cells = [name for name in list(linecache.cache) if isinstance(name, str) and _cell_number(name)]
        files = sorted(cells, key=lambda name: _cell_number(name) or (0, 0), reverse=True)
    for filename in files:
        lines = linecache.getlines(filename)
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                end = node.end_lineno or node.lineno
                return filename, first, "".join(lines[first - 1 : end])
    return None


def _file(value: Any) -> str | None:
    target = value if isinstance(value, (type, types.ModuleType)) or callable(value) else type(value)
    if isinstance(target, type) and target.__module__ == "__main__":
        found = _class_in_cell(target)
        if found is None:
            return None
        count = _cell_number(found[0]) or (0, 0)
        return f"Cell In[{count[0]}], line {found[1]}"
    try:
        target = pyinspect.unwrap(target)
        path = pyinspect.getsourcefile(target) or pyinspect.getfile(target)
    except (TypeError, OSError, ValueError, AttributeError):
        return None
    except Exception:
        return None
    cell = _cell_number(path)
    if cell:
        code = getattr(getattr(target, "__func__", target), "__code__", None)
        line = getattr(code, "co_firstlineno", None)  # (getsourcelines would tokenize)
        return f"Cell In[{cell[0]}], line {line}" if line else f"Cell In[{cell[0]}]"
    return path


def _source(value: Any) -> str | None:
    if isinstance(value, type) and value.__module__ == "__main__":
        found = _class_in_cell(value)
        return found[2] if found else None
    try:
        return pyinspect.getsource(value)
    except (TypeError, OSError, IndentationError, SyntaxError):
        return None
    except Exception:
        return None


def _length(value: Any) -> str | None:
    if isinstance(value, (type, types.ModuleType)) or not hasattr(type(value), "__len__"):
        return None
    try:
        return str(len(value))
    except Exception:
        return None


def _docstring(value: Any) -> str | None:
    try:
        doc = pyinspect.getdoc(value)
    except Exception:
        return None
    return doc


def _fields(expression: str, value: Any, detail_level: int) -> list[tuple[str, str]]:
    """The headed fields of a description, in the order shown."""
    fields: list[tuple[str, str]] = []
    is_class = isinstance(value, type)
    is_module = isinstance(value, types.ModuleType)
    is_routine = not is_class and not is_module and callable(value) and (
        pyinspect.isroutine(value) or isinstance(value, types.MethodType)
    )
    name = expression.strip()
    if is_class or callable(value) and not is_module:
        signature = signature_text(value)
        if signature is not None:
            fields.append(("Init signature" if is_class else "Signature", name + signature))
    fields.append(("Type", _type_name(value)))
    if not is_class and not is_routine:
        string_form = _string_form(value)
        if string_form is not None:
            fields.append(("String form", string_form))
        length = _length(value)
        if length is not None:
            fields.append(("Length", length))
    path = _file(value)
    if path is not None:
        fields.append(("File", path))
    source = _source(value) if detail_level >= 1 and (is_class or is_module or is_routine) else None
    if source is not None:
        fields.append(("Source", source.rstrip("\n")))
        return fields
    doc = _docstring(value)
    fields.append(("Docstring", doc if doc else "<no docstring>"))
    if is_class:
        init = value.__dict__.get("__init__")
        init_doc = getattr(init, "__doc__", None) if isinstance(init, types.FunctionType) else None
        if init_doc:
            fields.append(("Init docstring", pyinspect.cleandoc(init_doc)))
    return fields


def _render(fields: list[tuple[str, str]]) -> str:
    width = max(len(heading) for heading, _ in fields if heading != "Source") + 2
    lines = []
    for heading, text in fields:
        if "\n" in text and heading in ("Source", "Docstring", "Init docstring"):
            lines.append(f"{HEADING}{heading}:{RESET}\n{text}")
        else:
            label = f"{heading}:".ljust(width)
            lines.append(f"{HEADING}{label}{RESET}{text}")
    return "\n".join(lines)


def describe(expression: str, detail_level: int, namespace: dict[str, Any]) -> str | None:
    """The help text for ``expression`` (as after ``obj?``), or None when nothing is found."""
    found, value = _lookup(expression, namespace)
    if not found:
        return None
    return _render(_fields(expression.strip().strip("?").strip(), value, detail_level))


def inspect(code: str, cursor_pos: int, detail_level: int, namespace: dict[str, Any]) -> dict[str, Any]:
    """The ``inspect_reply`` content for the object at ``cursor_pos`` in ``code``."""
    expression = expression_at(code, cursor_pos)
    text = describe(expression, 1 if detail_level == 1 else 0, namespace) if expression else None
    if text is None:
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}
    return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}


INTRODUCTION = """\
The mycon kernel: Python with IPython's conveniences
=====================================================

Type Python as usual; the value of a cell's last expression is shown as Out[N].

Getting help
------------
  ?             this introduction
  obj? / ?obj   what obj is: type, signature, docstring, file
  obj??         the same and its source
  *pat*?        names matching a pattern (a*b?, os.*path*?)
  %magic        the magic system; %lsmagic lists the magics, %name? describes one
  %quickref     a quick reference card

Special input
-------------
  %name args    a line magic (the % can go when no variable has the name)
  %%name args   a cell magic: the rest of the cell is its input
  !command      run a shell command; x = !command keeps its output lines
  _ __ ___      the last three results; Out[N] / _N results, In[N] / _iN inputs
"""


def search_names(pattern: str, namespace: dict[str, Any], show_all: bool = False) -> list[str] | None:
    """Names matching a wildcard ``pattern`` (``*`` any text, ``?`` one character), sorted.

    ``a.*b*`` searches the attributes of ``a``; otherwise the namespace and the builtins. Names
    starting with ``_`` only when ``show_all``. None when the object before the dot is unknown.
    """
    import builtins

    owner_expression, dot, name_pattern = pattern.rpartition(".")
    if dot:
        found, owner = _lookup(owner_expression, namespace)
        if not found:
            return None
        names = set(dir(owner))
        prefix = owner_expression + "."
    else:
        names = set(namespace) | set(vars(builtins))
        prefix = ""
    regex = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name_pattern) + "$")
    return sorted(
        prefix + name for name in names
        if regex.match(name) and (show_all or not name.startswith("_") or name_pattern.startswith("_"))
    )
