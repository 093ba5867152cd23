"""Magics, shell escapes and ``?`` help: the runtime that transformed cells call.

``kernel.transform`` rewrites ``%name args`` into ``__mycon_magic__.line("name", "args")`` and
so on; ``install`` puts a ``MagicRuntime`` bound to the shell into builtins under that name
(``kernel.services`` does so on the first magic, to keep start-up light).

Users add their own magics with ``register_line_magic`` / ``register_cell_magic`` (as plain
decorators or with a name): a line magic is called with the argument text, a cell magic with
the argument text and the cell body.

The built-in magics live in ``kernel.magic_commands``, imported on first need; heavy modules
(subprocess, json, timeit, inspect, shlex) are imported inside the functions that use them.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .shell import CellError

if TYPE_CHECKING:
    from .history import HistoryStore
    from .shell import Shell

HELPER_NAME = "__mycon_magic__"


class Magic:
    """One registered magic (a plain class: a dataclass costs import time)."""

    __slots__ = ("name", "func", "cell", "builtin", "expand")

    def __init__(
        self, name: str, func: Callable[..., Any], cell: bool, builtin: bool, expand: bool = False
    ) -> None:
        self.name = name
        self.func = func
        self.cell = cell  # a cell magic (``%%name``) rather than a line magic
        self.builtin = builtin  # built-ins take the runtime as first argument
        self.expand = expand  # expand ``$name`` and ``{expr}`` in the arguments


_LINE: dict[str, Magic] = {}
_CELL: dict[str, Magic] = {}


_builtins_loaded = False


def _register(magic: Magic) -> None:
    (_CELL if magic.cell else _LINE)[magic.name] = magic


def _builtin(name: str, cell: bool = False, expand: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a built-in magic; a user magic of the same name registered earlier wins."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        (_CELL if cell else _LINE).setdefault(name, Magic(name, func, cell, builtin=True, expand=expand))
        return func

    return decorate


BUILTIN_MODULES = ("magic_commands", "debug_magics", "autoreload", "notebook_magics", "workspace_magics")  # each registers on import


def _ensure_builtins() -> None:
    """Import the built-in magics on first need (the modules in ``BUILTIN_MODULES``)."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        import importlib

        for name in BUILTIN_MODULES:
            importlib.import_module(f"{__package__}.{name}")


def _user_decorator(cell: bool, arg: Any) -> Any:
    def decorate(func: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
        _register(Magic(name or func.__name__, func, cell, builtin=False))
        return func

    if callable(arg):
        return decorate(arg)
    if arg is not None and not isinstance(arg, str):
        raise TypeError("register a magic with @register_line_magic or @register_line_magic('name')")
    return lambda func: decorate(func, arg)


def register_line_magic(name_or_func: Any = None) -> Any:
    """Decorator: ``@register_line_magic`` or ``@register_line_magic("name")``; ``func(line)``."""
    return _user_decorator(False, name_or_func)


def register_cell_magic(name_or_func: Any = None) -> Any:
    """Decorator for cell magics: ``func(line, cell)``, used as ``%%name line``."""
    return _user_decorator(True, name_or_func)


def is_line_magic(name: str) -> bool:
    """True if ``%name`` is a line magic (built-in or the user's)."""
    if name in _LINE:
        return True
    _ensure_builtins()
    return name in _LINE


def magic_names() -> list[str]:
    """All magic names as typed: ``%name`` for line magics, ``%%name`` for cell magics."""
    _ensure_builtins()
    return sorted("%" + name for name in _LINE) + sorted("%%" + name for name in _CELL)


# ----- the runtime ------------------------------------------------------------------------------


class LineList(list[str]):
    """The lines printed by ``x = !cmd``; ``.s`` joins them with spaces, ``.n`` with newlines."""

    @property
    def s(self) -> str:
        return " ".join(self)

    @property
    def n(self) -> str:
        return "\n".join(self)

    @property
    def l(self) -> list[str]:  # noqa: E743 - IPython's name for it
        return list(self)


class MagicRuntime:
    """What transformed cells call: runs magics and shell commands against one shell."""

    def __init__(
        self,
        shell: Shell,
        connection_info: Any = None,
        connection_file: str | None = None,
        hidden: set[str] | None = None,
    ) -> None:
        self.shell = shell
        self.connection_info = connection_info
        self.connection_file = connection_file
        # names present before the user typed anything (not listed by %who, kept by %reset)
        self.hidden = set(shell.user_ns) if hidden is None else hidden
        self.dir_history: list[str] = []

    @property
    def history(self) -> HistoryStore | None:
        store: HistoryStore | None = self.shell.extensions.get("history")
        return store

    # ----- entry points used by transformed code -------------------------------------------

    def line(self, name: str, args: str) -> Any:
        """Run the line magic ``%name args``."""
        _ensure_builtins()
        magic = _LINE.get(name)
        if magic is None:
            hint = f" (there is a cell magic %%{name}: put it on the cell's first line)" if name in _CELL else ""
            raise CellError(f"Line magic function `%{name}` not found{hint}. %lsmagic lists the magics.")
        if magic.expand:
            args = self.expand(args)
        if magic.builtin:
            return magic.func(self, args)
        return magic.func(args)

    def cell(self, name: str, args: str, body: str) -> Any:
        """Run the cell magic ``%%name args`` on ``body``."""
        _ensure_builtins()
        magic = _CELL.get(name)
        if magic is None:
            hint = f" (there is a line magic %{name})" if name in _LINE else ""
            raise CellError(f"Cell magic `%%{name}` not found{hint}. %lsmagic lists the magics.")
        if magic.expand:
            args = self.expand(args)
        if magic.builtin:
            return magic.func(self, args, body)
        return magic.func(args, body)

    def system(self, command: str) -> None:
        """``!command``: run it in a shell, its output streamed as it comes."""
        code = run_process(self.expand(command), shell=True)
        self.shell.user_ns["_exit_code"] = code

    def getoutput(self, command: str) -> LineList:
        """``x = !command``: run it, return its standard output as a list of lines."""
        import subprocess

        _flush_python_streams()
        proc = subprocess.Popen(
            self.expand(command), shell=True, executable=_shell_executable(),
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )
        try:
            out, _ = proc.communicate()
        except KeyboardInterrupt:
            _stop(proc)
            raise
        self.shell.user_ns["_exit_code"] = proc.returncode
        return LineList(out.decode("utf-8", "replace").splitlines())

    def help(self, expression: str, detail: int) -> None:
        """``obj?`` / ``obj??``: show the description as a ``page`` payload."""
        text = self.describe(expression, detail)
        if text is None:
            print(f"Object `{expression}` not found.")
            return
        self.shell.payloads.append({"source": "page", "data": {"text/plain": text}, "start": 0})

    def describe(self, expression: str, detail: int) -> str | None:
        """The help text for ``expression`` (a magic when it starts with ``%``)."""
        if expression.startswith("%"):
            return magic_help(expression)
        try:
            from .inspection import describe  # type: ignore[attr-defined]
        except ImportError:
            return _plain_describe(expression, detail, self.shell.user_ns)
        text: str | None = describe(expression, detail, self.shell.user_ns)
        return text

    def expand(self, text: str) -> str:
        """``$name`` and ``{expression}`` replaced by their values; the rest left as typed."""
        if "$" not in text and "{" not in text:
            return text
        ns = self.shell.user_ns

        def replace(match: re.Match[str]) -> str:
            name, expression = match.group(1), match.group(2)
            if name is not None:
                return str(ns[name]) if name in ns else match.group(0)
            try:
                return str(eval(expression, ns))  # noqa: S307 - the user's own expression
            except Exception:  # noqa: BLE001 - not an expression: keep the text
                return match.group(0)

        return re.sub(r"\$([A-Za-z_]\w*)|\{([^{}\n]+)\}", replace, text)

    def user_names(self) -> list[str]:
        """Names the user defined (for %who, %whos, %reset)."""
        return [
            name for name in self.shell.user_ns
            if name not in self.hidden and not name.startswith("_")
        ]


# ----- processes --------------------------------------------------------------------------------


def _flush_python_streams() -> None:
    """Publish Python-level output first, so a child's lines come after it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _shell_executable() -> str | None:
    return "/bin/bash" if os.path.exists("/bin/bash") else None


def _stop(proc: Any) -> None:
    """Stop a child after Ctrl-C: SIGINT, then kill if it lingers."""
    import signal
    import subprocess

    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except OSError:
        pass


def run_process(command: str | list[str], shell: bool = False, stdin_text: str | None = None) -> int:
    """Run a child with the kernel's stdout/stderr (streamed live); its exit status."""
    import subprocess

    _flush_python_streams()
    try:
        proc = subprocess.Popen(
            command, shell=shell, executable=_shell_executable() if shell else None,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        )
    except OSError as exc:
        raise CellError(f"cannot run {command!r}: {exc}") from None
    try:
        if stdin_text is not None:
            assert proc.stdin is not None
            try:
                proc.stdin.write(stdin_text.encode("utf-8"))
                proc.stdin.close()
            except BrokenPipeError:
                pass
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise


# ----- help texts --------------------------------------------------------------------------------

def _plain_describe(expression: str, detail: int, ns: dict[str, Any]) -> str | None:
    """A simple description, used until ``kernel.inspection`` is available."""
    parts = expression.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    if parts[0] in ns:
        obj = ns[parts[0]]
    elif hasattr(builtins, parts[0]):
        obj = getattr(builtins, parts[0])
    else:
        return None
    for part in parts[1:]:
        try:
            obj = getattr(obj, part)
        except Exception:  # noqa: BLE001
            return None
    import inspect

    lines = [f"Type:      {type(obj).__name__}"]
    try:
        lines.append(f"String form: {repr(obj)[:200]}")
    except Exception:  # noqa: BLE001
        pass
    doc = inspect.getdoc(obj)
    if doc:
        lines.append("Docstring:\n" + doc)
    if detail:
        try:
            lines.append("Source:\n" + inspect.getsource(obj))
        except (OSError, TypeError):
            pass
    return "\n".join(lines)


def magic_help(name: str) -> str | None:
    """The docstring of ``%name`` or ``%%name``."""
    _ensure_builtins()
    cell = name.startswith("%%")
    bare = name.lstrip("%")
    magic = (_CELL if cell else _LINE).get(bare) or _LINE.get(bare) or _CELL.get(bare)
    if magic is None:
        return None
    prefix = "%%" if magic.cell else "%"
    import textwrap

    first, _, rest = (magic.func.__doc__ or "(no description)").strip().partition("\n")
    doc = first + ("\n" + textwrap.dedent(rest) if rest else "")
    return f"{prefix}{magic.name}\n\n{doc}"


# ----- installation -----------------------------------------------------------------------------


def install(
    shell: Shell,
    connection_info: Any = None,
    connection_file: str | None = None,
    hidden: set[str] | None = None,
) -> MagicRuntime:
    """Put the runtime that transformed cells call into builtins, bound to ``shell``."""
    runtime = MagicRuntime(shell, connection_info, connection_file, hidden)
    setattr(builtins, HELPER_NAME, runtime)
    shell.extensions["magics"] = runtime
    return runtime
