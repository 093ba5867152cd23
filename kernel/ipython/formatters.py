"""``get_ipython().display_formatter``: printers for types, per mime type, as IPython registers them.

``formatters['text/html'].for_type(cls, fn)`` (or ``for_type_by_name('module', 'Name', fn)``)
makes results and ``display()`` of ``cls`` instances use ``fn(obj)`` for that mime type; a
``text/plain`` printer is called as IPython calls it, ``fn(obj, p, cycle)``. The printers reach
the kernel's formatting through ``kernel.display.formatting.TYPE_FORMATTERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..display import formatting

MIME_TYPES = (
    "text/plain", "text/html", "text/markdown", "image/svg+xml", "image/png", "application/pdf",
    "image/jpeg", "text/latex", "application/json", "application/javascript",
)


class TypeFormatter:
    """The printers of one mime type, found by the object's class and its bases."""

    def __init__(self, format_type: str) -> None:
        self.format_type = format_type
        self.enabled = True
        self.type_printers: dict[type, Callable[..., Any]] = {}
        self.deferred_printers: dict[tuple[str, str], Callable[..., Any]] = {}
        self.singleton_printers: dict[int, Callable[..., Any]] = {}

    def for_type(self, typ: type | str, func: Callable[..., Any] | None = None) -> Callable[..., Any] | None:
        """Print instances of ``typ`` (a class, or ``"module.Name"``) with ``func``; the
        printer it replaces (or the current one when ``func`` is None)."""
        if isinstance(typ, str):
            module, _, name = typ.rpartition(".")
            return self.for_type_by_name(module, name, func)
        old = self.type_printers.get(typ)
        if func is not None:
            self.type_printers[typ] = func
            self._publish()
        return old

    def for_type_by_name(self, type_module: str, type_name: str,
                         func: Callable[..., Any] | None = None) -> Callable[..., Any] | None:
        """As ``for_type``, for a class named by module and name (not imported until seen)."""
        key = (type_module, type_name)
        old = self.deferred_printers.get(key)
        if func is not None:
            self.deferred_printers[key] = func
            self._publish()
        return old

    def pop(self, typ: type | str, default: Any = None) -> Any:
        """Remove the printer of ``typ`` and return it."""
        if isinstance(typ, str):
            module, _, name = typ.rpartition(".")
            found = self.deferred_printers.pop((module, name), default)
            for cls in [cls for cls in self.type_printers if (cls.__module__, cls.__name__) == (module, name)]:
                found = self.type_printers.pop(cls)
        else:
            found = self.type_printers.pop(typ, default)
        self._publish()
        return found

    def __contains__(self, typ: object) -> bool:
        return typ in self.type_printers

    def lookup_by_type(self, typ: type) -> Callable[..., Any]:
        """The printer for ``typ`` (its own or a base class's); KeyError if none."""
        for cls in getattr(typ, "__mro__", (typ,)):
            if cls in self.type_printers:
                return self.type_printers[cls]
            key = (getattr(cls, "__module__", ""), getattr(cls, "__name__", ""))
            if key in self.deferred_printers:
                printer = self.type_printers[cls] = self.deferred_printers.pop(key)
                return printer
        raise KeyError(f"no {self.format_type} printer for {typ!r}")

    def lookup(self, obj: Any) -> Callable[..., Any]:
        """The printer for ``obj``; KeyError if none."""
        if id(obj) in self.singleton_printers:
            return self.singleton_printers[id(obj)]
        return self.lookup_by_type(type(obj))

    def __call__(self, obj: Any) -> Any:
        """``obj`` in this mime type, or None when no printer applies."""
        if not self.enabled:
            return None
        try:
            printer = self.lookup(obj)
        except KeyError:
            return None
        if self.format_type == "text/plain":
            from ..display.pretty import pretty_with

            return pretty_with(printer, obj)
        return printer(obj)

    def _publish(self) -> None:
        """Take part in formatting only while some printer is registered."""
        if self.type_printers or self.deferred_printers or self.singleton_printers:
            formatting.TYPE_FORMATTERS[self.format_type] = self
        else:
            formatting.TYPE_FORMATTERS.pop(self.format_type, None)


class DisplayFormatter:
    """``display_formatter``: the ``formatters`` by mime type and ``format(obj)``."""

    def __init__(self) -> None:
        self.formatters: dict[str, TypeFormatter] = {mime: TypeFormatter(mime) for mime in MIME_TYPES}
        self.active_types = list(MIME_TYPES)

    def format(self, obj: Any, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(data, metadata)``: the mime bundle results and ``display()`` show for ``obj``."""
        data, metadata, _ = formatting.format_object(obj)
        if include:
            data = {mime: value for mime, value in data.items() if mime in include}
        if exclude:
            data = {mime: value for mime, value in data.items() if mime not in exclude}
        return data, metadata
