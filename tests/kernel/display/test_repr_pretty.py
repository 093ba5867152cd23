"""kernel.display.pretty honours IPython's ``_repr_pretty_``, laid out as IPython lays it out."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import execute

from kernel.display.pretty import ReprPrinter, pretty

ipython_pretty = pytest.importorskip("IPython.lib.pretty")


def both(obj: Any, width: int = 79) -> tuple[str, str]:
    """(ours, IPython's) text for ``obj`` at ``width`` columns."""
    return pretty(obj, width=width), ipython_pretty.pretty(obj, max_width=width)


class Money:
    """Text only."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        p.text(f"{self.cents // 100}.{self.cents % 100:02d} EUR")


class Call:
    """``name(arg, arg, ...)`` with a breakable after each comma, aligned under the first."""

    def __init__(self, name: str, *args: Any) -> None:
        self.name = name
        self.args = args

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        opening = f"{self.name}("
        p.begin_group(len(opening), opening)
        for index, arg in enumerate(self.args):
            if index:
                p.text(",")
                p.breakable()
            p.pretty(arg)
        p.end_group(len(opening), ")")


class Node:
    """A tree node printed with ``with p.group(...)``; may point back at itself."""

    def __init__(self, label: str, *children: Node) -> None:
        self.label = label
        self.children = list(children)

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        if cycle:
            p.text(f"Node({self.label!r}, ...)")
            return
        with p.group(4, f"Node({self.label!r}", ")"):
            for child in self.children:
                p.text(",")
                p.breakable()
                p.pretty(child)


class Block:
    """Fixed lines: ``p.break_()`` and ``with p.indent(...)``."""

    def __init__(self, *lines: Any) -> None:
        self.lines = lines

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        p.text("begin")
        with p.indent(2):
            for line in self.lines:
                p.break_()
                p.pretty(line)
        p.break_()
        p.text("end")


class Broken:
    """A ``_repr_pretty_`` that fails halfway."""

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        p.text("Broken(")
        raise ValueError("no pretty today")

    def __repr__(self) -> str:
        return "Broken()"


class Tagged(list):  # type: ignore[type-arg]
    """A list subclass whose ``_repr_pretty_`` wins over the list layout."""

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        with p.group(7, "Tagged<", ">"):
            for index, item in enumerate(self):
                if index:
                    p.breakable(" | ")
                p.pretty(item)


class OwnReprFirst(Money):
    """A subclass defining ``__repr__``: IPython (and we) then ignore the inherited method."""

    def __repr__(self) -> str:
        return "OwnReprFirst()"


def test_text_only() -> None:
    ours, theirs = both(Money(1234))
    assert ours == theirs == "12.34 EUR"


def test_groups_with_breakables_short_and_long() -> None:
    short = Call("f", 1, "two", 3.0)
    assert both(short) == ("f(1, 'two', 3.0)", "f(1, 'two', 3.0)")
    long = Call("function", "a" * 30, "b" * 30, "c" * 30, 4)
    ours, theirs = both(long)
    assert ours == theirs
    assert ours.splitlines()[1] == " " * len("function(") + "'" + "b" * 30 + "',"
    for width in (1, 10, 40, 70, 100, 200):
        assert both(long, width)[0] == both(long, width)[1]


def test_nested_objects_go_through_p_pretty() -> None:
    inner = Call("g", Money(5), [1, 2], {"k": (3,)}, "x" * 40)
    outer = Call("f", inner, Call("h"), None, "y" * 20)
    for width in (20, 50, 79, 150):
        ours, theirs = both(outer, width)
        assert ours == theirs
    assert pretty(Call("f", Call("g", 1))) == "f(g(1))"


def test_p_group_context_manager_and_cycles() -> None:
    tree = Node("root", Node("a" * 30, Node("leaf")), Node("b" * 30), Node("c"))
    for width in (10, 40, 79, 200):
        ours, theirs = both(tree, width)
        assert ours == theirs
    loop = Node("loop", Node("x"))
    loop.children[0].children.append(loop)
    ours, theirs = both(loop)
    assert ours == theirs == "Node('loop', Node('x', Node('loop', ...)))"


def test_break_and_indent() -> None:
    block = Block(Money(100), Call("f", "a" * 50, "b" * 50), "text")
    ours, theirs = both(block)
    assert ours == theirs
    assert ours.startswith("begin\n  1.00 EUR\n  f('")


def test_multiline_reprs_inside_a_group_keep_the_indentation() -> None:
    class Tall:
        def __repr__(self) -> str:
            return "Tall(\n  a=1)"

    assert both(Call("wrap", Tall(), 2))[0] == both(Call("wrap", Tall(), 2))[1]


def test_ipythons_own_call_expression() -> None:
    call = ipython_pretty.CallExpression.factory("make")
    raw = ipython_pretty.RawText
    value = call(1, "x" * 40, raw("0b101"), flag=call(True), name="y" * 30)
    for width in (20, 79, 200):
        ours, theirs = both(value, width)
        assert ours == theirs
    assert pretty(value).splitlines()[2] == "     0b101,"


def test_raising_repr_pretty_raises_as_in_ipython() -> None:
    for value in (Broken(), [Broken(), 1], Call("f", Broken())):
        with pytest.raises(ValueError, match="no pretty today"):
            ipython_pretty.pretty(value)
        with pytest.raises(ValueError, match="no pretty today"):
            pretty(value)


def test_lookup_follows_ipython() -> None:
    tagged = Tagged(["a" * 30, "b" * 30, "c" * 30])
    ours, theirs = both(tagged)
    assert ours == theirs
    assert ours.startswith("Tagged<'")
    assert both(OwnReprFirst(1)) == ("OwnReprFirst()", "OwnReprFirst()")
    # looked up on the type: an instance attribute is not used, a class is printed by repr
    money = Money(1)
    money._repr_pretty_ = lambda p, cycle: p.text("instance")  # type: ignore[method-assign]
    assert pretty(money) == "0.01 EUR"
    assert pretty(Money) == ipython_pretty.pretty(Money) == f"{Money.__module__}.Money"


def test_containers_of_such_objects_use_it_for_their_items() -> None:
    assert pretty([Money(1), Money(250)]) == "[0.01 EUR, 2.50 EUR]"
    assert pretty({"price": Money(5)}) == "{'price': 0.05 EUR}"
    items: list[Any] = []
    items.append(Node("in list", Node("x")))
    items[0].children.append(items)
    for value in ([Call("f", "a" * 40, "b" * 40), Money(3)], items, Call("f", list(range(30)), 1),
                  Call("f", list(range(2000)), 1), Call("f", collections.Counter("aab"))):
        ours, theirs = both(value)
        assert ours == theirs


def test_printer_attributes() -> None:
    seen: dict[str, Any] = {}

    class Probe:
        def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
            p.text("abc")
            with p.indent(3):
                seen.update(
                    indentation=p.indentation,
                    max_width=p.max_width,
                    output_width=p.output_width,
                    max_seq_length=p.max_seq_length,
                )

    assert pretty(Probe(), width=50) == "abc"
    assert seen == {"indentation": 3, "max_width": 50, "output_width": 3, "max_seq_length": 1000}


# ----- any program of printer calls lays out as IPython's does ------------------------------------


class Doc:
    """Replays a random program of printer calls."""

    def __init__(self, ops: list[Any]) -> None:
        self.ops = ops

    def _repr_pretty_(self, p: ReprPrinter, cycle: bool) -> None:
        self.play(p, self.ops)

    def play(self, p: ReprPrinter, ops: list[Any]) -> None:
        for op in ops:
            kind = op[0]
            if kind == "text":
                p.text(op[1])
            elif kind == "breakable":
                p.breakable(op[1])
            elif kind == "break":
                p.break_()
            elif kind == "group":
                with p.group(op[1], op[2], op[3]):
                    self.play(p, op[4])
            elif kind == "begin_end":
                p.begin_group(op[1], op[2])
                self.play(p, op[4])
                p.end_group(op[1], op[3])
            elif kind == "indent":
                with p.indent(op[1]):
                    self.play(p, op[2])
            else:
                p.pretty(op[1])


words = st.text(alphabet="ab yz,", max_size=12)
brackets = st.sampled_from(["", "(", "[", "Name("])
closers = st.sampled_from(["", ")", "]"])
leaf_ops = st.one_of(
    st.tuples(st.just("text"), words),
    st.tuples(st.just("breakable"), st.sampled_from([" ", "", ", "])),
    st.tuples(st.just("break")),
    st.tuples(st.just("pretty"), st.one_of(st.integers(), st.text(max_size=10), st.none())),
)
programs = st.recursive(
    st.lists(leaf_ops, max_size=6),
    lambda inner: st.lists(
        st.one_of(
            leaf_ops,
            st.tuples(
                st.sampled_from(["group", "begin_end"]), st.integers(0, 6), brackets, closers, inner
            ),
            st.tuples(st.just("indent"), st.integers(0, 4), inner),
            st.tuples(st.just("pretty"), inner.map(Doc)),
        ),
        max_size=6,
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(programs, st.integers(1, 60))
def test_random_programs_match_ipython(ops: list[Any], width: int) -> None:
    ours, theirs = both(Doc(ops), width)  # IPython's group queue slip included
    assert ours == theirs


# ----- a real kernel ----------------------------------------------------------------------------


def test_kernel_out_uses_repr_pretty(kernel_client: BlockingKernelClient) -> None:
    code = (
        "class Point:\n"
        "    def _repr_pretty_(self, p, cycle):\n"
        "        with p.group(6, 'Point(', ')'):\n"
        "            p.text('x=1,')\n"
        "            p.breakable()\n"
        "            p.text('y=' + 'y' * 80)\n"
        "Point()"
    )
    reply, outputs = execute(kernel_client, code)
    assert reply["content"]["status"] == "ok"
    results = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
    assert results == [{"text/plain": "Point(x=1,\n      y=" + "y" * 80 + ")"}]
