"""is_complete: pure cases on strings, and one round trip through a real mycon kernel."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import request

from kernel.services.iscomplete import is_complete, neutralize, scan

COMPLETE = [
    "",
    "   \n",
    "x = 1",
    "x = 1\n",
    "# just a comment",
    "x = 1  # trailing comment with a colon:",
    "print('a:')",
    "if x: pass",
    "class A: pass",
    "for i in x:\n    pass\n",
    "for i in x:\n    pass\n    \n",
    "for i in x:\n    pass\nprint(i)",
    "def f():\n    return 1\n\n",
    "await asyncio.sleep(0)",
    "é = 'ü'  # non-ASCII",
    "print(f'{x}')",
    "x = (1,\n     2)",
    "s = '''a\nb'''",
    "%time x = 1",
    "%timeit -n 3 f(1, 2)",
    "!ls -l",
    "files = !ls",
    "t = %time f()",
    "x?",
    "x.attr??",
    "?x",
    "x = 5 % 3",
    "x = 'what?'",
    "x = 1  # why?",
    "%%bash\necho hi\n",
    "%%bash\necho hi\n\n",
    "x = a != b",
]

INCOMPLETE = [
    ("for i in x:", "    "),
    ("for i in x:  # loop", "    "),
    ("for i in x:\n    pass", "    "),
    ("if x:\n  pass\nelse:", "    "),
    ("class A:\n    def f(self):", "        "),
    ("if x:\n    y = (1,", "    "),
    ("if True:\n\tpass", "\t"),
    ("try:\n    pass", "    "),
    ("match x:", "    "),
    ("@decorator", ""),
    ("@decorator\ndef f(): pass", ""),
    ("def f(", ""),
    ("a = (1,\n", ""),
    ("d = {'a': 1,", ""),
    ("x = 1 + \\", ""),
    ("'''abc", ""),
    ('s = """\n%d items\n', ""),
    ("'abc\\\n", ""),
    ("%%bash", ""),
    ("%%bash\necho hi", ""),
    ("for i in x:\n    !echo $i", "    "),
    ("for i in x:\n    %time f(i)", "    "),
]

INVALID = [
    "1+",
    "1+\n",
    "'abc",
    "x = )",
    "return 1",
    "def f(:",
    "for i in x:\n    pass\n  else",
]


@pytest.mark.parametrize("code", COMPLETE)
def test_complete(code: str) -> None:
    assert is_complete(code) == {"status": "complete"}


@pytest.mark.parametrize(("code", "indent"), INCOMPLETE)
def test_incomplete(code: str, indent: str) -> None:
    assert is_complete(code) == {"status": "incomplete", "indent": indent}


@pytest.mark.parametrize("code", INVALID)
def test_invalid(code: str) -> None:
    assert is_complete(code) == {"status": "invalid"}


def test_scan_tracks_strings_comments_and_brackets() -> None:
    state = scan("f(a, '#x', [1, \"b")
    assert [b for b, _ in state.brackets] == ["(", "["]
    assert state.string is not None and state.string.quote == '"'
    assert not state.in_comment
    assert scan("x = 1  # (").brackets == []
    assert scan("x = 1  # (").in_comment
    prefixed = scan("open(rb'C:\\x")
    assert prefixed.string is not None and prefixed.string.prefix == "rb"
    assert scan("s = '''\n(\n").string is not None


def test_neutralize_keeps_shape_and_leaves_strings_alone() -> None:
    code = 'for i in x:\n    !echo $i\ns = """\n%d\n"""\ny = !ls\nx?'
    result = neutralize(code)
    assert result.count("\n") == code.count("\n")
    assert result == 'for i in x:\n    pass\ns = """\n%d\n"""\ny = None\npass'


def _ask(kc: Any, code: str) -> dict[str, Any]:
    reply, _ = request(kc, "is_complete_request", {"code": code})
    content: dict[str, Any] = reply["content"]
    return content


def test_through_a_real_kernel(kernel_client: Any) -> None:
    assert _ask(kernel_client, "for i in range(3):") == {"status": "incomplete", "indent": "    "}
    assert _ask(kernel_client, "print('hi')") == {"status": "complete"}
    assert _ask(kernel_client, "1+") == {"status": "invalid"}
    assert _ask(kernel_client, "%%bash\necho hi") == {"status": "incomplete", "indent": ""}
    # automagic: ``cd DIR`` is a magic, so it completes a line and keeps a block open
    assert _ask(kernel_client, "cd /tmp") == {"status": "complete"}
    assert _ask(kernel_client, "for d in ['/tmp']:\n    cd $d") == {"status": "incomplete", "indent": "    "}
    assert _ask(kernel_client, "cd = 1 +") == {"status": "invalid"}


def test_automagic_lines_count_as_statements() -> None:
    magics = {"cd", "pwd"}.__contains__
    assert is_complete("cd ..", magics) == {"status": "complete"}
    assert is_complete("cd ..") == {"status": "invalid"}  # automagic off
    assert is_complete("if x:\n    cd ..", magics) == {"status": "incomplete", "indent": "    "}
    assert is_complete("if x:\n    cd ..\n", magics) == {"status": "complete"}
    assert is_complete("cd (1,", magics) == {"status": "incomplete", "indent": ""}  # Python's call


@settings(max_examples=300, deadline=None)
@given(code=st.text(alphabet="abx_:()[]{}'\"#%!?\\\n \tfor@é1+=", max_size=40))
def test_any_text_gives_a_verdict(code: str) -> None:
    reply = is_complete(code)
    assert reply["status"] in ("complete", "incomplete", "invalid")
    assert ("indent" in reply) == (reply["status"] == "incomplete")


def test_no_warning_for_code_python_would_warn_about(recwarn: pytest.WarningsRecorder) -> None:
    """An invalid escape warns when the cell runs, not while the kernel checks it (stderr noise)."""
    assert is_complete('if x:\n    s = "\\%"') == {"status": "incomplete", "indent": "    "}
    assert is_complete('s = "\\%"') == {"status": "complete"}
    assert [str(w.message) for w in recwarn] == []
