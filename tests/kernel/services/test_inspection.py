"""Inspection: pure cases on strings and a namespace, and a few through a real mycon kernel."""

from __future__ import annotations

import linecache
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_harness import execute, request

from kernel.execution.tracebacks import cell_file_name
from kernel.services.inspection import describe, expression_at, inspect

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Gadget:
    """A gadget for tests."""

    def __init__(self, size: int) -> None:
        """Build a gadget of some size."""
        self.size = size

    @property
    def heavy(self) -> int:
        """Weighs the gadget."""
        raise RuntimeError("a property ran during inspection")

    def spin(self, speed: int = 1) -> int:
        """Spin it."""
        return speed


class BadStr:
    def __str__(self) -> str:
        raise ValueError("no string for you")


@pytest.fixture
def namespace() -> dict[str, Any]:
    source = "def plot(alpha, beta=1):\n    '''Draw things.'''\n    return alpha\n"
    filename = cell_file_name(3, 7, source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ns: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), ns)  # noqa: S102 - a cell, as the shell runs it
    ns.update(
        os=os, Gadget=Gadget, gadget=Gadget(3), items=[1, 2, 3], text="x" * 1000, bad=BadStr(),
        données={"clé": [1, 2]},
    )
    return ns


def plain(reply: dict[str, Any]) -> str:
    return ANSI.sub("", reply["data"]["text/plain"])


def test_expression_at() -> None:
    assert expression_at("zip", 3) == "zip"
    assert expression_at("zip", 0) == "zip"
    assert expression_at("x = os.path.join", 9) == "os.path"  # on `path`: the chain up to it
    assert expression_at("f(x, ", 5) == "f"
    assert expression_at("f(x", 3) == "f"  # at the end of an argument: the call wins
    assert expression_at("print(le(x))", 7) == "le"  # on a name inside a call: the name
    assert expression_at("print(a, g(b, ", 14) == "g"
    assert expression_at("obj.method(1).attr", 18) == "obj.method(1).attr"
    assert expression_at("été + données['clé']", 3) == "été"
    assert expression_at("os.path?", 8) == "os.path"
    assert expression_at("", 0) == ""


def test_function_from_a_cell(namespace: dict[str, Any]) -> None:
    reply = inspect("plot", 4, 0, namespace)
    assert reply["status"] == "ok" and reply["found"] is True
    assert reply["metadata"] == {}
    text = plain(reply)
    assert "Signature: plot(alpha, beta=1)" in text
    assert "Type:      function" in text
    assert "Cell In[3], line 1" in text
    assert "Draw things." in text
    assert "\x1b[31m" in reply["data"]["text/plain"]
    source = plain(inspect("plot", 4, 1, namespace))
    assert "def plot(alpha, beta=1):\n    '''Draw things.'''\n    return alpha" in source


def test_inside_a_call(namespace: dict[str, Any]) -> None:
    text = plain(inspect("plot(1, ", 8, 0, namespace))
    assert "Signature: plot(alpha, beta=1)" in text


def test_builtins_methods_classes_instances_modules(namespace: dict[str, Any]) -> None:
    assert "len(obj, /)" in plain(inspect("len", 3, 0, namespace))
    text = plain(inspect("items.append", 12, 0, namespace))
    assert "items.append(object, /)" in text
    text = plain(inspect("Gadget", 6, 0, namespace))
    assert "Init signature: Gadget(size: " in text  # annotations are strings in this file
    assert "A gadget for tests." in text and "Build a gadget of some size." in text
    text = plain(inspect("gadget", 6, 0, namespace))
    assert "Type:        " in text and "Gadget" in text and "String form:" in text
    text = plain(inspect("gadget.spin", 11, 0, namespace))
    assert "Signature: gadget.spin(speed: " in text
    assert "Spin it." in text
    text = plain(inspect("os", 2, 0, namespace))
    assert "Type:        module" in text and "os.py" in text
    assert "import abc" in plain(inspect("os", 2, 1, namespace)) or "Source:" in plain(
        inspect("os", 2, 1, namespace)
    )
    text = plain(inspect("items", 5, 0, namespace))
    assert "Length:      3" in text and "[1, 2, 3]" in text


def test_properties_are_described_not_run(namespace: dict[str, Any]) -> None:
    text = plain(inspect("gadget.heavy", 12, 0, namespace))
    assert "Type:        property" in text and "Weighs the gadget." in text


def test_long_and_broken_string_forms(namespace: dict[str, Any]) -> None:
    text = plain(inspect("text", 4, 0, namespace))
    assert " ... " in text and len(text) < 1500
    text = plain(inspect("bad", 3, 0, namespace))
    assert "str() failed: ValueError: no string for you" in text


def test_not_found(namespace: dict[str, Any]) -> None:
    for code in ("nothing_here", "", "   ", "1 +", "gadget.nothing", "print('x')"):
        reply = inspect(code, len(code), 0, namespace)
        assert reply == {"status": "ok", "found": False, "data": {}, "metadata": {}}, code


def test_unicode_and_subscripts(namespace: dict[str, Any]) -> None:
    code = "x = 'é'; données['clé']"
    text = plain(inspect(code, len(code), 0, namespace))
    assert "Type:        list" in text


def test_describe_matches_inspect(namespace: dict[str, Any]) -> None:
    assert describe("plot", 0, namespace) == inspect("plot", 4, 0, namespace)["data"]["text/plain"]
    assert describe("nothing_here", 0, namespace) is None
    assert "Source:" in ANSI.sub("", describe("plot", 1, namespace) or "")
    assert describe("os.path.join", 0, namespace) is not None


def test_through_a_real_kernel(kernel_client: Any) -> None:
    reply, _ = execute(kernel_client, "def mix(alpha, beta=1):\n    '''Mixes.'''\n    return alpha")
    assert reply["content"]["status"] == "ok"
    reply, _ = request(
        kernel_client, "inspect_request", {"code": "mix(1, ", "cursor_pos": 7, "detail_level": 0}
    )
    content = reply["content"]
    assert content["status"] == "ok" and content["found"] is True
    text = ANSI.sub("", content["data"]["text/plain"])
    assert "mix(alpha, beta=1)" in text and "Mixes." in text
    reply, _ = request(
        kernel_client, "inspect_request", {"code": "mix", "cursor_pos": 3, "detail_level": 1}
    )
    assert "return alpha" in reply["content"]["data"]["text/plain"]
    reply, _ = request(
        kernel_client, "inspect_request", {"code": "nope", "cursor_pos": 4, "detail_level": 0}
    )
    assert reply["content"]["found"] is False


def test_question_mark_page_through_a_real_kernel(kernel_client: Any) -> None:
    execute(kernel_client, "def mix2(alpha):\n    '''Mixes twice.'''\n    return alpha")
    reply, _ = execute(kernel_client, "mix2?")
    pages = [p for p in reply["content"]["payload"] if p.get("source") == "page"]
    assert pages, reply["content"]
    text = ANSI.sub("", pages[0]["data"]["text/plain"])
    assert "Signature: mix2(alpha)" in text and "Mixes twice." in text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(alphabet="abdgt_.[](){}'\"#?\n :,=0123é", max_size=40), data=st.data())
def test_any_text_and_cursor_gives_a_valid_reply(namespace: dict[str, Any], code: str, data: Any) -> None:
    cursor = data.draw(st.integers(min_value=0, max_value=len(code)))
    reply = inspect(code, cursor, data.draw(st.sampled_from([0, 1])), namespace)
    assert reply["status"] == "ok" and isinstance(reply["found"], bool)
    assert reply["found"] == ("text/plain" in reply["data"])


def _run_cell(source: str, count: int, serial: int, ns: dict[str, Any]) -> None:
    filename = cell_file_name(count, serial, source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)  # noqa: S102 - a cell, as the shell runs it


def test_classes_typed_in_cells() -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    _run_cell("x = 1\n\ndef deco(c):\n    return c\n", 90001, 1, ns)
    _run_cell('y = 2\n@deco\nclass Widget:\n    """A widget."""\n    def turn(self):\n        return 1\n', 90002, 2, ns)
    _run_cell('class Empty:\n    """Nothing inside."""\n', 90003, 3, ns)
    text = ANSI.sub("", describe("Widget", 1, ns) or "")
    assert "File:           Cell In[90002], line 2" in text
    assert '@deco\nclass Widget:\n    """A widget."""\n    def turn(self):\n        return 1' in text
    text = ANSI.sub("", describe("Empty", 1, ns) or "")
    assert "Cell In[90003], line 1" in text and "class Empty:" in text
    text = ANSI.sub("", describe("Widget()", 0, ns) or "")
    assert "Cell In[90002], line 2" in text


def test_class_source_through_a_real_kernel(kernel_client: Any) -> None:
    execute(kernel_client, 'class Pot:\n    """Holds soup."""\n    def stir(self):\n        pass')
    reply, _ = request(
        kernel_client, "inspect_request", {"code": "Pot", "cursor_pos": 3, "detail_level": 1}
    )
    text = ANSI.sub("", reply["content"]["data"]["text/plain"])
    assert 'class Pot:\n    """Holds soup."""' in text and "Cell In[" in text
