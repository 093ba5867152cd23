"""Completion: pure cases on strings and a namespace, and a few through a real mycon kernel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_harness import execute, request

from kernel.services.completion import Instance, Unresolved, complete, evaluate, expression_before


class Tracker:
    """An object whose property must never run while completing."""

    class_attr = 1

    def __init__(self) -> None:
        self.calls = 0
        self.items = [{"inner": self}]
        self.value = 3

    @property
    def expensive(self) -> int:
        self.calls += 1
        raise RuntimeError("a property ran during completion")

    def method(self, alpha: int, beta: int = 2, *, gamma: int = 3) -> Tracker:
        return self

    def __getattr__(self, name: str) -> Any:
        self.calls += 1
        raise AttributeError(name)


def function(alpha: int, beta: int = 1, /, *args: int, almost: int = 2, **rest: int) -> None:
    """A function with every kind of parameter."""


def positional(alpha: int, /, bravo: int) -> None:
    """Positional-only parameters cannot be passed by keyword."""


class FakeFrame:
    """Stands in for a pandas DataFrame: keys() lists the columns."""

    def keys(self) -> list[str]:
        return ["column_a", "column_b", "other"]


FakeFrame.__module__ = "pandas.core.frame"


class Opaque:
    """A mapping-like object from an unknown library: its keys() must not run."""

    ran = False

    def keys(self) -> list[str]:
        Opaque.ran = True
        return ["secret"]


@pytest.fixture
def namespace() -> dict[str, Any]:
    import builtins

    return {
        "__builtins__": builtins,
        "os": os,
        "tracker": Tracker(),
        "Tracker": Tracker,
        "function": function,
        "positional": positional,
        "data": {"key": 1, "kettle": 2, "other": 3, 5: "five", ("a", 1): 0, "it's": 4},
        "nested": {"level": [{"deep": {"deepest": 1}}]},
        "frame": FakeFrame(),
        "opaque": Opaque(),
        "été": 1,
        "données": {"clé": 1, "clef": 2},
        "_private": 2,
        "__dunder__": 3,
        "values": [1, 2, 3],
        "pair": ("text", 1),
    }


def run(code: str, namespace: dict[str, Any], cursor: int | None = None) -> dict[str, Any]:
    return complete(code, len(code) if cursor is None else cursor, namespace)


def matches(code: str, namespace: dict[str, Any], cursor: int | None = None) -> list[str]:
    result: list[str] = run(code, namespace, cursor)["matches"]
    return result


def test_names_builtins_and_keywords(namespace: dict[str, Any]) -> None:
    assert matches("pri", namespace) == ["print"]
    assert "function" in matches("fun", namespace)
    assert matches("whi", namespace) == ["while"]
    assert "values" in matches("va", namespace)
    assert set(matches("imp", namespace)) >= {"import"}


def test_private_names_only_after_underscore(namespace: dict[str, Any]) -> None:
    assert "_private" not in matches("", namespace)
    assert "_private" in matches("_", namespace)
    assert "__dunder__" in matches("__d", namespace)
    assert "__class__" not in matches("tracker.", namespace)
    assert "__class__" in matches("tracker.__c", namespace)


def test_reply_shape_and_types(namespace: dict[str, Any]) -> None:
    reply = run("tracker.me", namespace)
    assert reply["status"] == "ok"
    assert reply["matches"] == ["method"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (8, 10)
    [entry] = reply["metadata"]["_jupyter_types_experimental"]
    assert entry["text"] == "method" and entry["type"] == "function"
    assert (entry["start"], entry["end"]) == (8, 10)
    assert entry["signature"].startswith("(alpha")


def test_kinds(namespace: dict[str, Any]) -> None:
    def kinds(code: str) -> dict[str, str]:
        reply = run(code, namespace)
        return {e["text"]: e["type"] for e in reply["metadata"]["_jupyter_types_experimental"]}

    assert kinds("o")["os"] == "module"
    assert kinds("Trac")["Tracker"] == "class"
    assert kinds("whil")["while"] == "keyword"
    assert kinds("valu")["values"] == "instance"
    assert kinds("tracker.")["expensive"] == "property"
    assert kinds("tracker.")["method"] == "function"


def test_attributes_never_run_properties_or_getattr(namespace: dict[str, Any]) -> None:
    tracker = namespace["tracker"]
    assert {"expensive", "method", "value", "items", "class_attr"} <= set(matches("tracker.", namespace))
    assert matches("tracker.expensive.", namespace) == []
    assert matches("tracker.missing.", namespace) == []
    assert tracker.calls == 0


def test_attribute_chains_with_literal_subscripts(namespace: dict[str, Any]) -> None:
    assert "method" in matches("tracker.items[0]['inner'].", namespace)
    assert "keys" in matches("nested['level'][0]['deep'].", namespace)
    assert "upper" in matches("pair[0].", namespace)
    assert "bit_length" in matches("values[-1].", namespace)
    assert matches("values[99].", namespace) == []
    assert matches("nested['nope'].", namespace) == []


def test_calls_are_never_run(namespace: dict[str, Any]) -> None:
    # a class call stands for an instance of it; other calls only via a return annotation
    assert "method" in matches("Tracker().me", namespace)
    assert matches("function().", namespace) == []
    assert matches("tracker.method(1).", namespace) == []  # string annotations are not read
    assert namespace["tracker"].calls == 0


def test_literals(namespace: dict[str, Any]) -> None:
    assert matches("'abc'.up", namespace) == ["upper"]
    assert "append" in matches("[1, 2].ap", namespace)
    assert "append" in matches("[x for x in values].ap", namespace)
    assert matches("1.", namespace) == []


def test_nested_calls_and_unicode(namespace: dict[str, Any]) -> None:
    assert matches("print(len(été + é", namespace) == ["été"]
    code = "x = 'ünïcödé'; données['cl"
    reply = run(code, namespace)
    assert reply["matches"] == ["clé']", "clef']"]
    assert reply["cursor_start"] == len(code) - 2  # code points, not bytes
    # cursor in the middle of the line, after non-ASCII text
    code = "été = données; tracker.me + 1"
    cursor = code.index(" + 1")
    reply = run(code, namespace, cursor)
    assert reply["matches"] == ["method"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (cursor - 2, cursor)


def test_comments_give_nothing(namespace: dict[str, Any]) -> None:
    assert matches("# tracker.", namespace) == []
    assert matches("x = 1  # pri", namespace) == []
    assert "print" in matches("# comment\npri", namespace)


def test_dict_string_keys(namespace: dict[str, Any]) -> None:
    assert matches('data["k', namespace) == ['key"]', 'kettle"]']
    assert matches("data['k", namespace) == ["key']", "kettle']"]
    assert matches('data["k"]', namespace, cursor=7) == ["key", "kettle"]  # closing already typed
    assert matches("data['it", namespace) == ["it\\'s']"]
    assert matches('data["it', namespace) == ['it\'s"]']
    assert matches("nested['level'][0]['d", namespace) == ["deep']"]


def test_dict_literal_keys(namespace: dict[str, Any]) -> None:
    found = matches("data[", namespace)
    assert "'key']" in found and "5]" in found and "('a', 1)]" in found
    assert matches("data[5", namespace) == ["5]"]


def test_dataframe_style_keys(namespace: dict[str, Any]) -> None:
    assert matches('frame["col', namespace) == ['column_a"]', 'column_b"]']
    assert matches('opaque["', namespace) == []  # unknown libraries' keys() never run
    assert Opaque.ran is False


def test_keyword_arguments(namespace: dict[str, Any]) -> None:
    found = matches("function(al", namespace)
    assert found[:1] == ["almost="] and "all" in found  # alpha is positional-only
    assert matches("function(1, be", namespace) == []  # beta is positional-only too
    assert matches("tracker.method(al", namespace)[:1] == ["alpha="]
    assert "gamma=" in matches("tracker.method(1, ", namespace)
    assert matches("positional(1, br", namespace)[:1] == ["bravo="]
    assert "beta=" in matches("Tracker().method(alpha=1, b", namespace)
    assert "alpha=" not in matches("function(x.al", namespace)
    kinds = {e["text"]: e["type"] for e in run("tracker.method(", namespace)["metadata"]["_jupyter_types_experimental"]}
    assert kinds["alpha="] == "param"


def test_import_statements(namespace: dict[str, Any]) -> None:
    assert "os" in matches("import o", namespace)
    assert "collections" in matches("import sys, coll", namespace)
    assert "collections" in matches("x = 1; import coll", namespace)
    assert "os.path" in matches("import os.pa", namespace)
    assert "xml.etree" in matches("import xml.et", namespace)
    assert "collections" in matches("from coll", namespace)
    assert matches("from os ", namespace) == ["import"]
    assert matches("from .", namespace) == [] and matches("from ..x", namespace) == []
    found = matches("from os.path import jo", namespace)
    assert found == ["join"]
    assert "abc" in matches("from collections import ", namespace)  # a submodule
    assert "getcwd" in matches("from os import (path,\n    getc", namespace)
    reply = run("import json.de", namespace)
    assert "json.decoder" in reply["matches"]
    assert reply["cursor_start"] == len("import ")


def test_paths_in_strings(namespace: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "alpha.txt").write_text("a")
    (tmp_path / "alphabet").mkdir()
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "naïve file.py").write_text("n")
    base = str(tmp_path)
    code = f"open('{base}/al"
    reply = run(code, namespace)
    assert reply["matches"] == ["alpha.txt", "alphabet/"]
    assert reply["cursor_start"] == len(code) - 2
    assert {e["type"] for e in reply["metadata"]["_jupyter_types_experimental"]} == {"path"}
    assert matches(f'x = "{base}/', namespace) == ["alpha.txt", "alphabet/", "naïve file.py"]
    assert matches(f'x = "{base}/.h', namespace) == [".hidden"]
    assert matches(f'x = "{base}/missing/', namespace) == []


def test_paths_after_shell_escapes_and_path_magics(namespace: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a")
    assert matches(f"!ls {tmp_path}/da", namespace) == ["data.csv"]
    assert matches(f"%cd {tmp_path}/da", namespace) == ["data.csv"]
    # the same magics typed without % (automagic), unless a variable has the name
    assert matches(f"cd {tmp_path}/da", namespace) == ["data.csv"]
    assert matches(f"if True:\n    run {tmp_path}/da", namespace) == ["data.csv"]
    assert "data.csv" not in matches(f"cd {tmp_path}/da", {**namespace, "cd": 1})
    assert "data.csv" not in matches(f"cd = {tmp_path}/da", namespace)


def test_magics(namespace: dict[str, Any]) -> None:
    found = matches("%ti", namespace)
    assert found[:2] == ["%time", "%timeit"]
    assert all(name.startswith("%%") for name in matches("%%", namespace))
    reply = run("x = 1\n%%ti", namespace)
    assert reply["cursor_start"] == len("x = 1\n")
    # the rest of a %time line is Python
    assert matches("%time tracker.me", namespace) == ["method"]


def test_fstring_expressions(namespace: dict[str, Any]) -> None:
    assert matches("f'{tracker.me", namespace) == ["method"]


def test_cursor_out_of_range_and_empty_code(namespace: dict[str, Any]) -> None:
    reply = complete("pri", 99, namespace)
    assert reply["matches"] == ["print"]
    assert complete("", 0, namespace)["status"] == "ok"


def test_evaluate_is_safe(namespace: dict[str, Any]) -> None:
    assert evaluate("nested['level'][0]", namespace) == {"deep": {"deepest": 1}}
    assert evaluate("Tracker()", namespace) == Instance(Tracker)
    for expression in ("tracker.expensive", "print('x')", "values[0] + 1", "__import__('os')", "x y"):
        with pytest.raises(Unresolved):
            evaluate(expression, namespace)
    assert namespace["tracker"].calls == 0


def test_expression_before() -> None:
    assert expression_before("x = a.b[0]['k'].c", 17) == "a.b[0]['k'].c"
    assert expression_before("print(foo(1).bar", 16) == "foo(1).bar"
    assert expression_before("f(a, b", 6) == "b"


def test_through_a_real_kernel(kernel_client: Any) -> None:
    reply, _ = execute(kernel_client, "def plot(alpha, beta=1):\n    pass\ncouleur_été = {'clé': 1}")
    assert reply["content"]["status"] == "ok"
    reply, _ = request(kernel_client, "complete_request", {"code": "plot(al", "cursor_pos": 7})
    content = reply["content"]
    assert content["status"] == "ok"
    assert content["matches"][0] == "alpha="
    assert (content["cursor_start"], content["cursor_end"]) == (5, 7)
    code = "couleur_été['c"
    reply, _ = request(kernel_client, "complete_request", {"code": code, "cursor_pos": len(code)})
    assert reply["content"]["matches"] == ["clé']"]
    assert reply["content"]["cursor_start"] == len(code) - 1
    reply, _ = request(kernel_client, "complete_request", {"code": "import o", "cursor_pos": 8})
    assert "os" in reply["content"]["matches"]
    types = reply["content"]["metadata"]["_jupyter_types_experimental"]
    assert {entry["type"] for entry in types} == {"module"}


def test_astral_characters_count_as_one_code_point(namespace: dict[str, Any]) -> None:
    code = "s = '😀🐍'; pri"
    reply = run(code, namespace)
    assert reply["matches"] == ["print"]
    assert reply["cursor_start"] == len(code) - 3 == 10


SAFE_ALPHABET = "abxyz_.[](){}'\"#%!?\n :,=0123456789é\\"  # cannot spell `import`


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(alphabet=SAFE_ALPHABET, max_size=40), data=st.data())
def test_any_text_and_cursor_gives_a_valid_reply(namespace: dict[str, Any], code: str, data: Any) -> None:
    cursor = data.draw(st.integers(min_value=0, max_value=len(code)))
    reply = complete(code, cursor, namespace)
    assert reply["status"] == "ok"
    assert 0 <= reply["cursor_start"] <= reply["cursor_end"] <= len(code)
    assert all(isinstance(match, str) for match in reply["matches"])
    assert len(reply["metadata"]["_jupyter_types_experimental"]) == len(reply["matches"])


def test_names_the_cell_binds_before_it_runs(namespace: dict[str, Any]) -> None:
    code = "long_variable = 1\nfor index_a, index_b in pairs:\n    print(long_v"
    reply = run(code, namespace)
    assert reply["matches"] == ["long_variable"]
    assert reply["metadata"]["_jupyter_types_experimental"][0]["type"] == "statement"
    assert matches("def f(alpha_val, *, beta_val=1):\n    return alpha_", namespace) == ["alpha_val"]
    assert matches("for index_a, index_b in pairs:\n    index_", namespace) == ["index_a", "index_b"]
    assert matches("with open(p) as handle_x:\n    handle_", namespace) == ["handle_x"]
    assert matches("valu", namespace) == ["values"]  # the word being typed is not a name


def test_no_warning_while_completing_code_python_would_warn_about(recwarn: pytest.WarningsRecorder) -> None:
    assert "upper" in matches('"\\%".up', {})
    assert [str(w.message) for w in recwarn] == []
