"""kernel.display.pretty writes text/plain as IPython's pretty printer does: compared here with
IPython.lib.pretty on the same objects (the test imports IPython; the kernel does not)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
import re
import subprocess
import sys
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.display.pretty import pretty, set_float_format

ipython_pretty = pytest.importorskip("IPython.lib.pretty")


class Plain:
    """Keeps object.__repr__: IPython prints ``<module.Plain at 0x...>``."""


class Boom:
    def __repr__(self) -> str:
        raise ValueError("no repr today")


class Tall:
    def __repr__(self) -> str:
        return "Tall(\n  a=1,\n  b=2)"


class Meta(type):
    def __repr__(cls) -> str:
        return "<meta!>"


class WithMeta(metaclass=Meta):
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


class MyDict(dict):  # type: ignore[type-arg]
    def __repr__(self) -> str:
        return "MyDict!"


@dataclasses.dataclass
class Point:
    x: int
    tags: list[int] = dataclasses.field(default_factory=list)


def function(a: int, b: str = "x", *rest: Any, **options: Any) -> None:
    """A function with a signature."""


Pair = collections.namedtuple("Pair", "left right")
loop: list[Any] = [1]
loop.append(loop)
shared = [1, 2]

VALUES = [
    int, str, type(None), Plain, Meta, WithMeta, collections.OrderedDict, types.SimpleNamespace,
    iter([1]), iter({}), Plain(), [Plain(), Plain()], function, len, print, Plain.__init__, [].append,
    list(range(30)), list(range(2000)), tuple(range(40)), (1,), ("x" * 80,), [], (), {}, set(), frozenset(),
    {i: "x" * 10 for i in range(12)}, {3, 1, 2}, {"b", "a", 1}, frozenset({5, 4}), set(range(1200)),
    {"nested": [{"a": list(range(20)), "b": "y" * 50}] * 3}, [shared, shared], loop,
    MyList([1, 2] * 30), MyDict(a=1), Point(1, list(range(40))), Pair("a" * 50, "b" * 50),
    collections.OrderedDict(a=1), collections.OrderedDict(), collections.deque(range(40), maxlen=50),
    collections.deque(), collections.Counter("aabc" * 20), collections.Counter(),
    collections.defaultdict(list, a=[1] * 40), collections.UserList([1, 2]),
    {}.keys(), {"a": 1}.values(), {"a": 1}.items(), types.MappingProxyType({"a": [1] * 50}),
    re.compile(r"\s+\d", re.I | re.M), re.compile("plain"), re.compile(rb"by\\tes"),
    ValueError("x", 2), OSError(2, "No such file"), KeyError("k" * 90),
    types.SimpleNamespace(a=1, b="x" * 90), datetime.datetime(2020, 1, 2, 3, 4), datetime.timedelta(3),
    datetime.date(2020, 1, 1), range(5), slice(1, 2), True, None, ..., NotImplemented, b"x" * 100,
    "s" * 100, ["s" * 100], 1.5, [1.5, 2.5] * 30, 10**50, 3 + 4j, Tall(), [Tall(), Tall()],
    {"tall": Tall()}, os.environ, super(Plain, Plain()), sys.flags, sys.version_info,
    [[[[[[1, 2, 3] * 5] * 2] * 2] * 2]], [type, object, ValueError],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_same_text_as_ipython(value: Any) -> None:
    for width in (79, 30, 120):
        assert pretty(value, width=width) == ipython_pretty.pretty(value, max_width=width)


def test_what_the_issue_names() -> None:
    assert pretty(int) == "int"
    assert re.fullmatch(r"<list_iterator at 0x[0-9a-f]+>", pretty(iter([1])))
    assert pretty(list(range(30))).startswith("[0,\n 1,\n 2,\n")
    assert pretty({3, 1, 2}) == "{1, 2, 3}"
    assert pretty(Plain).endswith("test_pretty.Plain")


def test_a_failing_repr_raises_as_in_ipython() -> None:
    for value in (Boom(), [1, Boom()], {"k": Boom()}):
        with pytest.raises(ValueError, match="no repr today"):
            pretty(value)
        with pytest.raises(ValueError, match="no repr today"):
            ipython_pretty.pretty(value)


def test_float_precision() -> None:
    set_float_format("%.2f")
    try:
        assert pretty(3.14159) == "3.14"
        assert pretty([3.14159, 1]) == "[3.14, 1]"
    finally:
        set_float_format(None)
    assert pretty([3.14159]) == "[3.14159]"


def test_deep_nesting_does_not_overflow_the_stack() -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    assert "..." in pretty(deep)


def test_printing_does_not_import_ipython() -> None:
    code = (
        "import sys, re, collections, datetime\n"
        "from kernel.display.pretty import pretty\n"
        "pretty([{1: (2, {3}), 'a': [pretty, int, iter([]), re.compile('x')]}] * 20)\n"
        "print(sorted(name for name in sys.modules if name.startswith('IPython')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "[]\n"


atoms = st.one_of(
    st.integers(),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([int, Plain, function, Plain()]),
)
keys = st.one_of(st.integers(), st.text(max_size=15))
values = st.recursive(
    atoms,
    lambda children: st.one_of(
        st.lists(children, max_size=8),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=6),
        st.sets(keys, max_size=8),
        st.frozensets(st.integers(), max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(1, 100))
def test_random_values_match_ipython(value: Any, width: int) -> None:
    assert pretty(value, width=width) == ipython_pretty.pretty(value, max_width=width)
