"""kernel.display.pretty: the text/plain of results, on tricky inputs."""

from __future__ import annotations

import ast
import collections
import dataclasses
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.display.pretty import MAX_TOTAL, pretty, safe_repr


class Boom:
    """An object whose repr fails."""

    def __repr__(self) -> str:
        raise ValueError("no repr today")


class Tall:
    """An object whose repr spans several lines (like a numpy array or a DataFrame)."""

    def __repr__(self) -> str:
        return "Tall(\n  a=1,\n  b=2)"


@pytest.mark.parametrize(
    "value",
    [
        [],
        (),
        {},
        set(),
        frozenset(),
        [1, 2, 3],
        (1,),
        (1, 2),
        {"a": 1, "b": [1, 2]},
        {1, 2},
        frozenset({3}),
        [[1], (2,), {3: 4}],
        "a string",
        b"bytes",
        3.5,
        None,
        range(10),
        {"é": "ü", "日本": "語"},
        collections.OrderedDict(a=1),
        collections.deque([1, 2]),
        collections.deque([1], maxlen=3),
        collections.deque(),
        collections.Counter("aab"),
        collections.Counter(),
        collections.defaultdict(list, a=[1]),
        collections.defaultdict(int),
        {"a": 1}.keys(),
        {"a": 1}.values(),
        {"a": 1}.items(),
        {}.items(),
        types.MappingProxyType({"a": 1}),
        types.MappingProxyType({}),
    ],
)
def test_short_values_print_exactly_as_repr(value: Any) -> None:
    assert pretty(value) == repr(value)


def test_subclasses_keep_their_builtin_repr() -> None:
    class MyList(list):  # type: ignore[type-arg]
        pass

    class MySet(set):  # type: ignore[type-arg]
        pass

    class Custom(list):  # type: ignore[type-arg]
        def __repr__(self) -> str:
            return "Custom!"

    for value in (MyList([1, 2]), MySet({1}), MySet(), Custom([1] * 100)):
        assert pretty(value) == repr(value)


def test_long_list_is_one_item_per_line_with_an_indent() -> None:
    text = pretty(list(range(40)))
    lines = text.splitlines()
    assert lines[0] == "["
    assert lines[1] == "    0,"
    assert lines[-2] == "    39,"
    assert lines[-1] == "]"
    assert len(lines) == 42
    assert ast.literal_eval(text) == list(range(40))


def test_nested_containers_break_only_where_needed() -> None:
    value = {"short": [1, 2], "long": ["x" * 30, "y" * 30, "z" * 30], "t": (1,)}
    text = pretty(value)
    assert text == (
        "{\n"
        "    'short': [1, 2],\n"
        "    'long': [\n"
        f"        '{'x' * 30}',\n"
        f"        '{'y' * 30}',\n"
        f"        '{'z' * 30}',\n"
        "    ],\n"
        "    't': (1,),\n"
        "}"
    )
    assert all(len(line) <= 79 for line in text.splitlines())


def test_dict_keeps_insertion_order() -> None:
    value = {key: "v" * 10 for key in ["zeta", "alpha", "mid", "beta", "omega", "gamma"]}
    text = pretty(value)
    assert [line.split(":")[0].strip(" '") for line in text.splitlines()[1:-1]] == list(value)


def test_width_is_respected() -> None:
    assert pretty([1, 2, 3], width=5) == "[\n    1,\n    2,\n    3,\n]"
    assert pretty(list(range(30)), width=200) == repr(list(range(30)))


def test_recursive_structures_are_safe() -> None:
    items: list[Any] = [1, 2]
    items.append(items)
    assert pretty(items) == "[1, 2, [...]]"
    table: dict[str, Any] = {"a": "x" * 80}
    table["self"] = table
    text = pretty(table)
    assert "'self': {...}," in text
    both: list[Any] = ["y" * 50, "z" * 50]
    both.append({"loop": both})
    assert "{'loop': [...]}" in pretty(both)


def test_shared_but_not_recursive_items_print_in_full() -> None:
    inner = [1, 2]
    assert pretty([inner, inner]) == "[[1, 2], [1, 2]]"


def test_huge_containers_are_cut_with_a_note() -> None:
    text = pretty(list(range(5000)))
    lines = text.splitlines()
    assert lines[-2] == "    ... (4,000 more items)"
    assert len(lines) == 1003
    assert pretty(set(range(2000)), max_items=10).splitlines()[-2] == "    ... (1,990 more items)"
    text = pretty({i: i for i in range(1500)})
    assert "... (500 more items)" in text


def test_output_as_a_whole_is_bounded() -> None:
    grid = [list(range(1000)) for _ in range(100)]
    text = pretty(grid)
    assert text.count("\n") < MAX_TOTAL + 1000
    assert "more items" in text


def test_deep_nesting_does_not_overflow_the_stack() -> None:
    value: list[Any] = []
    for _ in range(5000):
        value = [value]
    text = pretty(value)
    assert "[...]" in text


def test_failing_repr_is_reported_not_raised() -> None:
    text = pretty(Boom())
    assert "Boom object at 0x" in text
    assert "repr failed: ValueError: no repr today" in text
    text = pretty([Boom(), 1])
    assert text.startswith("[<")
    assert "ValueError: no repr today" in text
    assert "ValueError" in pretty({"key": Boom()})
    assert safe_repr(Boom()).endswith("ValueError: no repr today>")


def test_ints_too_long_to_print_are_reported() -> None:
    huge = 10**5000
    assert "repr failed: ValueError" in pretty(huge)
    assert "repr failed: ValueError" in pretty([huge])
    assert "repr failed: ValueError" in pretty({"k": huge, "other": "x" * 80})


def test_odd_metaclasses_are_not_fatal() -> None:
    class Meta(type):
        def __getattr__(cls, name: str) -> Any:
            raise RuntimeError("metaclass says no")

    class Odd(metaclass=Meta):
        def __repr__(self) -> str:
            return "Odd()"

    assert pretty(Odd()) == "Odd()"
    assert pretty([Odd()] * 3) == "[Odd(), Odd(), Odd()]"
    assert pretty([Odd()] * 30).count("\n") == 31


def test_multiline_reprs_are_indented_inside_containers() -> None:
    text = pretty([Tall(), "x" * 80])
    assert text == "[\n    Tall(\n      a=1,\n      b=2),\n    '" + "x" * 80 + "',\n]"


def test_long_strings_and_unknown_objects_are_plain_repr() -> None:
    long_text = "é" * 500
    assert pretty(long_text) == repr(long_text)
    obj = object()
    assert pretty(obj) == repr(obj)


def test_container_changing_during_iteration_is_not_fatal() -> None:
    class Shifty(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("dictionary changed size during iteration")

    value = Shifty({i: "v" * 20 for i in range(10)})
    assert pretty(value) == repr(value)


def test_counter_and_defaultdict_wrap_with_their_names() -> None:
    counts = collections.Counter({f"word{i}": i for i in range(20)})
    text = pretty(counts)
    assert text.startswith("Counter({\n    'word19': 19,")
    assert text.endswith("\n})")
    table = collections.defaultdict(list, {f"k{i}": [i] * 5 for i in range(10)})
    text = pretty(table)
    assert text.startswith("defaultdict(<class 'list'>, {\n")
    assert text.endswith("\n})")
    queue = collections.deque(range(40), maxlen=50)
    assert pretty(queue).endswith("\n], maxlen=50)")


atoms = st.one_of(
    st.integers(),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
keys = st.one_of(st.integers(), st.text(max_size=15))
values = st.recursive(
    atoms,
    lambda children: st.one_of(
        st.lists(children, max_size=8),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=6),
    ),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(values)
def test_output_reads_back_as_the_same_value(value: Any) -> None:
    text = pretty(value)
    assert ast.literal_eval(text) == value
    if "\n" not in text:
        assert text == repr(value)
    else:
        assert len(repr(value)) > 79 or "\n" in repr(value)


@dataclasses.dataclass
class Point:
    x: int
    label: str = "p"
    tags: list[int] = dataclasses.field(default_factory=list)
    hidden: str = dataclasses.field(default="h", repr=False)


@dataclasses.dataclass
class OwnRepr:
    x: int

    def __repr__(self) -> str:
        return "OwnRepr!"


Pair = collections.namedtuple("Pair", "left right")


def test_dataclasses_and_named_tuples_wrap_by_field() -> None:
    assert pretty(Point(1)) == repr(Point(1))
    assert pretty(Pair(1, 2)) == repr(Pair(1, 2))
    assert pretty(OwnRepr(1)) == "OwnRepr!"
    text = pretty(Point(1, "n" * 40, list(range(30))))
    assert text.startswith("Point(\n    x=1,\n    label='" + "n" * 40 + "',\n    tags=[\n        0,\n")
    assert text.endswith("\n    ],\n)")
    assert "hidden" not in text
    text = pretty([Pair("a" * 50, "b" * 50)])
    assert text == f"[\n    Pair(\n        left='{'a' * 50}',\n        right='{'b' * 50}',\n    ),\n]"
