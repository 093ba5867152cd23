"""Readable ``text/plain`` for results: ``repr``, with long containers wrapped.

``pretty(obj)`` is what ``Out[n]:`` shows. Containers (lists, tuples, dicts, sets and the
common ``collections`` types) that fit on one line print exactly as ``repr`` would; when they
do not fit they are broken one item per line with an indent, recursively, keeping the
container's own order (dict keys are not sorted). It never raises: a ``__repr__`` that fails is
reported in place, recursive structures show ``[...]``, very long or very deep containers are
cut with a note. Objects whose class defines IPython's ``_repr_pretty_(self, p, cycle)`` print
through it, with a ``p`` of our own (``ReprPrinter``) laid out as IPython lays it out; everything
else is ``repr(obj)``.
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

WIDTH = 79
MAX_ITEMS = 1000  # items shown per container before "... (N more items)"
MAX_TOTAL = 20000  # items shown in one result, all containers together
MAX_DEPTH = 100  # nesting shown before a container is abbreviated as "..."
INDENT = "    "

_float_format: str | None = None  # ``%precision``: floats print as ``_float_format % value``


def set_float_format(fmt: str | None) -> None:
    """Print floats in results as ``fmt % value`` (``%precision``); None restores ``repr``."""
    global _float_format
    _float_format = fmt


def pretty(obj: Any, width: int = WIDTH, max_items: int = MAX_ITEMS) -> str:
    """``obj`` as readable text: ``repr``, with containers wrapped to ``width`` columns."""
    cls = type(obj)
    if cls in _ATOMS:
        return safe_repr(obj)  # safe: a huge int refuses str()
    try:
        if _pretty_method(cls) is not None:
            printer = _Printer(width, max_items)
            return printer.render(obj, printer.width, 0, 0)
        if _layout_for(obj) is None:
            return safe_repr(obj)
        if cls in _SHORTCUT and _float_format is None and len(obj) <= 16 and _all_atoms(obj, width):
            text = repr(obj)
            if len(text) <= width:
                return text
        return _Printer(width, max_items).format(obj)
    except Exception:  # noqa: BLE001 - e.g. a container changed size while being printed
        return safe_repr(obj)


def pretty_with(printer_function: Any, obj: Any, width: int = WIDTH) -> str:
    """``obj`` printed by a function written for IPython's printer, ``f(obj, p, cycle)``
    (a text/plain printer registered with ``display_formatter``)."""
    printer = ReprPrinter(_Printer(width, MAX_ITEMS), width)
    printer_function(obj, printer, False)
    return printer.getvalue()


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
    if _float_format is not None and obj.__class__ is float:
        return _float_format % obj
    try:
        text = repr(obj)
    except Exception as exc:  # noqa: BLE001 - any user __repr__ may fail
        return _failed_repr(obj, exc)
    if not isinstance(text, str):  # pragma: no cover - repr() itself enforces str
        return _failed_repr(obj, TypeError("__repr__ returned a non-string"))
    return text


def _failed_repr(obj: Any, exc: BaseException, method: str = "repr") -> str:
    try:
        detail = str(exc)
    except Exception:  # noqa: BLE001
        detail = ""
    name = type(obj).__qualname__
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"<{name} object at {id(obj):#x}; {method} failed: {reason}>"


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
        self.methods: dict[type, Any] = {}

    def pretty_method(self, obj: Any) -> Any:
        """The ``_repr_pretty_`` that prints ``obj``, or None (looked up once per type)."""
        cls = type(obj)
        if cls in _ATOMS:
            return None
        try:
            return self.methods[cls]
        except KeyError:
            method = self.methods[cls] = _pretty_method(cls)
            return method

    def render(self, obj: Any, width: int, column: int, depth: int) -> str:
        """``obj`` through a ``ReprPrinter`` of ``width`` columns, starting at ``column``."""
        printer = ReprPrinter(self, width, column, depth)
        try:
            printer.pretty(obj)
            return printer.getvalue()
        except Exception as exc:  # noqa: BLE001 - any user _repr_pretty_ may fail
            return _failed_repr(obj, exc, "_repr_pretty_")

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

        if self.pretty_method(obj) is not None:
            room = budget - used[0]
            if room <= 0:
                raise _TooWide
            put(self.render(obj, room, 0, depth))
            return
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
        if self.pretty_method(obj) is not None:
            text = self.render(obj, self.width - len(indent), column - len(indent), depth)
            return self.indent_lines(text, indent)
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


# ----- IPython's _repr_pretty_ protocol ---------------------------------------------------------


def _pretty_method(cls: type) -> Any:
    """``cls._repr_pretty_`` when the class defines it before any ``__repr__`` in its MRO."""
    try:
        for klass in cls.__mro__:
            namespace = klass.__dict__
            if "_repr_pretty_" in namespace:
                method = klass._repr_pretty_  # type: ignore[attr-defined]
                if callable(method):
                    return method
            if klass is not object and "__repr__" in namespace:
                return None
    except Exception:  # noqa: BLE001 - an odd metaclass: print by repr
        return None
    return None


class _Group:
    """Breakables that break together; ``depth`` is how many groups enclose it."""

    __slots__ = ("broken", "depth", "pending")

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.broken = False  # once True, its breakables (pending or later) are newlines
        self.pending: collections.deque[_Break] = collections.deque()


class _Break:
    """A place that is ``flat`` text on one line, or ``tail`` + newline + indentation."""

    __slots__ = ("flat", "group", "indentation", "tail")

    def __init__(self, flat: str, tail: str, indentation: int, group: _Group) -> None:
        self.flat = flat
        self.tail = tail
        self.indentation = indentation
        self.group = group


class ReprPrinter:
    """The ``p`` given to ``_repr_pretty_(self, p, cycle)``: IPython's printer API, our layout.

    Text goes out as soon as nothing before it may still break. Breakables wait in a queue
    with the text after them; when the line gets longer than ``max_width``, the outermost
    group that has waiting breakables breaks (all its breakables become newlines with the
    indentation they were made with), and so on until the line fits or nothing can break.
    Nested objects go through ``pretty``: their own ``_repr_pretty_``, our containers, or repr.
    """

    def __init__(self, owner: _Printer, width: int, column: int = 0, depth: int = 0) -> None:
        self.owner = owner  # the pretty() call: item limits, the objects being printed
        self.max_width = width
        self.max_seq_length = owner.max_items
        self.output_width = column  # column where committed text ends
        self.indentation = 0
        self.verbose = False
        self.depth = depth
        self.stack: list[int] = []  # ids of the objects being printed, outermost first
        self._done: list[str] = []
        self._waiting: collections.deque[str | _Break] = collections.deque()
        self._waiting_width = 0
        root = _Group(0)
        self._open = [root]
        self._breakable_groups: list[list[_Group]] = [[root]]  # by depth

    # ----- IPython's API ---------------------------------------------------------------------

    def text(self, obj: str) -> None:
        """Literal text."""
        width = len(obj)
        if self._waiting:
            self._waiting.append(obj)
            self._waiting_width += width
            self._fit()
        else:
            self._done.append(obj)
            self.output_width += width

    def breakable(self, sep: str = " ") -> None:
        """``sep`` here if the current group stays on one line, else a newline."""
        self._breakable(sep, "", self.indentation)

    def break_(self) -> None:
        """A newline here, whatever the width; the outermost waiting group breaks first."""
        group = self._take_outermost()
        if group is not None:
            self._release(group)
        self._flush()
        self._newline("", self.indentation)

    def begin_group(self, indent: int = 0, open: str = "") -> None:  # noqa: A002 - IPython's name
        """Start a group: ``open`` text, then ``indent`` more columns after its newlines."""
        if open:
            self.text(open)
        group = _Group(self._open[-1].depth + 1)
        self._open.append(group)
        while len(self._breakable_groups) <= group.depth:
            self._breakable_groups.append([])
        self._breakable_groups[group.depth].append(group)
        self.indentation += indent

    def end_group(self, dedent: int = 0, close: str = "") -> None:
        """End the innermost group: ``dedent`` columns back, then ``close`` text."""
        self.indentation -= dedent
        group = self._open.pop()
        if not group.pending:
            self._forget(group)
        if close:
            self.text(close)

    @contextmanager
    def group(self, indent: int = 0, open: str = "", close: str = "") -> Iterator[None]:  # noqa: A002
        """``begin_group`` ... ``end_group`` around a ``with`` block."""
        self.begin_group(indent, open)
        try:
            yield
        finally:
            self.end_group(indent, close)

    @contextmanager
    def indent(self, indent: int) -> Iterator[None]:
        """``indent`` more columns after newlines inside a ``with`` block."""
        self.indentation += indent
        try:
            yield
        finally:
            self.indentation -= indent

    def pretty(self, obj: Any) -> None:
        """Print a nested object as ``pretty()`` would, in a group of its own."""
        key = id(obj)
        cycle = key in self.stack or key in self.owner.path
        self.stack.append(key)
        self.depth += 1
        self.begin_group()
        try:
            if self.depth > MAX_DEPTH:
                self.text("...")
                return
            method = self.owner.pretty_method(obj)
            if method is not None:
                method(obj, self, cycle)
                return
            layout = _layout_for(obj)
            if layout is None:
                self._repr_lines(self.owner.leaf(obj))
            elif cycle:
                opening, closing = layout.brackets(obj)
                self.text(f"{opening}...{closing}")
            else:
                self._container(obj, layout)
        finally:
            self.end_group()
            self.depth -= 1
            self.stack.pop()

    def getvalue(self) -> str:
        """Everything printed so far, waiting breakables laid out flat."""
        self._flush()
        return "".join(self._done)

    # ----- our printing of nested objects ----------------------------------------------------

    def _repr_lines(self, text: str) -> None:
        """A repr of several lines: each on its own line, at the current indentation."""
        with self.group():
            for index, line in enumerate(text.splitlines()):
                if index:
                    self.break_()
                self.text(line)

    def _container(self, obj: Any, layout: _Layout) -> None:
        """A container as ``pretty()`` prints it: flat if it fits, else one item per line."""
        try:
            size = layout.size(obj)
        except Exception:  # noqa: BLE001 - a broken __len__ in a subclass
            self._repr_lines(self.owner.leaf(obj))
            return
        if size == 0:
            self.text(layout.empty_text(obj))
            return
        opening, closing = layout.brackets(obj)
        self.text(opening)
        self.begin_group()
        group = self._open[-1]
        group.broken = size > self.owner.max_items  # the cut note needs its own line
        outer = self.indentation
        self.indentation += len(INDENT)
        shown = 0
        for item in self.owner.limited(layout.items(obj), size):
            self._breakable(", " if shown else "", "," if shown else "", self.indentation)
            shown += 1
            if layout.mapping:
                key, value = item
                if layout.raw_keys:
                    self.text(str(key))
                else:
                    self.pretty(key)
                self.text(layout.separator)
                self.pretty(value)
            else:
                self.pretty(item)
        if shown < size:
            group.broken = True
            self._breakable(", ", ",", self.indentation)
            self.text(f"... ({size - shown:,} more items)")
            self.indentation = outer
            self._breakable("", "", outer)
        else:
            self.indentation = outer
            self._breakable(layout.single_suffix(obj) if size == 1 else "", ",", outer)
        self.end_group()
        self.text(closing)

    # ----- layout ----------------------------------------------------------------------------

    def _breakable(self, flat: str, tail: str, indentation: int) -> None:
        group = self._open[-1]
        if group.broken:
            self._flush()
            self._newline(tail, indentation)
            return
        mark = _Break(flat, tail, indentation, group)
        group.pending.append(mark)
        self._waiting.append(mark)
        self._waiting_width += len(flat)
        self._fit()

    def _fit(self) -> None:
        """Break outer groups while the current line is too long."""
        while self.output_width + self._waiting_width > self.max_width:
            group = self._take_outermost()
            if group is None:
                return
            self._release(group)

    def _take_outermost(self) -> _Group | None:
        """Mark the outermost group with waiting breakables broken and return it.

        Groups met on the way (shallower, nothing waiting) are marked broken too: their
        breakables still to come will be newlines.
        """
        for groups in self._breakable_groups:
            for index in range(len(groups) - 1, -1, -1):
                group = groups[index]
                if group.pending:
                    del groups[index]
                    group.broken = True
                    return group
            for group in groups:
                group.broken = True
            groups.clear()
        return None

    def _release(self, group: _Group) -> None:
        """Commit waiting output up to ``group``'s last waiting breakable and the text after."""
        while group.pending:
            self._commit(self._waiting.popleft())
        while self._waiting and isinstance(self._waiting[0], str):
            self._commit(self._waiting.popleft())

    def _flush(self) -> None:
        while self._waiting:
            self._commit(self._waiting.popleft())
        self._waiting_width = 0

    def _commit(self, piece: str | _Break) -> None:
        if isinstance(piece, str):
            self._waiting_width -= len(piece)
            self._done.append(piece)
            self.output_width += len(piece)
            return
        self._waiting_width -= len(piece.flat)
        group = piece.group
        group.pending.popleft()
        if group.broken:
            self._newline(piece.tail, piece.indentation)
            return
        if not group.pending:
            self._forget(group)
        self._done.append(piece.flat)
        self.output_width += len(piece.flat)

    def _newline(self, tail: str, indentation: int) -> None:
        self._done.append(f"{tail}\n{' ' * indentation}")
        self.output_width = indentation

    def _forget(self, group: _Group) -> None:
        """``group`` has nothing waiting: no longer a candidate for breaking."""
        try:
            self._breakable_groups[group.depth].remove(group)
        except (IndexError, ValueError):
            pass
