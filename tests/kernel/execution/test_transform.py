"""Input transformation on strings: magics, shell escapes and help become plain Python."""

from __future__ import annotations

import ast

import pytest

from kernel.execution.tracebacks import CellError
from kernel.execution.transform import bound_names, transform_cell

H = "__mycon_magic__"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("%time x = 1", f"{H}.line('time', 'x = 1')"),
        ("%pwd", f"{H}.line('pwd', '')"),
        ("  %cd /tmp", f"  {H}.line('cd', '/tmp')"),
        ("!ls -l", f"{H}.system('ls -l')"),
        ("!!ls", f"{H}.getoutput('ls')"),
        ("x = !ls -l", f"x = {H}.getoutput('ls -l')"),
        ("a, b = !echo", f"a, b = {H}.getoutput('echo')"),
        ("d['k'] = !ls", f"d['k'] = {H}.getoutput('ls')"),
        ("files = %sx ls", f"files = {H}.line('sx', 'ls')"),
        ("obj?", f"{H}.help('obj', 0)"),
        ("obj??", f"{H}.help('obj', 1)"),
        ("?obj", f"{H}.help('obj', 0)"),
        ("??obj", f"{H}.help('obj', 1)"),
        ("os.path.join?", f"{H}.help('os.path.join', 0)"),
        ("%time?", f"{H}.help('%time', 0)"),
        ("!echo (", f"{H}.system('echo (')"),
        ("!echo don't", f"{H}.system(\"echo don't\")"),
        ("!echo 'é ✓'", f"{H}.system(\"echo 'é ✓'\")"),
    ],
)
def test_single_lines(code: str, expected: str) -> None:
    assert transform_cell(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        "a % b",
        "a != b",
        "x = '%s' % 1",
        "print('what?')",
        "x = 1  # why?",
        "# %time not a magic\nx = 1",
        "s = '''\n%notmagic\n!not a command\nobj?\n'''",
        'f(1,\n  %2)',
        "x = [1,\n !2]",
        "a = b if c else d",
        "value = 10 % 3",
        "",
    ],
)
def test_plain_python_is_left_alone(code: str) -> None:
    assert transform_cell(code) == code


def test_magics_inside_blocks_keep_indentation_and_line_numbers() -> None:
    code = "for i in range(3):\n    %time i\n    !echo {i}\nprint('done')  # 50% ok?"
    out = transform_cell(code)
    assert out.splitlines() == [
        "for i in range(3):",
        f"    {H}.line('time', 'i')",
        f"    {H}.system('echo {{i}}')",
        "print('done')  # 50% ok?",
    ]
    ast.parse(out)


def test_backslash_continuation_of_a_shell_line_keeps_line_count() -> None:
    code = "!echo a \\\n  b\nz = 1"
    out = transform_cell(code)
    assert out.count("\n") == code.count("\n")
    assert out.startswith(f"{H}.system('echo a")
    assert out.endswith("z = 1")
    ast.parse(out)


def test_unbalanced_brackets_in_a_shell_line_do_not_swallow_the_cell() -> None:
    out = transform_cell("x = !echo (\ny = 2")
    assert out == f"x = {H}.getoutput('echo (')\ny = 2"


def test_cell_magic_takes_the_whole_cell() -> None:
    code = "%%bash -x\necho 'hi'\n%notaline\n"
    assert transform_cell(code) == f"{H}.cell('bash', '-x', {code.split(chr(10), 1)[1]!r})"


def test_cell_magic_after_leading_blank_lines() -> None:
    assert transform_cell("\n\n%%time\nx = 1") == f"{H}.cell('time', '', 'x = 1\\n')"


def test_cell_magic_help() -> None:
    assert transform_cell("%%writefile?") == f"{H}.help('%%writefile', 0)"


def test_cell_magic_below_the_first_line_is_a_clear_error() -> None:
    with pytest.raises(CellError, match="%%time is a cell magic: it must be on the cell's first line"):
        transform_cell("x = 1\n%%time\ny = 2")


def test_non_magic_percent_percent_is_left_for_python() -> None:
    assert transform_cell("%%  \nx") == "%%  \nx"


def test_triple_quoted_string_then_magic() -> None:
    code = 's = """a %\nb ? !"""\n%who'
    assert transform_cell(code) == 's = """a %\nb ? !"""\n' + f"{H}.line('who', '')"


def test_escaped_quotes_and_comments() -> None:
    code = "x = 'it\\'s # not a comment'\n!echo ok"
    assert transform_cell(code).endswith(f"{H}.system('echo ok')")


def test_help_on_unicode_names_and_in_blocks() -> None:
    assert transform_cell("données?") == f"{H}.help('données', 0)"
    out = transform_cell("if True:\n    len??")
    assert out == f"if True:\n    {H}.help('len', 1)"


def test_question_marks_that_are_not_help() -> None:
    for code in ("x = y?", "a ? b ?", "f(x) if y? else z"):
        assert transform_cell(code) == code


def test_a_bare_question_mark_is_the_introduction() -> None:
    assert transform_cell("?") == f"{H}.help('', 0)"


def test_magic_and_assignment_produce_valid_python() -> None:
    code = "import os\nx = %pwd\nfor f in !ls:\n    pass\nprint(x)"
    out = transform_cell(code)
    assert f"x = {H}.line('pwd', '')" in out
    assert "for f in !ls:" in out  # not a statement start: Python reports the syntax error


MAGICS = {"cd", "pwd", "time", "pip", "env", "reset"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("pwd", f"{H}.line('pwd', '')"),
        ("cd ..", f"{H}.line('cd', '..')"),
        ("cd .git", f"{H}.line('cd', '.git')"),
        ("cd -", f"{H}.line('cd', '-')"),
        ("reset -f", f"{H}.line('reset', '-f')"),
        ("pip install 'numpy<2'", f"{H}.line('pip', \"install 'numpy<2'\")"),
        ("time x = 1", f"{H}.line('time', 'x = 1')"),
        ("if True:\n    cd /tmp", f"if True:\n    {H}.line('cd', '/tmp')"),
        ("cd /tmp  # home", f"{H}.line('cd', '/tmp')  # home"),
        # Python's own lines stay Python's
        ("cd = 3", "cd = 3"),
        ("cd += 1", "cd += 1"),
        ("env: dict = {}", "env: dict = {}"),
        ("pwd()", "pwd()"),
        ("env (1)", "env (1)"),
        ("env[0]", "env[0]"),
        ("time.sleep(1)", "time.sleep(1)"),
        ("cd, pwd = 1, 2", "cd, pwd = 1, 2"),
        ("pwd-1", "pwd-1"),
        ("other thing", "other thing"),
        ("print(pwd)", "print(pwd)"),
        ("x = (1,\n  pwd)", "x = (1,\n  pwd)"),
        ("s = '''\ncd ..\n'''", "s = '''\ncd ..\n'''"),
        # a name the cell itself binds is not a magic
        ("import time\ntime", "import time\ntime"),
        ("from os import environ as env\nenv", "from os import environ as env\nenv"),
        ("for cd in range(3):\n    cd", "for cd in range(3):\n    cd"),
        ("def pwd(): pass\npwd", "def pwd(): pass\npwd"),
    ],
)
def test_automagic(code: str, expected: str) -> None:
    assert transform_cell(code, MAGICS.__contains__) == expected
    assert transform_cell(code) == code  # without the predicate (automagic off): untouched


def test_bound_names() -> None:
    code = (
        "import os.path as p, sys\nfrom a import (b, c as d)\nx = y = 1\ne, (f, g) = h\n"
        "k: int = 3\nm += 1\nfor i, j in z: pass\nwith w as fh: pass\nif (n := 1): pass\n"
        "def fn(q=1): pass\nenv HOME=1\npip install x==1\n"
    )
    assert bound_names(code) == {"p", "sys", "b", "d", "x", "e", "f", "g", "k", "m", "i", "j", "fh", "n", "fn"}
