"""``get_ipython().magics_manager``: IPython ``Magics`` classes and plain functions registered as
magics of this kernel, so ``%name`` and ``%%name`` run them.

An IPython ``Magics`` class is instantiated with our shell; each of its line and cell magics goes
into ``kernel.magics.registry``. IPython's ``UsageError`` from a magic shows as a usage error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..execution.tracebacks import CellError
from ..magics import registry

KINDS = ("line", "cell")


def _is_usage_error(exc: BaseException) -> bool:
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


class MagicsManager:
    """The bridge from IPython's way of registering magics to the kernel's table of magics."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell  # the ZMQInteractiveShell, given to Magics classes
        self.registry: dict[str, Any] = {}  # class name -> the Magics instance registered
        self._functions: dict[tuple[str, str], Callable[..., Any]] = {}  # as registered

    def register(self, *magic_objects: Any) -> None:
        """Register IPython ``Magics`` classes (instantiated with our shell) or instances."""
        for magics in magic_objects:
            if isinstance(magics, type):
                magics = magics(shell=self.shell)
            table = getattr(magics, "magics", None)
            if not isinstance(table, dict):
                raise ValueError(f"{magics!r} is not a Magics class or instance (it has no magics table)")
            self.registry[type(magics).__name__] = magics
            for kind in KINDS:
                for name, function in table.get(kind, {}).items():
                    self.add(kind, name, function)

    def register_function(self, func: Callable[..., Any], magic_kind: str = "line",
                          magic_name: str | None = None) -> None:
        """Register ``func`` as a ``line``, ``cell`` or ``line_cell`` magic."""
        if magic_kind not in ("line", "cell", "line_cell"):
            raise ValueError(f"magic_kind must be 'line', 'cell' or 'line_cell', not {magic_kind!r}")
        kinds = KINDS if magic_kind == "line_cell" else (magic_kind,)
        for kind in kinds:
            self.add(kind, magic_name or func.__name__, func)

    def add(self, kind: str, name: str, function: Callable[..., Any]) -> None:
        """Put one magic into the kernel's table, called as IPython calls it."""
        self._functions[(kind, name)] = function
        expand = not getattr(function, "_ipython_magic_no_var_expand", False)
        local_scope = bool(getattr(function, "needs_local_scope", False))
        user_ns = self.shell.user_ns

        if kind == "cell":
            def cell(args: str, body: str) -> Any:
                extra = {"local_ns": user_ns} if local_scope else {}
                return _call(function, args, body, **extra)

            registry.add_magic(name, cell, cell=True, expand=expand)
        else:
            def line(args: str) -> Any:
                extra = {"local_ns": user_ns} if local_scope else {}
                return _call(function, args, **extra)

            registry.add_magic(name, line, cell=False, expand=expand)

    def find(self, kind: str, name: str) -> Callable[..., Any] | None:
        """The function behind ``%name`` (``kind`` 'line') or ``%%name`` ('cell'), or None."""
        found = self._functions.get((kind, name))
        if found is not None:
            return found
        magic = registry.lookup(name, cell=kind == "cell")
        if magic is None:
            return None
        if not magic.builtin:
            return magic.func
        run = self.shell.run_cell_magic if kind == "cell" else self.shell.run_line_magic
        return lambda *args: run(name, *args)

    @property
    def magics(self) -> dict[str, dict[str, Callable[..., Any]]]:
        """``{'line': {name: function}, 'cell': {...}}`` for every magic of the kernel."""
        table: dict[str, dict[str, Callable[..., Any]]] = {"line": {}, "cell": {}}
        for typed in registry.magic_names():
            kind = "cell" if typed.startswith("%%") else "line"
            name = typed.lstrip("%")
            function = self.find(kind, name)
            if function is not None:
                table[kind][name] = function
        return table

    def lsmagic(self) -> dict[str, dict[str, Callable[..., Any]]]:
        return self.magics


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        if _is_usage_error(exc):
            raise CellError(str(exc)) from None
        raise
