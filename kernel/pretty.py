"""Readable ``text/plain`` for results: ``repr``, with long containers wrapped.

``pretty(obj)`` is what ``Out[n]:`` shows. Containers (lists, tuples, dicts, sets and the
common ``collections`` types) that fit on one line print exactly as ``repr`` would; when they
do not fit they are broken one item per line with an indent, recursively, keeping the
container's own order (dict keys are not sorted). It never raises: a ``__repr__`` that fails is
reported in place, recursive structures show ``[...]``, very long or very deep containers are
cut with a note. Everything else is ``repr(obj)``.
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

WIDTH = 79
MAX_ITEMS = 1000  # items shown per container before "... (N more items)"
MAX_TOTAL = 20000  # items shown in one result, all containers together
MAX_DEPTH = 100  # nesting shown before a container is abbreviated as "..."
INDENT = "    "


def pretty(obj: Any, width: int = WIDTH, max_items: int = MAX_ITEMS) -> str:
    """``obj`` as readable text: ``repr``, with containers wrapped to ``width`` columns."""
    cls = type(obj)
    if cls in _ATOMS:
        return safe_repr(obj)  # safe: a huge int refuses str()
    try:
        if _layout_for(obj) is None:
            return safe_repr(obj)
        if cls in _SHORTCUT and len(obj) <= 16 and _all_atoms(obj, width):
            text = repr(obj)
            if len(text) <= width:
                return text
        return _Printer(width, max_items).format(obj)
    except Exception:  # noqa: BLE001 - e.g. a container changed size while being printed
        return safe_repr(obj)


def _all_atoms(obj: Any, width: int) -> bool:
    """True when a small builtin container holds only short numbers and strings."""
    items: Iterable[Any] = obj
    if isinstance(obj, dict):
        items = [part for pair in obj.items() for part in pair]
    for item in items:
        cls = type(item)
        if cls not in _ATOMS or (cls in (str, bytes) and len(item) > width):
            return False
    return True


def safe_repr(obj: Any) -> str:
    """``repr(obj)``, or a note naming the error when that ``__repr__`` raises."""
    try:
        text = repr(obj)
    except Exception as exc:  # noqa: BLE001 - any user __repr__ may fail
        return _failed_repr(obj, exc)
    if not isinstance(text, str):  # pragma: no cover - repr() itself enforces str
        return _failed_repr(obj, TypeError("__repr__ returned a non-string"))
    return text


def _failed_repr(obj: Any, exc: BaseException) -> str:
    try:
        detail = str(exc)
    except Exception:  # noqa: BLE001
        detail = ""
    name = type(obj).__qualname__
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"<{name} object at {id(obj):#x}; repr failed: {reason}>"


# ----- container layouts ------------------------------------------------------------------------


class _Layout:
    """How one kind of container prints: its brackets and its items."""

    separator = ": "  # between a mapping's key and its value
    raw_keys = False  # keys are names printed as they are (``field=value``)

    def __init__(self, open_: str, close: str, empty: str, mapping: bool = False) -> None:
        self.open = open_
        self.close = close
        self.empty = empty
        self.mapping = mapping

    def size(self, obj: Any) -> int:
        """How many items ``items`` yields."""
        return len(obj)

    def items(self, obj: Any) -> Iterator[Any]:
        """The items in display order (pairs for mappings)."""
        return iter(obj.items()) if self.mapping else iter(obj)

    def brackets(self, obj: Any) -> tuple[str, str]:
        return self.open, self.close

    def empty_text(self, obj: Any) -> str:
        return self.empty

    def single_suffix(self, obj: Any) -> str:
        """Text after a sole item (the comma of a one-element tuple)."""
        return ""


class _TupleLayout(_Layout):
    def single_suffix(self, obj: Any) -> str:
        return ","


class _NamedLayout(_Layout):
    """``Name(<inner>)`` for ``deque``, ``Counter``, ``OrderedDict``..."""

    def brackets(self, obj: Any) -> tuple[str, str]:
        name = type(obj).__name__
        return f"{name}({self.open}", f"{self.close}{self._tail(obj)})"

    def empty_text(self, obj: Any) -> str:
        return f"{type(obj).__name__}()"

    def _tail(self, obj: Any) -> str:
        return ""


class _SetLayout(_Layout):
    """``{1, 2}`` for a plain set, ``Name({1, 2})`` for frozensets and set subclasses."""

    def brackets(self, obj: Any) -> tuple[str, str]:
        if type(obj) is set:
            return "{", "}"
        return f"{type(obj).__name__}({{", "})"

    def empty_text(self, obj: Any) -> str:
        return f"{type(obj).__name__}()"


class _DequeLayout(_NamedLayout):
    def _tail(self, obj: Any) -> str:
        return "" if obj.maxlen is None else f", maxlen={obj.maxlen}"

    def empty_text(self, obj: Any) -> str:
        return f"{type(obj).__name__}([]{self._tail(obj)})"


class _ViewLayout(_NamedLayout):
    """``dict_keys([...])`` and the other views, ``mappingproxy({...})``: brackets when empty."""

    def empty_text(self, obj: Any) -> str:
        return f"{type(obj).__name__}({self.open}{self.close})"


class _CounterLayout(_NamedLayout):
    def items(self, obj: Any) -> Iterator[Any]:
        try:
            return iter(obj.most_common())  # what Counter's own repr shows
        except TypeError:  # counts that cannot be ordered
            return iter(obj.items())


class _DefaultDictLayout(_Layout):
    def brackets(self, obj: Any) -> tuple[str, str]:
        return f"{type(obj).__name__}({safe_repr(obj.default_factory)}, {{", "})"

    def empty_text(self, obj: Any) -> str:
        return f"{type(obj).__name__}({safe_repr(obj.default_factory)}, {{}})"


class _FieldsLayout(_Layout):
    """``Name(field=value, ...)`` for dataclasses and named tuples with their generated repr."""

    separator = "="
    raw_keys = True

    def __init__(self, qualified: bool) -> None:
        super().__init__("(", ")", "", mapping=True)
        self.qualified = qualified  # dataclasses show __qualname__, named tuples __name__

    def _name(self, obj: Any) -> str:
        cls = type(obj)
        return cls.__qualname__ if self.qualified else cls.__name__

    def names(self, obj: Any) -> list[str]:
        if self.qualified:
            import dataclasses

            return [f.name for f in dataclasses.fields(obj) if f.repr]
        return list(type(obj)._fields)

    def size(self, obj: Any) -> int:
        return len(self.names(obj))

    def items(self, obj: Any) -> Iterator[Any]:
        return iter([(name, getattr(obj, name)) for name in self.names(obj)])

    def brackets(self, obj: Any) -> tuple[str, str]:
        return f"{self._name(obj)}(", ")"

    def empty_text(self, obj: Any) -> str:
        return f"{self._name(obj)}()"


_DATACLASS = _FieldsLayout(qualified=True)
_NAMEDTUPLE = _FieldsLayout(qualified=False)
_generated_reprs: dict[str, Any] = {}


def _generated_repr_code(kind: str) -> Any:
    """The code object of the ``__repr__`` that dataclasses / namedtuple generate."""
    code = _generated_reprs.get(kind)
    if code is None:
        if kind == "dataclass":
            import dataclasses

            representer: Any = dataclasses.make_dataclass("Probe", ["a"]).__repr__
        else:
            representer = collections.namedtuple("Probe", "a").__repr__  # noqa: PYI024
        code = getattr(representer, "__code__", False)
        _generated_reprs[kind] = code
    return code


def _fields_layout(obj: Any, cls: type, representer: Any) -> _Layout | None:
    """The layout of a dataclass or named tuple that uses its generated repr, else None."""
    code = getattr(representer, "__code__", None)
    if code is None:
        return None
    try:
        fields = getattr(cls, "__dataclass_fields__", None)
    except Exception:  # noqa: BLE001 - a metaclass with an odd __getattr__
        return None
    if fields is not None:
        if code is _generated_repr_code("dataclass"):
            return _DATACLASS
    elif isinstance(obj, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        if code is _generated_repr_code("namedtuple"):
            return _NAMEDTUPLE
    return None


_LIST = _Layout("[", "]", "[]")
_TUPLE = _TupleLayout("(", ")", "()")
_DICT = _Layout("{", "}", "{}", mapping=True)
_SET = _SetLayout("{", "}", "set()")

_LAYOUTS: dict[type, _Layout] = {
    list: _LIST,
    tuple: _TUPLE,
    dict: _DICT,
    set: _SET,
    frozenset: _SET,
    collections.deque: _DequeLayout("[", "]", "deque([])"),
    collections.Counter: _CounterLayout("{", "}", "Counter()", mapping=True),
    collections.defaultdict: _DefaultDictLayout("{", "}", "", mapping=True),
    type({}.keys()): _ViewLayout("[", "]", ""),
    type({}.values()): _ViewLayout("[", "]", ""),
    type({}.items()): _ViewLayout("[", "]", ""),
    type(type.__dict__): _ViewLayout("{", "}", "", mapping=True),  # mappingproxy
}

if sys.version_info >= (3, 12):  # before 3.12 its repr is a list of pairs: leave it as it is
    _LAYOUTS[collections.OrderedDict] = _NamedLayout("{", "}", "OrderedDict()", mapping=True)

# subclasses that keep the builtin __repr__ print like their base
_PLAIN_BASES: tuple[tuple[type, _Layout], ...] = (
    (list, _LIST),
    (tuple, _TUPLE),
    (dict, _DICT),
    (set, _SET),
    (frozenset, _SET),
)


_ATOMS = frozenset({int, float, complex, bool, type(None), str, bytes})  # builtin repr, no items
_SHORTCUT = frozenset({list, tuple, dict, set, frozenset})  # repr as pretty() would print them


def _layout_for(obj: Any) -> _Layout | None:
    """The layout for ``obj``, or None when it is printed by its own ``repr``."""
    cls = type(obj)
    if cls in _ATOMS:
        return None
    layout = _LAYOUTS.get(cls)
    if layout is not None:
        return layout
    representer = getattr(cls, "__repr__", None)
    for base, base_layout in _PLAIN_BASES:
        if representer is base.__repr__ and isinstance(obj, base):
            return base_layout
    for base, base_layout in _LAYOUTS.items():
        if base in (list, tuple, dict, set, frozenset):
            continue
        if representer is base.__repr__ and isinstance(obj, base):
            return base_layout
    return _fields_layout(obj, cls, representer)


class _TooWide(Exception):
    """A one-line rendering ran past its budget."""


class _Printer:
    """One ``pretty()`` call: the width, the cuts, the path (for cycles), cached reprs."""

    def __init__(self, width: int, max_items: int) -> None:
        self.width = max(width, 1)
        self.max_items = max(max_items, 1)
        self.total = MAX_TOTAL
        self.path: set[int] = set()
        self.leaf_cache: dict[int, str] = {}

    def format(self, obj: Any) -> str:
        return self.block(obj, "", len(""), 0, 0)

    # ----- one line --------------------------------------------------------------------------

    def leaf(self, obj: Any) -> str:
        key = id(obj)
        text = self.leaf_cache.get(key)
        if text is None:
            text = safe_repr(obj)
            self.leaf_cache[key] = text
        return text

    def flat(self, obj: Any, budget: int, depth: int) -> str | None:
        """``obj`` on one line if it takes at most ``budget`` characters, else None."""
        try:
            parts: list[str] = []
            self._flat(obj, budget, depth, parts, [0])
        except _TooWide:
            return None
        return "".join(parts)

    def _flat(self, obj: Any, budget: int, depth: int, parts: list[str], used: list[int]) -> None:
        def put(text: str) -> None:
            used[0] += len(text)
            if used[0] > budget or "\n" in text:
                raise _TooWide
            parts.append(text)

        layout = _layout_for(obj)
        if layout is None:
            put(self.leaf(obj))
            return
        marker = self.cut_marker(obj, layout, depth)
        if marker is not None:
            put(marker)
            return
        try:
            size = layout.size(obj)
        except Exception:  # noqa: BLE001 - a broken __len__ in a subclass
            put(self.leaf(obj))
            return
        if size == 0:
            put(layout.empty_text(obj))
            return
        if size > self.max_items:
            raise _TooWide  # the cut note needs its own line
        opening, closing = layout.brackets(obj)
        put(opening)
        self.path.add(id(obj))
        try:
            for index, item in enumerate(layout.items(obj)):
                if index:
                    put(", ")
                if layout.mapping:
                    key, value = item
                    if layout.raw_keys:
                        put(key)
                    else:
                        self._flat(key, budget, depth + 1, parts, used)
                    put(layout.separator)
                    self._flat(value, budget, depth + 1, parts, used)
                else:
                    self._flat(item, budget, depth + 1, parts, used)
            if size == 1:
                put(layout.single_suffix(obj))
        finally:
            self.path.discard(id(obj))
        put(closing)

    def cut_marker(self, obj: Any, layout: _Layout, depth: int) -> str | None:
        """``[...]`` for a container already being printed (a cycle) or nested too deep."""
        if id(obj) in self.path or depth >= MAX_DEPTH:
            opening, closing = layout.brackets(obj)
            return f"{opening}...{closing}"
        return None

    # ----- several lines ---------------------------------------------------------------------

    def block(self, obj: Any, indent: str, column: int, trailing: int, depth: int) -> str:
        """``obj`` starting at ``column``; continuation lines start with ``indent``.

        ``trailing`` is the number of characters that will follow it on its last line.
        """
        flat = self.flat(obj, self.width - column - trailing, depth)
        if flat is not None:
            return flat
        layout = _layout_for(obj)
        if layout is None:
            return self.indent_lines(self.leaf(obj), indent)
        marker = self.cut_marker(obj, layout, depth)
        if marker is not None:
            return marker
        try:
            size = layout.size(obj)
        except Exception:  # noqa: BLE001
            return self.indent_lines(self.leaf(obj), indent)
        return self.broken(obj, layout, size, indent, depth)

    def broken(self, obj: Any, layout: _Layout, size: int, indent: str, depth: int) -> str:
        """A container one item per line, each followed by a comma."""
        inner = indent + INDENT
        opening, closing = layout.brackets(obj)
        lines = [opening]
        shown = 0
        self.path.add(id(obj))
        try:
            for item in self.limited(layout.items(obj), size):
                shown += 1
                if layout.mapping:
                    key, value = item
                    separator = layout.separator
                    if layout.raw_keys:
                        key_text = str(key)
                    else:
                        key_text = self.block(key, inner, len(inner), len(separator), depth + 1)
                    column = len(inner) + len(key_text.rsplit("\n", 1)[-1]) + len(separator)
                    value_text = self.block(value, inner, column, 1, depth + 1)
                    lines.append(f"{inner}{key_text}{separator}{value_text},")
                else:
                    lines.append(f"{inner}{self.block(item, inner, len(inner), 1, depth + 1)},")
        finally:
            self.path.discard(id(obj))
        if shown < size:
            lines.append(f"{inner}... ({size - shown:,} more items)")
        lines.append(f"{indent}{closing}")
        return "\n".join(lines)

    def limited(self, items: Iterable[Any], size: int) -> Iterator[Any]:
        """The items to show: at most ``max_items`` here and ``MAX_TOTAL`` in all."""
        count = min(size, self.max_items, max(self.total, 0))
        for item in islice(items, count):
            self.total -= 1
            yield item

    @staticmethod
    def indent_lines(text: str, indent: str) -> str:
        """A multi-line repr with its later lines indented to sit inside the container."""
        if "\n" not in text or not indent:
            return text
        return text.replace("\n", "\n" + indent)
