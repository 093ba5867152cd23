"""``text/plain`` for results, laid out as IPython's pretty printer lays it out.

``pretty(obj)`` is what ``Out[n]:`` shows. Every object is printed through a ``ReprPrinter``
(the ``p`` that IPython's ``_repr_pretty_(self, p, cycle)`` methods receive): containers as
groups whose items break all together when the line gets longer than the width (``[0,\\n 1,``
with the items under the first), sets sorted, classes by name (``int``, ``__main__.C``),
functions with their signature, objects with the default ``__repr__`` as ``<mod.C at 0x...>``;
anything that defines ``__repr__`` prints by it. The lookup follows IPython's: along the MRO,
a registered printer for a type, then ``_repr_pretty_``, then an own ``__repr__``. A failing
``__repr__`` raises, as in IPython: the caller reports it. IPython itself is never imported.
"""

from __future__ import annotations

import collections
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

WIDTH = 79
MAX_ITEMS = 1000  # items shown per container before "...", IPython's max_seq_length
MAX_DEPTH = 100  # nesting shown before an object is abbreviated as "..." (no RecursionError)

Printer = Callable[[Any, "ReprPrinter", bool], None]

_float_format: str | None = None  # ``%precision``: floats print as ``_float_format % value``


def set_float_format(fmt: str | None) -> None:
    """Print floats in results as ``fmt % value`` (``%precision``); None restores ``repr``."""
    global _float_format
    _float_format = fmt


_ATOMS = frozenset({int, float, complex, bool, type(None), str, bytes})  # printed by repr
_FLAT_SEQUENCES = frozenset({list, tuple})  # printed as their repr when that fits the width


def pretty(obj: Any, width: int = WIDTH, max_items: int = MAX_ITEMS) -> str:
    """``obj`` as IPython's pretty printer writes it, ``width`` columns wide.

    Raises what a user's ``__repr__`` or ``_repr_pretty_`` raises, as IPython does.
    """
    cls = type(obj)
    if cls in _ATOMS and not (cls is float and _float_format is not None):
        return repr(obj)
    if cls in _FLAT_SEQUENCES and len(obj) <= 16 and _float_format is None and _all_atoms(obj):
        text = repr(obj)  # what the printer would write, when it needs no break
        if len(text) <= width and "\n" not in text:
            return text
    printer = ReprPrinter(_Printer(width, max_items), width)
    printer.pretty(obj)
    return printer.getvalue()


def pretty_with(printer_function: Any, obj: Any, width: int = WIDTH) -> str:
    """``obj`` printed by a function written for IPython's printer, ``f(obj, p, cycle)``
    (a text/plain printer registered with ``display_formatter``)."""
    printer = ReprPrinter(_Printer(width, MAX_ITEMS), width)
    printer_function(obj, printer, False)
    return printer.getvalue()


def _all_atoms(items: Iterable[Any]) -> bool:
    return all(type(item) in _ATOMS and type(item) is not float for item in items)


def safe_repr(obj: Any) -> str:
    """``repr(obj)``, or a note naming the error when that ``__repr__`` raises."""
    try:
        return repr(obj)
    except Exception as exc:  # noqa: BLE001 - any user __repr__ may fail
        try:
            detail = f": {exc}"
        except Exception:  # noqa: BLE001
            detail = ""
        return f"<{type(obj).__qualname__} object at {id(obj):#x}; repr failed: {type(exc).__name__}{detail}>"


# ----- the printers for builtin types (IPython's choices, our code) -----------------------------


def _repr_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    """``repr(obj)``, each of its lines on a line of its own at the current indentation."""
    text = repr(obj)
    with p.group():
        for index, line in enumerate(text.splitlines()):
            if index:
                p.break_()
            p.text(line)


def _float_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    if _float_format is None:
        _repr_printer(obj, p, cycle)
    else:
        p.text(_float_format % obj)


def _items(p: ReprPrinter, items: Iterable[Any]) -> Iterator[Any]:
    """The items to print, separated by ``,`` and a breakable; ``...`` after ``max_seq_length``."""
    for index, item in enumerate(items):
        if index:
            p.text(",")
            p.breakable()
        if index >= p.max_seq_length:
            p.text("...")
            return
        yield item


def _sequence(opening: str, closing: str) -> Printer:
    def print_sequence(obj: Any, p: ReprPrinter, cycle: bool) -> None:
        if cycle:
            p.text(f"{opening}...{closing}")
            return
        step = len(opening)
        p.begin_group(step, opening)
        for item in _items(p, obj):
            p.pretty(item)
        if isinstance(obj, tuple) and len(obj) == 1:
            p.text(",")
        p.end_group(step, closing)

    return print_sequence


def _sorted(items: Iterable[Any]) -> list[Any]:
    """Sorted if the items compare, else by their ``str``, else as they come (as IPython)."""
    items = list(items)
    try:
        return sorted(items)
    except Exception:  # noqa: BLE001
        try:
            return sorted(items, key=str)
        except Exception:  # noqa: BLE001
            return items


def _set(opening: str, closing: str) -> Printer:
    def print_set(obj: Any, p: ReprPrinter, cycle: bool) -> None:
        if cycle:
            p.text(f"{opening}...{closing}")
            return
        if not obj:
            p.text(f"{type(obj).__name__}()")
            return
        step = len(opening)
        p.begin_group(step, opening)
        items = obj if len(obj) >= p.max_seq_length else _sorted(obj)
        for item in _items(p, items):
            p.pretty(item)
        p.end_group(step, closing)

    return print_set


def _dict(opening: str, closing: str) -> Printer:
    def print_dict(obj: Any, p: ReprPrinter, cycle: bool) -> None:
        if cycle:
            p.text("{...}")
            return
        step = len(opening)
        p.begin_group(step, opening)
        for key in _items(p, obj.keys()):
            p.pretty(key)
            p.text(": ")
            p.pretty(obj[key])
        p.end_group(step, closing)

    return print_dict


def _type_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    """A class by name: ``int``, ``collections.OrderedDict``; a metaclass's ``__repr__`` wins."""
    own = [klass for klass in _mro(type(obj)) if "__repr__" in vars(klass)][:1]
    if own != [type]:
        _repr_printer(obj, p, cycle)
        return
    module = _safe_getattr(obj, "__module__")
    try:
        name = obj.__qualname__
        if not isinstance(name, str):
            raise TypeError(name)
    except Exception:  # noqa: BLE001 - a __qualname__ that is not a string
        name = obj.__name__
        if not isinstance(name, str):
            name = "<unknown type>"
    p.text(name if module in (None, "__builtin__", "builtins", "exceptions") else f"{module}.{name}")


def _function_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    """``<function mod.name(signature)>``."""
    name = _safe_getattr(obj, "__qualname__") or obj.__name__
    module = obj.__module__
    if module and module not in ("__builtin__", "builtins", "exceptions"):
        name = f"{module}.{name}"
    import inspect

    try:
        name += str(inspect.signature(obj))
    except ValueError:
        pass
    p.text(f"<function {name}>")


def _call(p: ReprPrinter, name: str, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None) -> None:
    """``name(arg, ..., key=value)`` with breakables between the arguments."""
    prefix = name + "("
    with p.group(len(prefix), prefix, ")"):
        first = True
        for arg in args:
            if not first:
                p.text(",")
                p.breakable()
            first = False
            p.pretty(arg)
        for key, value in (kwargs or {}).items():
            if not first:
                p.text(",")
                p.breakable()
            first = False
            with p.group(len(key) + 1, key + "="):
                p.pretty(value)


class _Raw:
    """An object that prints as the text it holds."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        p.text(self.text)


def _exception_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    cls = obj.__class__
    name = getattr(cls, "__qualname__", cls.__name__)
    if cls.__module__ not in ("exceptions", "builtins"):
        name = f"{cls.__module__}.{name}"
    _call(p, name, getattr(obj, "args", ()))


def _namespace_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    if cycle:
        _call(p, "namespace", [_Raw("...")])
    else:
        _call(p, "namespace", (), dict(obj.__dict__))


def _super_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    p.begin_group(8, "<super: ")
    p.pretty(obj.__thisclass__)
    p.text(",")
    p.breakable()
    p.pretty(obj.__self__)
    p.end_group(8, ">")


_RE_FLAGS = ("IGNORECASE", "LOCALE", "MULTILINE", "DOTALL", "UNICODE", "VERBOSE", "DEBUG")


def _pattern_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    """``re.compile(r'...', re.FLAG|...)``."""
    import re

    text = repr(obj.pattern)
    prefix = "r"
    if text[:1] in "uU":
        text, prefix = text[1:], "ur"
    literal = prefix + text.replace("\\\\", "\\")
    args: list[Any] = [_Raw(literal)]
    if obj.flags:
        names = [f"re.{flag}" for flag in _RE_FLAGS if obj.flags & getattr(re, flag)]
        args.append(_Raw("|".join(names)))
    _call(p, "re.compile", args)


def _named_call(build: Callable[[Any], tuple[list[Any], dict[str, Any]] | None]) -> Printer:
    """A printer for ``Name(args)`` (collections types): ``build`` gives the arguments."""

    def print_call(obj: Any, p: ReprPrinter, cycle: bool) -> None:
        name = obj.__class__.__name__
        if cycle:
            _call(p, name, [_Raw("...")])
            return
        parts = build(obj)
        args, kwargs = parts if parts is not None else ([], {})
        _call(p, name, args, kwargs)

    return print_call


_PRINTERS: dict[type, Printer] = {
    int: _repr_printer,
    float: _float_printer,
    str: _repr_printer,
    bytes: _repr_printer,
    range: _repr_printer,
    slice: _repr_printer,
    tuple: _sequence("(", ")"),
    list: _sequence("[", "]"),
    dict: _dict("{", "}"),
    set: _set("{", "}"),
    frozenset: _set("frozenset({", "})"),
    super: _super_printer,
    type: _type_printer,
    types.FunctionType: _function_printer,
    types.BuiltinFunctionType: _function_printer,
    types.MethodType: _repr_printer,
    types.SimpleNamespace: _namespace_printer,
    types.MappingProxyType: _dict("mappingproxy({", "})"),
    BaseException: _exception_printer,
}
for _singleton in (None, True, False, Ellipsis, NotImplemented):
    _PRINTERS[type(_singleton)] = _repr_printer

# types printed by name, so that printing them imports nothing: (module, name) -> printer
_PRINTERS_BY_NAME: dict[tuple[str, str], Printer] = {
    ("re", "Pattern"): _pattern_printer,
    ("os", "_Environ"): _dict("environ{", "}"),
    ("datetime", "datetime"): _repr_printer,
    ("datetime", "timedelta"): _repr_printer,
    ("collections", "defaultdict"): _named_call(lambda obj: ([obj.default_factory, dict(obj)], {})),
    ("collections", "OrderedDict"): _named_call(lambda obj: ([list(obj.items())], {}) if obj else None),
    ("collections", "deque"): _named_call(
        lambda obj: ([list(obj)], {} if obj.maxlen is None else {"maxlen": obj.maxlen})
    ),
    ("collections", "Counter"): _named_call(lambda obj: ([dict(obj.most_common())], {}) if obj else None),
    ("collections", "UserList"): _named_call(lambda obj: ([obj.data], {})),
}
_BY_NAME_MODULES = {"re", "os", "datetime", "collections"}


def _safe_getattr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - an odd __getattr__
        return None


def _mro(cls: type) -> tuple[type, ...]:
    mro = _safe_getattr(cls, "__mro__")
    return mro if isinstance(mro, tuple) else (cls,)


def _default_printer(obj: Any, p: ReprPrinter, cycle: bool) -> None:
    """``<module.Class at 0x...>`` for objects that keep ``object.__repr__``."""
    cls = _safe_getattr(obj, "__class__") or type(obj)
    if _safe_getattr(cls, "__repr__") is not object.__repr__:
        _repr_printer(obj, p, cycle)
        return
    p.begin_group(1, "<")
    p.pretty(cls)
    p.text(f" at 0x{id(obj):x}")
    if cycle:
        p.text(" ...")
    p.end_group(1, ">")


def printer_for(cls: type) -> Printer:
    """The printer IPython would pick for instances of ``cls``, walking its MRO."""
    for klass in _mro(cls):
        printer = _PRINTERS.get(klass)
        if printer is not None:
            return printer
        module = _safe_getattr(klass, "__module__")
        if module in _BY_NAME_MODULES:
            printer = _PRINTERS_BY_NAME.get((module, _safe_getattr(klass, "__name__")))
            if printer is not None:
                return printer
        namespace = _safe_getattr(klass, "__dict__") or {}
        if "_repr_pretty_" in namespace:
            method = _safe_getattr(klass, "_repr_pretty_")
            if callable(method):
                own: Printer = method
                return own
        if klass is not object and "__repr__" in namespace and callable(_safe_getattr(klass, "__repr__")):
            return _repr_printer
    return _default_printer


class _Printer:
    """One ``pretty()`` call: the item limit and the printers looked up so far, by type."""

    def __init__(self, width: int, max_items: int) -> None:
        self.width = max(width, 1)
        self.max_items = max(max_items, 1)
        self.printers: dict[type, Printer] = {}

    def printer(self, obj: Any) -> Printer:
        cls = _safe_getattr(obj, "__class__") or type(obj)
        try:
            return self.printers[cls]
        except KeyError:
            found = self.printers[cls] = printer_for(cls)
            return found
        except TypeError:  # an unhashable class
            return printer_for(cls)


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
    Nested objects go through ``pretty``, which picks their printer as IPython would.
    """

    def __init__(self, owner: _Printer, width: int) -> None:
        self.owner = owner  # the pretty() call: item limit, printers by type
        self.max_width = width
        self.max_seq_length = owner.max_items
        self.output_width = 0  # column where committed text ends
        self.indentation = 0
        self.verbose = False
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
        """Print a nested object with the printer IPython would pick, in a group of its own."""
        key = id(obj)
        cycle = key in self.stack
        self.stack.append(key)
        self.begin_group()
        try:
            if len(self.stack) > MAX_DEPTH:
                self.text("...")
                return
            self.owner.printer(obj)(obj, self, cycle)
        finally:
            self.end_group()
            self.stack.pop()

    def getvalue(self) -> str:
        """Everything printed so far, waiting breakables laid out flat."""
        self._flush()
        return "".join(self._done)

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
                    # IPython counts this index from the end but deletes from the front: the
                    # group deleted may be another one, which then never breaks; the same here,
                    # so that the same objects print the same
                    del groups[len(groups) - 1 - index]
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
