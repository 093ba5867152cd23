"""The built-in magics: ``%time``, ``%history``, ``%cd``, ``%%bash``, ... (see ``%lsmagic``).

Each is a function taking the ``MagicRuntime`` and its argument text (and the cell body for cell
magics), registered with ``kernel.magics.registry``. This module is imported when the first
magic runs or the magic names are asked for, so kernel start-up does not pay for it.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from ..execution.tracebacks import CellError
from .registry import _CELL, _LINE, _builtin
from .runtime import LineList, MagicRuntime, run_process

if TYPE_CHECKING:
    from ..services.history import HistoryStore

# ----- helpers for the built-in magics ----------------------------------------------------------


def _split_options(args: str, flags: str, with_value: str = "") -> tuple[dict[str, str], list[str]]:
    """Parse ``-x`` style options: ``flags`` take no value, ``with_value`` take one."""
    import shlex

    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise CellError(f"cannot parse the arguments: {exc}") from None
    options: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            rest.extend(words[i + 1 :])
            break
        if word.startswith("-") and len(word) > 1 and not rest and not word[1].isdigit():
            letters = word[1:]
            j = 0
            while j < len(letters):
                letter = letters[j]
                if letter in with_value:
                    value = letters[j + 1 :]
                    if not value:
                        i += 1
                        if i >= len(words):
                            raise CellError(f"option -{letter} needs a value")
                        value = words[i]
                    options[letter] = value
                    break
                if letter not in flags:
                    raise CellError(f"unknown option -{letter}")
                options[letter] = ""
                j += 1
        else:
            rest.append(word)
        i += 1
    return options, rest


def _format_seconds(seconds: float, precision: int = 3) -> str:
    """A duration as IPython's %time and %timeit write it: ``1.23 ms``, ``456 ns``, ``2min 3s``."""
    if seconds >= 60.0:
        parts = []
        left = seconds
        for suffix, length in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
            value = int(left / length)
            if value > 0:
                left = left % length
                parts.append(f"{value}{suffix}")
            if left < 1:
                break
        return " ".join(parts)
    import math

    order = min(-int(math.floor(math.log10(seconds)) // 3), 3) if seconds > 0.0 else 3
    unit = ("s", "ms", "\u03bcs", "ns")[order]
    return f"{seconds * (1, 1e3, 1e6, 1e9)[order]:.{precision}g} {unit}"


def _compile_with_last(runtime: MagicRuntime, source: str) -> tuple[Any, Any]:
    """(body, last expression) code objects for ``source``, kept in linecache."""
    import ast

    shell = runtime.shell
    filename = shell.register_source(source, shell.execution_count)
    tree = ast.parse(source, filename=filename)
    flags = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0x2000)  # `%time await f()` works
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        node = tree.body.pop()
        assert isinstance(node, ast.Expr)
        last = compile(ast.Expression(node.value), filename, "eval", flags=flags, dont_inherit=True)
    body = compile(tree, filename, "exec", flags=flags, dont_inherit=True) if tree.body else None
    return body, last


# ----- built-in magics --------------------------------------------------------------------------


@_builtin("connect_info")
def _connect_info(rt: MagicRuntime, args: str) -> None:
    """Show the connection information and how to attach a second console to this kernel."""
    import json

    if rt.connection_info is None:
        raise CellError("connection information is not available in this kernel")
    info = rt.connection_info.to_dict() if hasattr(rt.connection_info, "to_dict") else dict(rt.connection_info)
    # the kernel's CurveZMQ secret key stays off the screen: clients read it from the file
    hidden = bool(info.pop("curve_secretkey", ""))
    print(json.dumps(info, indent=1))
    if hidden:
        print("(curve_secretkey left out: clients read it from the connection file)")
    path = rt.connection_file
    if not path:
        print("\n(this kernel has no connection file)")
        return
    name = os.path.basename(path)
    print(f"\nConnection file: {path}")
    print("\nAttach another console to this kernel with:\n")
    print(f"    mycon --existing {path}")
    if os.path.dirname(os.path.abspath(path)) == _runtime_dir():
        print(f"\nor, on this machine, just:\n\n    mycon --existing {name}")
    print(f"\n{_encryption_note(rt.connection_info, path)}")


def _encryption_note(connection_info: Any, path: str) -> str:
    """Whether the kernel's traffic is encrypted and which clients can attach."""
    from ..connection import ConnectionInfo, encryption_note

    if not isinstance(connection_info, ConnectionInfo):
        connection_info = ConnectionInfo(**dict(connection_info))
    return encryption_note(connection_info, path)


def _runtime_dir() -> str:
    try:
        from ..connection import runtime_dir

        return os.path.abspath(str(runtime_dir()))
    except Exception:  # noqa: BLE001
        return ""


@_builtin("hist")
@_builtin("history")
def _history(rt: MagicRuntime, args: str) -> None:
    """Print input history. Ranges: ``4``, ``4-6``, ``~1/`` (previous session), ``~1/2-5``.

    Options: -n line numbers; -o outputs; -p ``>>>`` prompts; -t transformed source;
    -g PATTERN search all sessions (glob, ``*`` added around); -l [N] the last N (default 10);
    -u unique (with -g); -f FILE write to a file.
    """
    store = rt.history
    if store is None:
        raise CellError("history is not available in this kernel")
    opts, rest = _split_options(args, "noptul", "gf")
    raw = "t" not in opts
    output = "o" in opts
    if "g" in opts:
        pattern = "*" + " ".join([opts["g"], *rest]).strip() + "*"
        entries = store.search(pattern, raw, output, None, "u" in opts)
    elif "l" in opts:
        count = int(rest[0]) if rest and rest[0].isdigit() else 10
        current = store.current_session()
        entries = [  # as IPython's: the last ``count`` before this %history line
            e for e in store.tail(count + 1, raw, output)
            if (e[0], e[1]) != (current, rt.shell.execution_count)
        ][-count:] if count else []
    elif rest:
        entries = []
        for spec in rest:
            entries.extend(_history_range(store, spec, raw, output))
    else:
        current = store.current_session()
        entries = store.range(current, 1, None, raw, output)  # this %history line too, as IPython
    current = store.current_session()
    lines: list[str] = []
    for session, line, value in entries:
        source, out = (value[0], value[1]) if output else (value, None)
        source = source.expandtabs(4).rstrip()
        multiline = "\n" in source
        prefix = ""
        if "n" in opts or "g" in opts:  # numbers right-aligned in 4 columns, as IPython prints them
            number = str(line) if session in (0, current) else f"{session}/{line}"
            prefix = number.rjust(4) + (":\n" if multiline else ": ")
        if "p" in opts:
            source = ">>> " + ("\n... ".join(source.splitlines()) + "\n..." if multiline else source)
        lines.append(prefix + source)
        if out:
            lines.append(str(out))
    text = "\n".join(lines)
    if "f" in opts:
        with open(os.path.expanduser(opts["f"]), "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        print(f"History written to {opts['f']}")
    elif text:
        print(text)


_RANGE = r"^(?:(~?)(\d+)/)?(\d+)?(?:[-:](\d+))?$"


def _history_range(store: HistoryStore, spec: str, raw: bool, output: bool) -> list[list[Any]]:
    match = re.match(_RANGE, spec)
    if match is None or not spec:
        raise CellError(f"not a history range: {spec!r} (use 4, 4-6, ~1/ or ~1/2-5)")
    relative, session_text, start_text, stop_text = match.groups()
    session = 0
    if session_text is not None:
        session = -int(session_text) if relative else int(session_text)
    if start_text is None:
        return store.range(session, 1, None, raw, output)
    start = int(start_text)
    stop = int(stop_text) + 1 if stop_text is not None else start + 1
    return store.range(session, start, stop, raw, output)


@_builtin("time")
def _time(rt: MagicRuntime, args: str) -> Any:
    """Time one statement or expression: ``%time expr``; its value is returned."""
    return _run_timed(rt, args)


@_builtin("time", cell=True)
def _time_cell(rt: MagicRuntime, args: str, body: str) -> Any:
    """Time the whole cell; the value of its last expression is returned."""
    return _run_timed(rt, body)


def _run_timed(rt: MagicRuntime, source: str) -> Any:
    if not source.strip():
        raise CellError("%time needs a statement to time, e.g. %time sum(range(10**6))")
    source = rt.shell.transform(source)  # the timed code may hold magics or !commands too
    body, last = _compile_with_last(rt, source)
    run = rt.shell._run_code  # runs a code object in the namespace, awaiting it if needed
    cpu0, wall0 = _cpu_times(), time.perf_counter()
    try:
        if body is not None:
            run(body)
        return run(last) if last is not None else None
    finally:  # the times are printed when the code fails too, as IPython does
        wall = time.perf_counter() - wall0
        cpu1 = _cpu_times()
        user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
        print(
            f"CPU times: user {_format_seconds(user)}, sys: {_format_seconds(system)}, "
            f"total: {_format_seconds(user + system)}\nWall time: {_format_seconds(wall)}"
        )


def _cpu_times() -> tuple[float, float]:
    """(user, system) CPU seconds of this process, as finely as the system tells."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime
    except ImportError:
        times = os.times()
        return times.user, times.system


class TimeitResult:
    """What ``%timeit -o`` returns: per-loop times of each run (IPython's fields)."""

    def __init__(self, loops: int, all_runs: list[float], precision: int = 3) -> None:
        self.loops = loops
        self.repeat = len(all_runs)
        self.all_runs = all_runs  # seconds per run of ``loops`` loops
        self.timings = [run / loops for run in all_runs]  # seconds per loop, one per run
        self.best = min(self.timings)
        self.worst = max(self.timings)
        self.average = sum(self.timings) / len(self.timings)
        mean = self.average
        self.stdev = (sum((t - mean) ** 2 for t in self.timings) / len(self.timings)) ** 0.5
        self.compile_time = 0.0
        self._precision = precision

    def __str__(self) -> str:
        return (
            f"{_format_seconds(self.average, self._precision)} \u00b1 "
            f"{_format_seconds(self.stdev, self._precision)} per loop (mean \u00b1 std. dev. of "
            f"{self.repeat} run{'' if self.repeat == 1 else 's'}, "
            f"{self.loops:,} loop{'' if self.loops == 1 else 's'} each)"
        )

    def __repr__(self) -> str:
        return f"<TimeitResult : {self}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


@_builtin("timeit")
def _timeit(rt: MagicRuntime, args: str) -> Any:
    """Time a statement over many loops: ``%timeit [-n LOOPS] [-r RUNS] [-q] [-o] stmt``.

    Without -n the loop count is chosen so one run takes at least 0.2 s.
    """
    options, statement = _timeit_options(args)
    return _run_timeit(rt, statement, "pass", options)


@_builtin("timeit", cell=True)
def _timeit_cell(rt: MagicRuntime, args: str, body: str) -> Any:
    """Time the cell's body; the rest of the first line is set-up code run once per run."""
    options, setup = _timeit_options(args)
    return _run_timeit(rt, body, setup or "pass", options)


def _timeit_options(args: str) -> tuple[dict[str, str], str]:
    options: dict[str, str] = {}
    rest = args.strip()
    while True:
        match = re.match(r"^-(n|r|p)\s*(\d+)\s*|^-(q|o)\b\s*", rest)
        if match is None:
            break
        if match.group(1):
            options[match.group(1)] = match.group(2)
        else:
            options[match.group(3)] = ""
        rest = rest[match.end() :]
    return options, rest


def _run_timeit(rt: MagicRuntime, statement: str, setup: str, options: dict[str, str]) -> Any:
    import timeit

    if not statement.strip():
        raise CellError("%timeit needs a statement to time, e.g. %timeit sum(range(100))")
    timer = timeit.Timer(statement, setup, timer=time.perf_counter, globals=rt.shell.user_ns)
    repeat = int(options.get("r", 7)) or 1
    if "n" in options:
        loops = int(options["n"]) or 1
    else:  # as IPython: the first power of ten whose loops take at least 0.2 s
        for power in range(10):
            loops = 10**power
            if timer.timeit(loops) >= 0.2:
                break
    result = TimeitResult(loops, timer.repeat(repeat=repeat, number=loops), int(options.get("p", 3)))
    if "q" not in options:
        if result.worst > 4 * result.best and result.best > 0 and result.worst > 1e-6:
            print(f"The slowest run took {result.worst / result.best:0.2f} times longer than the "
                  "fastest. This could mean that an intermediate result is being cached.")
        print(result)
    return result if "o" in options else None


@_builtin("who")
def _who(rt: MagicRuntime, args: str) -> None:
    """List the names you defined; ``%who int function`` lists only those types."""
    wanted = args.split()
    names = [
        n for n in sorted(rt.user_names())
        if not wanted or type(rt.shell.user_ns[n]).__name__ in wanted
    ]
    print("\t".join(names) if names else "Interactive namespace is empty.")


@_builtin("whos")
def _whos(rt: MagicRuntime, args: str) -> None:
    """Like %who, as a table with each variable's type and value."""
    wanted = args.split()
    ns = rt.shell.user_ns
    names = [n for n in sorted(rt.user_names()) if not wanted or type(ns[n]).__name__ in wanted]
    if not names:
        print("Interactive namespace is empty.")
        return
    rows = []
    for name in names:
        value = ns[name]
        try:
            text = repr(value)
        except Exception as exc:  # noqa: BLE001
            text = f"<repr failed: {type(exc).__name__}>"
        text = text.replace("\n", " ")
        if len(text) > 60:
            text = text[:57] + "..."
        rows.append((name, type(value).__name__, text))
    width_name = max(8, *(len(r[0]) for r in rows))
    width_type = max(4, *(len(r[1]) for r in rows))
    print(f"{'Variable':<{width_name}}   {'Type':<{width_type}}   Data/Info")
    print("-" * (width_name + width_type + 16))
    for name, kind, text in rows:
        print(f"{name:<{width_name}}   {kind:<{width_type}}   {text}")


def confirm_deletion(without_stdin: str) -> bool:
    """Ask before deleting variables; False (after saying so) unless the answer is yes.

    ``without_stdin``: the error when the client cannot answer (how to skip the question).
    """
    try:
        answer = input("Once deleted, variables cannot be recovered. Proceed (y/[n])? ")
    except RuntimeError:
        raise CellError(without_stdin) from None
    if answer.strip().lower() not in ("y", "yes"):
        print("Nothing done.")
        return False
    return True


@_builtin("reset")
def _reset(rt: MagicRuntime, args: str) -> None:
    """Delete every name you defined and the output history (``-f``: without asking)."""
    opts, _ = _split_options(args, "fs")
    if "f" not in opts and not confirm_deletion("%reset needs confirmation; use %reset -f to reset without asking"):
        return
    ns = rt.shell.user_ns
    for name in list(ns):
        if name not in rt.hidden:
            del ns[name]
    rt.shell.outputs.clear()
    ns.update(_="", __="", ___="")


@_builtin("pwd")
def _pwd(rt: MagicRuntime, args: str) -> str:
    """Return the current working directory."""
    return os.getcwd()


def change_directory(rt: MagicRuntime, target: str, magic: str) -> None:
    """``os.chdir(target)`` for ``%magic``; the directory left goes to ``rt.dir_history``."""
    previous = os.getcwd()
    try:
        os.chdir(target)
    except FileNotFoundError:
        raise CellError(f"%{magic}: no such directory: {target}") from None
    except NotADirectoryError:
        raise CellError(f"%{magic}: not a directory: {target}") from None
    except OSError as exc:
        raise CellError(f"%{magic}: {target}: {exc.strerror}") from None
    rt.dir_history.append(previous)


@_builtin("cd", expand=True)
def _cd(rt: MagicRuntime, args: str) -> None:
    """Change the working directory: ``%cd path``, ``%cd`` (home), ``%cd -`` (previous)."""
    opts, rest = _split_options(args, "q")
    target = " ".join(rest) if rest else os.path.expanduser("~")
    if target == "-":
        if not rt.dir_history:
            raise CellError("cd -: no previous directory")
        target = rt.dir_history[-1]
    change_directory(rt, os.path.expanduser(os.path.expandvars(target)), "cd")
    if "q" not in opts:
        print(os.getcwd())


@_builtin("env", expand=True)
def _env(rt: MagicRuntime, args: str) -> Any:
    """Environment variables: ``%env`` (all), ``%env NAME``, ``%env NAME=value``."""
    text = args.strip()
    if not text:
        return dict(os.environ)
    if "=" in text or " " in text:
        name, _, value = text.partition("=") if "=" in text else text.partition(" ")
        name, value = name.strip(), value.strip()
        if not name:
            raise CellError("%env: give a variable name, e.g. %env NAME=value")
        os.environ[name] = value
        print(f"env: {name}={value}")
        return None
    if text not in os.environ:
        raise CellError(f"%env: environment variable {text} is not set")
    return os.environ[text]


@_builtin("run", expand=True)
def _run(rt: MagicRuntime, args: str) -> None:
    """Run a Python file as a program (``__name__ == "__main__"``), then keep its names.

    ``%run file.py arg1 arg2`` sets sys.argv; ``-i`` runs it in your namespace.
    """
    opts, rest = _split_options(args, "i")
    if not rest:
        raise CellError("%run needs a file name, e.g. %run script.py")
    path = os.path.expanduser(rest[0])
    if not os.path.isfile(path) and os.path.isfile(path + ".py"):
        path += ".py"
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except FileNotFoundError:
        raise CellError(f"File `{rest[0]}` not found.") from None
    except OSError as exc:
        raise CellError(f"cannot read {rest[0]}: {exc.strerror}") from None
    path = os.path.abspath(path)
    code = compile(source, path, "exec", dont_inherit=True)
    ns = rt.shell.user_ns
    if "i" in opts:
        target = ns
        saved = {k: ns.get(k) for k in ("__file__",)}
    else:
        target = {"__name__": "__main__", "__builtins__": builtins, "__doc__": None}
        saved = {}
    target["__file__"] = path
    old_argv = sys.argv
    sys.argv = [path, *rest[1:]]
    try:
        exec(code, target)  # noqa: S102 - running the user's program
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise CellError(f"{rest[0]} exited with status {exc.code}") from None
    finally:
        sys.argv = old_argv
        if target is not ns:
            ns.update({k: v for k, v in target.items() if not k.startswith("__")})
        else:
            for key, value in saved.items():
                if value is None:
                    ns.pop(key, None)
                else:
                    ns[key] = value


def _read_text(spec: str, ns: dict[str, Any]) -> tuple[str, str]:
    """(text, file name) for a file path or the name of an object with source."""
    path = os.path.expanduser(spec)
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(), os.path.abspath(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise CellError(f"cannot read {spec}: {exc}") from None
    obj = _lookup(spec, ns)
    if obj is not None:
        import inspect

        try:
            return inspect.getsource(obj), inspect.getsourcefile(obj) or ""
        except (OSError, TypeError):
            pass
    raise CellError(f"`{spec}` is neither a file nor an object with source code")


def _lookup(expression: str, ns: dict[str, Any]) -> Any:
    parts = expression.split(".")
    if not parts or not all(p.isidentifier() for p in parts) or parts[0] not in ns:
        return None
    obj = ns[parts[0]]
    for part in parts[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@_builtin("load", expand=True)
def _load(rt: MagicRuntime, args: str) -> None:
    """Replace the input with a file's contents (or an object's source): ``%load file.py``."""
    spec = args.strip()
    if not spec:
        raise CellError("%load needs a file name, e.g. %load script.py")
    text, _ = _read_text(spec, rt.shell.user_ns)
    rt.shell.payloads.append({
        "source": "set_next_input",
        "text": f"# %load {spec}\n{text}",
        "replace": True,
    })


@_builtin("edit", expand=True)
def _edit(rt: MagicRuntime, args: str) -> None:
    """Open a file (or an object's source, or a new scratch file) in the console's $EDITOR."""
    spec = args.strip()
    line_number = 1
    if not spec:
        import tempfile

        handle, filename = tempfile.mkstemp(prefix="mycon_edit_", suffix=".py")
        os.close(handle)
    else:
        path = os.path.expanduser(spec)
        obj = None if os.path.exists(path) else _lookup(spec, rt.shell.user_ns)
        if obj is None:
            filename = os.path.abspath(path)
        else:
            filename, line_number = _source_location(rt, spec, obj)
    rt.shell.payloads.append({"source": "edit_magic", "filename": filename, "line_number": line_number})


def _source_location(rt: MagicRuntime, spec: str, obj: Any) -> tuple[str, int]:
    import inspect

    try:
        filename = inspect.getsourcefile(obj) or ""
        lines, start = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        raise CellError(f"cannot find the source of `{spec}`") from None
    if os.path.isfile(filename):
        return os.path.abspath(filename), max(1, start)
    import tempfile

    handle, scratch = tempfile.mkstemp(prefix=f"mycon_{spec.replace('.', '_')}_", suffix=".py")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("".join(lines))
    return scratch, 1


@_builtin("pip", expand=True)
def _pip(rt: MagicRuntime, args: str) -> None:
    """Run pip for this kernel's Python (``sys.executable -m pip``), output streamed."""
    import shlex

    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise CellError(f"cannot parse the arguments: {exc}") from None
    code = run_process([sys.executable, "-m", "pip", *words])
    rt.shell.user_ns["_exit_code"] = code
    if words and words[0] in ("install", "uninstall") and code == 0:
        print("Note: you may need to restart the kernel to use updated packages.")


@_builtin("sx", expand=True)
def _sx(rt: MagicRuntime, args: str) -> LineList:
    """Run a shell command and return its output lines (like ``x = !cmd``)."""
    return rt.getoutput(args)


@_builtin("system", expand=True)
def _system(rt: MagicRuntime, args: str) -> LineList:
    """Same as %sx."""
    return rt.getoutput(args)


class MagicListing:
    """What ``%lsmagic`` returns: shown as a result, as IPython shows its listing."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self.text))  # ipykernel's text/plain for it is the quoted string


@_builtin("lsmagic")
def _lsmagic(rt: MagicRuntime, args: str) -> MagicListing:
    """List the available magics."""
    line = "  ".join("%" + name for name in sorted(_LINE))
    cell = "  ".join("%%" + name for name in sorted(_CELL))
    return MagicListing(f"Available line magics:\n{line}\n\nAvailable cell magics:\n{cell}\n\n"
                        + _automagic_state(rt))


def _automagic_state(rt: MagicRuntime) -> str:
    if getattr(rt.shell.automagic, "enabled", False):  # IPython's words
        return "Automagic is ON, % prefix IS NOT needed for line magics."
    return "Automagic is OFF, % prefix IS needed for line magics."


@_builtin("automagic")
def _automagic(rt: MagicRuntime, args: str) -> None:
    """Turn automagic (line magics without their %) on or off: ``%automagic [on|off]``."""
    automagic = rt.shell.automagic
    if automagic is None or not hasattr(automagic, "enabled"):
        raise CellError("automagic is not available in this kernel")
    choice = args.strip().lower()
    if choice in ("", "toggle"):
        automagic.enabled = not automagic.enabled
    elif choice in ("on", "1", "true", "yes"):
        automagic.enabled = True
    elif choice in ("off", "0", "false", "no"):
        automagic.enabled = False
    else:
        raise CellError(f"%automagic: expected on or off, not {args.strip()!r}")
    print(_automagic_state(rt))


QUICKREF = """\
mycon kernel: quick reference

  obj? / ?obj     describe obj (type, signature, docstring, file)
  obj??           ... and show its source
  %magic?         help for a magic
  !cmd            run a shell command, output streamed
  x = !cmd        run it, keep its output lines in x
  $name, {expr}   in shell commands: replaced by Python values
  cd .., pwd      line magics work without % unless a variable has the name (%automagic)
  _, __, ___      the last three results; _N, Out[N], In[N], _iN
  exit, quit      leave the console
"""


def page(rt: MagicRuntime, text: str) -> None:
    """Show ``text`` in the front end's pager (a ``page`` payload), as IPython's help does."""
    rt.shell.payloads.append({"source": "page", "data": {"text/plain": text}, "start": 0})


@_builtin("quickref")
def _quickref(rt: MagicRuntime, args: str) -> None:
    """Show a quick reference of the special syntax and the magics."""
    page(rt, QUICKREF + "\n" + _magic_summary())


@_builtin("magic")
def _magic(rt: MagicRuntime, args: str) -> None:
    """Describe the magic system and every magic."""
    page(rt, "Magics are commands for the kernel itself: %name args on a line, %%name args on a "
             "cell's first line (the rest of the cell is its input).\nRegister your own with "
             "kernel.magics.register_line_magic / register_cell_magic.\n\n" + _magic_summary())


def _magic_summary() -> str:
    lines = []
    for prefix, table in (("%", _LINE), ("%%", _CELL)):
        for name in sorted(table):
            doc = (table[name].func.__doc__ or "").strip().splitlines()
            lines.append(f"  {prefix + name:<16} {doc[0] if doc else ''}")
    return "\n".join(lines)


@_builtin("writefile", cell=True, expand=True)
def _writefile(rt: MagicRuntime, args: str, body: str) -> None:
    """Write the cell to a file: ``%%writefile [-a] path`` (-a appends)."""
    opts, rest = _split_options(args, "a")
    if len(rest) != 1:
        raise CellError("%%writefile needs one file name, e.g. %%writefile script.py")
    path = os.path.expanduser(rest[0])
    exists = os.path.exists(path)
    verb = "Appending to" if "a" in opts else ("Overwriting" if exists else "Writing")
    try:
        with open(path, "a" if "a" in opts else "w", encoding="utf-8") as handle:
            handle.write(body if body.endswith("\n") or not body else body + "\n")
    except OSError as exc:
        raise CellError(f"cannot write {rest[0]}: {exc.strerror}") from None
    print(f"{verb} {rest[0]}")


@_builtin("autoawait")
def _autoawait(rt: MagicRuntime, args: str) -> None:
    """Show or set whether a cell may ``await`` at top level: ``on``/``off``, or ``asyncio``.

    With no argument, prints the current state. Cells run on the kernel's asyncio loop; other
    loop runners (trio, curio) are not available here.
    """
    param = args.strip()
    shell = rt.shell
    if not param:
        state = "off" if shell.extensions.get("autoawait") is False else "on"
        print(f"IPython autoawait is `{state}`, and set to use `asyncio`")
    elif param.lower() in ("false", "off"):
        shell.extensions["autoawait"] = False
    elif param.lower() in ("true", "on", "asyncio"):
        shell.extensions.pop("autoawait", None)
    else:
        raise CellError(f"%autoawait {param}: this kernel runs top-level await on asyncio only "
                        "(use on, off or asyncio)")
