"""The table of magics: built-in and user magics by name, and the decorators that register them.

The built-in magics live in modules of this package (``BUILTIN_MODULES``), each registering its
magics when imported; they are imported the first time a magic is looked up, so start-up does not
pay for them. This module imports nothing else of the kernel, so any layer may ask which magics
exist (completion does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
    """Register a built-in magic; a user magic of the same name registered earlier wins.

    A built-in is called with the ``MagicRuntime`` first, then the argument text (and the body).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        (_CELL if cell else _LINE).setdefault(name, Magic(name, func, cell, builtin=True, expand=expand))
        return func

    return decorate


BUILTIN_MODULES = ("basic", "debugging", "autoreload", "notebook", "workspace", "scripts", "gui")  # each registers on import


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


# Users add their own magics with these two decorators (plain, or with a name): a line magic is
# called with the argument text, a cell magic with the argument text and the cell body.


def register_line_magic(name_or_func: Any = None) -> Any:
    """Decorator: ``@register_line_magic`` or ``@register_line_magic("name")``; ``func(line)``."""
    return _user_decorator(False, name_or_func)


def register_cell_magic(name_or_func: Any = None) -> Any:
    """Decorator for cell magics: ``func(line, cell)``, used as ``%%name line``."""
    return _user_decorator(True, name_or_func)


def add_magic(name: str, func: Callable[..., Any], cell: bool, expand: bool = False) -> None:
    """Register ``func`` as the user magic ``name`` (``func(args)``, or ``func(args, body)`` for a
    cell magic); ``expand``: ``$name`` and ``{expression}`` in the arguments are expanded first."""
    _register(Magic(name, func, cell, builtin=False, expand=expand))


def lookup(name: str, cell: bool) -> Magic | None:
    """The line magic (or, with ``cell``, the cell magic) called ``name``, if there is one."""
    _ensure_builtins()
    return (_CELL if cell else _LINE).get(name)


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
