"""Everyday workspace magics: kept variables, re-running input, help shortcuts, directories, aliases.

- ``%store``: variables kept between sessions (pickled, one file per name, in the data
  directory's ``stored`` folder)
- ``%rerun`` / ``%recall``: earlier input run again or put in the next prompt; ``%tb``: the
  last traceback again
- ``%pinfo``, ``%pinfo2``, ``%pdoc``, ``%pdef``, ``%psource``, ``%pfile``: parts of ``obj?``
- ``%xdel``, ``%reset_selective``: deleting variables
- ``%pushd``, ``%popd``, ``%dirs``, ``%dhist``, ``%bookmark``: directories
- ``%alias`` / ``%unalias``: shell commands as line magics (``%ls``, ``%ll``, ``%cat``, ...)
- ``%%script``, ``%%python``, ``%%python3``, ``%%perl``, ``%%ruby``, ``%%file``

Imported with the other built-in magics on the first magic
(``kernel.magics.registry.BUILTIN_MODULES``); heavy modules are imported inside the functions
that use them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..execution import tracebacks
from ..execution.shell import delete_variable
from ..execution.tracebacks import CellError
from .basic import (
    _compile_with_last,
    _history_range,
    _split_options,
    change_directory,
    confirm_deletion,
)
from .registry import _CELL, _LINE, Magic, _builtin
from .runtime import MagicRuntime, run_process

if TYPE_CHECKING:
    from types import TracebackType

    from ..services.history import HistoryStore

STORED_DIR = "stored"  # in the data directory, next to the history database
BOOKMARKS_FILE = "bookmarks.json"


# ----- private files in the data directory ------------------------------------------------------


def _data_dir() -> str:
    from ..services.history import data_dir

    return str(data_dir())


def _private_dir(path: str) -> str:
    """``path``, created if needed, readable by this user only."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise CellError(f"cannot create {path}: {exc.strerror}") from None
    return path


def _write_private(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; the file is readable by this user only."""
    import tempfile

    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise CellError(f"cannot write {path}: {exc.strerror}") from None


# ----- %store -----------------------------------------------------------------------------------


def _stored_path(name: str, create: bool = False) -> str:
    folder = os.path.join(_data_dir(), STORED_DIR)
    return os.path.join(_private_dir(folder) if create else folder, name)


def _stored_names() -> list[str]:
    try:
        names = os.listdir(os.path.join(_data_dir(), STORED_DIR))
    except OSError:
        return []
    return sorted(name for name in names if name.isidentifier())


def _load_stored(name: str) -> Any:
    import pickle

    with open(_stored_path(name), "rb") as handle:
        return pickle.load(handle)  # noqa: S301 - the user's own files, written by %store


def _check_names(words: list[str]) -> None:
    for word in words:
        if not word.isidentifier():
            raise CellError(f"%store: not a variable name: {word!r}")


@_builtin("store")
def _store(rt: MagicRuntime, args: str) -> None:
    """Keep variables between sessions: ``%store x y`` saves, ``%store -r [x]`` restores.

    ``%store`` lists what is kept; ``-d x`` deletes one, ``-z`` deletes all. Values are
    pickled into the ``stored`` folder of the data directory, one file per name.
    """
    opts, names = _split_options(args, "rdz")
    if len(opts) > 1:
        raise CellError("%store: use one of -r, -d and -z at a time")
    _check_names(names)
    if "z" in opts:
        _store_clear(names)
    elif "d" in opts:
        _store_delete(names)
    elif "r" in opts:
        _store_restore(rt, names)
    elif names:
        _store_save(rt, names)
    else:
        _store_list()


def _store_save(rt: MagicRuntime, names: list[str]) -> None:
    import pickle

    ns = rt.shell.user_ns
    blobs: dict[str, bytes] = {}
    for name in names:
        if name not in ns:
            raise CellError(f"%store: no variable named {name!r}")
        try:
            blobs[name] = pickle.dumps(ns[name], protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - any __reduce__ may fail
            kind = type(ns[name]).__name__
            raise CellError(
                f"%store: cannot store {name!r} ({kind}): {exc}; nothing was stored"
            ) from None
    for name, blob in blobs.items():
        _write_private(_stored_path(name, create=True), blob)
        print(f"Stored {name!r} ({type(ns[name]).__name__})")


def _store_restore(rt: MagicRuntime, names: list[str]) -> None:
    stored = _stored_names()
    for name in names:
        if name not in stored:
            raise CellError(f"%store: nothing stored under {name!r}")
    if not stored:
        print("No stored variables.")
        return
    for name in names or stored:
        try:
            value = _load_stored(name)
        except Exception as exc:  # noqa: BLE001 - a class that is gone, a damaged file, ...
            if names:
                raise CellError(f"%store: cannot restore {name!r}: {exc}") from None
            print(f"%store: cannot restore {name!r}: {exc}", file=sys.stderr)
            continue
        rt.shell.user_ns[name] = value
        print(f"Restored {name!r} ({type(value).__name__})")


def _store_delete(names: list[str]) -> None:
    if not names:
        raise CellError("%store -d needs the names to delete, e.g. %store -d x")
    stored = _stored_names()
    for name in names:
        if name not in stored:
            raise CellError(f"%store: nothing stored under {name!r}")
    for name in names:
        os.remove(_stored_path(name))
        print(f"Deleted stored {name!r}")


def _store_clear(names: list[str]) -> None:
    if names:
        raise CellError("%store -z deletes every stored variable and takes no names")
    stored = _stored_names()
    for name in stored:
        os.remove(_stored_path(name))
    print(f"Deleted {len(stored)} stored variable{'s' if len(stored) != 1 else ''}.")


def _store_list() -> None:
    stored = _stored_names()
    if not stored:
        print("No stored variables.")
        return
    width = max(len(name) for name in stored)
    print("Stored variables and their values:")
    for name in stored:
        try:
            text = repr(_load_stored(name))
        except Exception as exc:  # noqa: BLE001
            text = f"<cannot load: {exc}>"
        text = text.replace("\n", " ")
        print(f"{name:<{width}} -> {text[:57] + '...' if len(text) > 60 else text}")


# ----- %rerun, %recall, %tb ---------------------------------------------------------------------


_RERUN_LINE = re.compile(r"^\s*%?rerun\b")
_running_again = False  # a %rerun is running: a nested one would repeat itself forever


def _history_store(rt: MagicRuntime, magic: str) -> HistoryStore:
    store = rt.history
    if store is None:
        raise CellError(f"%{magic}: history is not available in this kernel")
    return store


def _recent_inputs(store: HistoryStore, count: int) -> list[str]:
    """The last ``count`` inputs, leaving out ``%rerun`` lines."""
    texts = [entry[2] for entry in store.tail(count + 50) if not _RERUN_LINE.match(entry[2])]
    return texts[-count:] if count else []


def _ranges(store: HistoryStore, specs: list[str]) -> list[str]:
    return [entry[2] for spec in specs for entry in _history_range(store, spec, True, False)]


@_builtin("rerun")
def _rerun(rt: MagicRuntime, args: str) -> Any:
    """Run earlier input again: ``%rerun`` (the last), ``%rerun 4``, ``%rerun 2-5``, ``%rerun -l 3``.

    Ranges are those of %history (``~1/`` is the previous session); ``-l N`` runs the last N
    inputs. The value of the last expression is the cell's result.
    """
    global _running_again
    store = _history_store(rt, "rerun")
    opts, specs = _split_options(args, "", "l")
    if "l" in opts:
        if not opts["l"].isdigit():
            raise CellError(f"%rerun -l needs a number of inputs, not {opts['l']!r}")
        texts = _recent_inputs(store, int(opts["l"]))
    else:
        texts = _ranges(store, specs) if specs else _recent_inputs(store, 1)
    if not texts:
        print("No input in history matches.")
        return None
    if _running_again:
        raise CellError("%rerun cannot run a %rerun line")
    source = "\n".join(texts)
    print(f"=== Executing: ===\n{source}\n=== Output: ===")
    _running_again = True
    try:
        body, last = _compile_with_last(rt, rt.shell.transform(source))
        if body is not None:
            rt.shell._run_code(body)
        return rt.shell._run_code(last) if last is not None else None
    finally:
        _running_again = False


@_builtin("recall")
def _recall(rt: MagicRuntime, args: str) -> None:
    """Put earlier input in the next prompt to edit: ``%recall 4``, ``%recall 2-5``, ``%recall word``.

    Without arguments, the last result (``_``) as text; a word recalls the latest input
    holding it.
    """
    spec = args.strip()
    if not spec:
        if not rt.shell.outputs:
            raise CellError("%recall: there is no result to recall yet")
        text = str(rt.shell.user_ns.get("_", ""))
    else:
        store = _history_store(rt, "recall")
        words = spec.split()
        if all(re.fullmatch(r"~?\d*/?\d*(?:[-:]\d+)?", word) for word in words):
            text = "\n".join(_ranges(store, words))
        else:
            found = [
                e[2] for e in store.search(f"*{spec}*") if not re.match(r"\s*%?recall\b", e[2])
            ]
            text = found[-1] if found else ""
        if not text:
            raise CellError(f"%recall: no input in history matches {spec!r}")
    rt.shell.payloads.append({"source": "set_next_input", "text": text, "replace": False})


def _has_cell_frame(tb: TracebackType | None) -> bool:
    while tb is not None:
        if tracebacks.is_cell_file(tb.tb_frame.f_code.co_filename):
            return True
        tb = tb.tb_next
    return False


@_builtin("tb")
def _tb(rt: MagicRuntime, args: str) -> None:
    """Show the last traceback again."""
    exc = getattr(sys, "last_value", None)
    if exc is None:
        print("No traceback available to show.")
        return
    if isinstance(exc, SyntaxError) and not _has_cell_frame(exc.__traceback__):
        lines = tracebacks.syntax_error(exc, rt.shell.cell_names)  # the cell did not compile
    else:
        lines = rt.shell._format_current(exc)
    print("\n".join(lines))


# ----- %pinfo and its parts ---------------------------------------------------------------------


def _expression(args: str, magic: str) -> str:
    expression = args.strip()
    if not expression:
        raise CellError(f"%{magic} needs an object, e.g. %{magic} len")
    return expression


def _lookup_object(rt: MagicRuntime, expression: str) -> tuple[bool, Any]:
    from ..services.inspection import _lookup

    return _lookup(expression, rt.shell.user_ns)


def _find(rt: MagicRuntime, args: str, magic: str) -> tuple[str, Any] | None:
    """(expression, object) named by ``args``, looked up without running code (as ``obj?``);
    None, after saying so, when there is no such object."""
    expression = _expression(args, magic)
    found, value = _lookup_object(rt, expression)
    if not found:
        print(f"Object `{expression}` not found.")
        return None
    return expression, value


def _page(rt: MagicRuntime, text: str) -> None:
    rt.shell.payloads.append({"source": "page", "data": {"text/plain": text}, "start": 0})


@_builtin("pinfo")
def _pinfo(rt: MagicRuntime, args: str) -> None:
    """Describe an object, as ``obj?`` does: ``%pinfo obj``."""
    rt.help(_expression(args, "pinfo"), 0)


@_builtin("pinfo2")
def _pinfo2(rt: MagicRuntime, args: str) -> None:
    """Describe an object with its source, as ``obj??`` does: ``%pinfo2 obj``."""
    rt.help(_expression(args, "pinfo2"), 1)


@_builtin("pdoc")
def _pdoc(rt: MagicRuntime, args: str) -> None:
    """Show an object's docstring (for a class, also its constructor's): ``%pdoc obj``."""
    looked_up = _find(rt, args, "pdoc")
    if looked_up is None:
        return
    expression, value = looked_up
    import inspect

    parts = []
    doc = inspect.getdoc(value)
    if doc:
        parts.append(("Class docstring:\n" if isinstance(value, type) else "") + doc)
    init = vars(value).get("__init__") if isinstance(value, type) else None
    if init is not None and getattr(init, "__doc__", None):
        parts.append("Init docstring:\n" + inspect.cleandoc(init.__doc__))
    if not parts:
        print(f"No documentation found for {expression}")
        return
    _page(rt, "\n\n".join(parts))


@_builtin("pdef")
def _pdef(rt: MagicRuntime, args: str) -> None:
    """Print how to call an object (its signature): ``%pdef func``."""
    looked_up = _find(rt, args, "pdef")
    if looked_up is None:
        return
    expression, value = looked_up
    if not callable(value):
        print(f"Object `{expression}` is not callable.")
        return
    from ..services.completion import signature_text

    signature = signature_text(value)
    print(expression + signature if signature is not None else f"No signature found for {expression}")


@_builtin("psource")
def _psource(rt: MagicRuntime, args: str) -> None:
    """Show an object's source code: ``%psource func``."""
    looked_up = _find(rt, args, "psource")
    if looked_up is None:
        return
    expression, value = looked_up
    from ..services.inspection import _source

    source = _source(value)
    if source is None:
        print(f"No source found for {expression}")
        return
    _page(rt, source.rstrip("\n"))


@_builtin("pfile", expand=True)
def _pfile(rt: MagicRuntime, args: str) -> None:
    """Show the whole file an object is defined in (or a file by name): ``%pfile obj``."""
    expression = _expression(args, "pfile")
    found, value = _lookup_object(rt, expression)
    if found:
        text = _defining_file_text(value)
    else:
        text = _file_text(os.path.expanduser(expression))
        if text is None:
            print(f"Object `{expression}` not found.")
            return
    if text is None:
        print(f"No file found for {expression}")
        return
    _page(rt, text.rstrip("\n"))


def _defining_file_text(value: Any) -> str | None:
    import inspect
    import linecache
    import types

    target = value if isinstance(value, (type, types.ModuleType)) or callable(value) else type(value)
    try:
        target = inspect.unwrap(target)
        filename = inspect.getsourcefile(target) or ""
    except Exception:  # noqa: BLE001 - built-ins, odd objects
        return None
    if tracebacks.is_cell_file(filename):
        return "".join(linecache.getlines(filename)) or None  # defined in a cell
    text = _file_text(filename)
    if text is None:  # a frozen module's code names no file; the module may know its file
        module = inspect.getmodule(target)
        text = _file_text(str(getattr(module, "__file__", None) or ""))
    return text


def _file_text(path: str) -> str | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


# ----- deleting variables -----------------------------------------------------------------------


@_builtin("xdel")
def _xdel(rt: MagicRuntime, args: str) -> None:
    """Delete a variable and the kernel's references to it (``_``, ``__``, ``___``, ``Out``)."""
    name = args.strip()
    if not name.isidentifier():
        raise CellError("%xdel needs one variable name, e.g. %xdel data")
    ns = rt.shell.user_ns
    if name in rt.hidden:
        raise CellError(f"%xdel: `{name}` belongs to the kernel; not deleted")
    if name not in ns:
        raise CellError(f"%xdel: name `{name}` is not defined")
    delete_variable(rt.shell, name)


@_builtin("reset_selective")
def _reset_selective(rt: MagicRuntime, args: str) -> None:
    """Delete the variables whose names match a regular expression: ``%reset_selective [-f] re``.

    -f deletes without asking.
    """
    text = args.strip()
    force = text == "-f" or text.startswith(("-f ", "-f\t"))
    pattern_text = text[2:].strip() if force else text
    if not pattern_text:
        raise CellError("%reset_selective needs a regular expression, e.g. %reset_selective ^tmp")
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        raise CellError(f"%reset_selective: not a regular expression: {pattern_text!r} ({exc})") from None
    names = [name for name in rt.user_names() if pattern.search(name)]
    if not names:
        print("No variables match.")
        return
    if not force and not confirm_deletion("%reset_selective needs confirmation; add -f to delete without asking"):
        return
    for name in names:
        del rt.shell.user_ns[name]


# ----- directories ------------------------------------------------------------------------------


def _dir_stack(rt: MagicRuntime) -> list[str]:
    stack: list[str] = rt.shell.extensions.setdefault("dir_stack", [])
    return stack


def _tilde(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


@_builtin("pushd", expand=True)
def _pushd(rt: MagicRuntime, args: str) -> None:
    """Go to a directory (or a bookmark) and keep the one you leave on a stack: ``%pushd dir``.

    ``%popd`` goes back; ``%dirs`` shows the stack.
    """
    _, words = _split_options(args, "")
    if len(words) > 1:
        raise CellError("%pushd takes one directory (quote a name with spaces)")
    here = os.getcwd()
    if words:
        target = os.path.expanduser(words[0])
        if not os.path.isdir(target):
            target = _read_bookmarks().get(words[0], target)
        change_directory(rt, target, "pushd")
    stack = _dir_stack(rt)
    stack.insert(0, here)
    print(" ".join(_tilde(path) for path in (os.getcwd(), *stack)))


@_builtin("popd")
def _popd(rt: MagicRuntime, args: str) -> None:
    """Go back to the directory the last %pushd left, taking it off the stack."""
    if args.strip():
        raise CellError("%popd takes no arguments")
    stack = _dir_stack(rt)
    if not stack:
        raise CellError("%popd: the directory stack is empty")
    change_directory(rt, stack[0], "popd")
    print(f"popd -> {_tilde(stack.pop(0))}")


@_builtin("dirs")
def _dirs(rt: MagicRuntime, args: str) -> list[str]:
    """Return the directory stack of %pushd (the latest first)."""
    return list(_dir_stack(rt))


@_builtin("dhist")
def _dhist(rt: MagicRuntime, args: str) -> None:
    """Print the directories visited with %cd, %pushd and %popd; ``%dhist N``: the last N."""
    words = args.split()
    if len(words) > 1 or (words and not words[0].isdigit()):
        raise CellError("%dhist takes at most one number, e.g. %dhist 5")
    visited = [*rt.dir_history, os.getcwd()]
    first = max(0, len(visited) - int(words[0])) if words else 0
    print("Directory history:")
    for index in range(first, len(visited)):
        print(f"{index}: {visited[index]}")


def _bookmarks_path() -> str:
    return os.path.join(_data_dir(), BOOKMARKS_FILE)


def _read_bookmarks() -> dict[str, str]:
    import json

    path = _bookmarks_path()
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CellError(f"cannot read the bookmarks in {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CellError(f"cannot read the bookmarks in {path}: not a JSON object")
    return {str(name): str(target) for name, target in data.items()}


def _write_bookmarks(marks: dict[str, str]) -> None:
    import json

    _private_dir(_data_dir())
    text = json.dumps(marks, indent=1, sort_keys=True) + "\n"
    _write_private(_bookmarks_path(), text.encode("utf-8"))


@_builtin("bookmark", expand=True)
def _bookmark(rt: MagicRuntime, args: str) -> None:
    """Name a directory: ``%bookmark name [dir]`` (default: here); ``-l`` lists, ``-d name`` deletes.

    Bookmarks are kept between sessions; ``%pushd name`` goes to one.
    """
    opts, words = _split_options(args, "ld")
    marks = _read_bookmarks()
    if "l" in opts:
        if words or "d" in opts:
            raise CellError("%bookmark -l takes nothing else")
        width = max((len(name) for name in marks), default=0)
        lines = [f"{name:<{width}} -> {marks[name]}" for name in sorted(marks)]
        print("\n".join(["Current bookmarks:", *lines]) if marks else "No bookmarks.")
    elif "d" in opts:
        if len(words) != 1:
            raise CellError("%bookmark -d needs one bookmark name")
        if words[0] not in marks:
            raise CellError(f"%bookmark: no bookmark named {words[0]!r}")
        del marks[words[0]]
        _write_bookmarks(marks)
    else:
        if not 1 <= len(words) <= 2:
            raise CellError("usage: %bookmark name [dir], %bookmark -l, %bookmark -d name")
        target = os.path.expanduser(words[1]) if len(words) == 2 else os.getcwd()
        marks[words[0]] = os.path.abspath(target)
        _write_bookmarks(marks)


# ----- aliases ----------------------------------------------------------------------------------


_ALIASES: dict[str, str] = {}  # alias name -> its command template
_PLACEHOLDER = re.compile(r"%[sl%]")

DEFAULT_ALIASES = (
    ("cat", "cat"), ("clear", "clear"), ("cp", "cp"), ("less", "less"), ("ls", "ls -F"),
    ("man", "man"), ("mkdir", "mkdir"), ("more", "more"), ("mv", "mv"), ("rm", "rm"),
    ("rmdir", "rmdir"), ("ll", "ls -F -l"),
    ("lf", "ls -F -l %l | grep '^-'"),  # plain files
    ("lk", "ls -F -l %l | grep '^l'"),  # symbolic links
    ("ldir", "ls -F -l %l | grep '/$'"),  # directories
    ("lx", "ls -F -l %l | grep '^-..x'"),  # files the owner may run
)


def alias_command(name: str, template: str, line: str) -> str:
    """The shell command for alias ``name`` given ``line``: ``%s`` takes the next word, ``%l``
    the whole line, ``%%`` is a ``%``; words no ``%s`` took (or the line) go at the end."""
    wanted = _PLACEHOLDER.findall(template).count("%s")
    words = line.split(None, wanted) if wanted else []
    if len(words) < wanted:
        raise CellError(f"alias {name} needs {wanted} arguments, {len(words)} given")
    positional = iter(words[:wanted])
    whole = "%l" in template

    def fill(match: re.Match[str]) -> str:
        token = match.group()
        return "%" if token == "%%" else line if token == "%l" else next(positional)

    command = _PLACEHOLDER.sub(fill, template)
    rest = "" if whole else " ".join(words[wanted:]) if wanted else line
    return f"{command} {rest}" if rest else command


def _alias_magic(name: str, template: str) -> Callable[[MagicRuntime, str], None]:
    def run_alias(rt: MagicRuntime, args: str) -> None:
        command = alias_command(name, template, args.strip())
        rt.shell.user_ns["_exit_code"] = run_process(command, shell=True)

    run_alias.__doc__ = f"Alias for the shell command `{template}`."
    return run_alias


def define_alias(name: str, template: str) -> None:
    """Make ``%name args`` run ``template`` in a shell (see ``alias_command``)."""
    if not name.isidentifier():
        raise CellError(f"%alias: not a valid name: {name!r}")
    if name in _LINE and name not in _ALIASES:
        raise CellError(f"%alias: %{name} is a magic; choose another name")
    kinds = set(_PLACEHOLDER.findall(template))
    if "%s" in kinds and "%l" in kinds:
        raise CellError("%alias: use %s or %l in a command, not both")
    _ALIASES[name] = template
    _LINE[name] = Magic(name, _alias_magic(name, template), cell=False, builtin=True, expand=True)


@_builtin("alias")
def _alias(rt: MagicRuntime, args: str) -> None:
    """Define a shell command as a magic: ``%alias name command``; ``%alias`` lists them.

    In the command ``%s`` takes the next argument and ``%l`` the whole line; other arguments
    go at the end. ``$name`` and ``{expr}`` in the arguments are replaced by Python values.
    """
    name, _, template = args.strip().partition(" ")
    if not name:
        width = max((len(alias) for alias in _ALIASES), default=0)
        print(f"Total number of aliases: {len(_ALIASES)}")
        for alias in sorted(_ALIASES):
            print(f"{alias:<{width}}  {_ALIASES[alias]}")
        return
    if not template.strip():
        raise CellError("usage: %alias name command (%s: the next argument, %l: the whole line)")
    define_alias(name, template.strip())


@_builtin("unalias")
def _unalias(rt: MagicRuntime, args: str) -> None:
    """Remove an alias: ``%unalias name``."""
    name = args.strip()
    if name not in _ALIASES:
        raise CellError(f"%unalias: {name!r} is not an alias" if name else "%unalias needs a name")
    del _ALIASES[name]
    _LINE.pop(name, None)


def _default_aliases() -> None:
    for name, template in DEFAULT_ALIASES:
        func = _alias_magic(name, template)
        _builtin(name, expand=True)(func)
        if _LINE[name].func is func:  # a magic of the user's with that name wins
            _ALIASES[name] = template


_default_aliases()


@_builtin("file", cell=True, expand=True)
def _file_cell(rt: MagicRuntime, args: str, body: str) -> None:
    """Write the cell to a file, as %%writefile: ``%%file [-a] path`` (-a appends)."""
    magic = _CELL.get("writefile")
    if magic is None:
        raise CellError("%%file needs %%writefile, which is not available")
    if magic.builtin:
        magic.func(rt, args, body)
    else:
        magic.func(args, body)
