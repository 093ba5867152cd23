"""Tracebacks for the user: cells named, kernel frames hidden, recursion folded, chains shown."""

from __future__ import annotations

import re

from kernel.execution.shell import Shell

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _error(code: str) -> str:
    published: list[tuple[str, dict]] = []
    shell = Shell(lambda kind, content: published.append((kind, content)))
    outcome = shell.run_cell(code)
    assert outcome.status == "error"
    errors = [content for kind, content in published if kind == "error"]
    assert len(errors) == 1
    return ANSI.sub("", "\n".join(errors[0]["traceback"]))


def test_cell_frames_are_named_and_kernel_frames_hidden() -> None:
    text = _error("x = 1\n\ndef f():\n    return 1 / 0\nf()")
    assert "Cell In[1], line 5" in text and "Cell In[1], line 4, in f()" in text
    assert "----> 4     return 1 / 0" in text
    assert "shell.py" not in text and "kernel/" not in text
    assert text.endswith("ZeroDivisionError: division by zero")


def test_recursion_is_folded() -> None:
    text = _error("def f(n):\n    return f(n + 1)\nf(0)")
    assert text.count("in f(n)") == 3
    assert re.search(r"\[\.\.\. skipping similar frames: f \(\d+ more times\)\]", text)
    assert len(text) < 2000


def test_chained_exceptions_come_first() -> None:
    text = _error("try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('bad') from e")
    assert text.index("KeyError") < text.index("direct cause") < text.index("ValueError: bad")
    text = _error("try:\n    1 / 0\nexcept ZeroDivisionError:\n    undefined_name")
    assert "During handling of the above exception" in text


def test_syntax_error_points_at_the_column() -> None:
    text = _error("a = (1,\n     2 +* 3)")
    assert "Cell In[1], line 2" in text
    assert "2 +* 3" in text and "^" in text
    assert text.rstrip().endswith("SyntaxError: invalid syntax")

