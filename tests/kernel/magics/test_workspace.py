"""The workspace magics (%store, %rerun, %tb, %pinfo..., %xdel, directories, aliases, %%script):
against a Shell with the services installed, then through real kernel processes."""

from __future__ import annotations

import builtins
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_harness import execute, running_kernel, stdout_of
from shell_session import ShellSession, shell_session

from kernel.magics.registry import magic_help
from kernel.magics.workspace import _ALIASES, alias_command

ANSI = re.compile(r"\x1b\[[0-9;]*m")


Session = ShellSession


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    aliases = dict(_ALIASES)
    with shell_session(tmp_path, monkeypatch) as s:
        try:
            yield s
        finally:
            for name in set(_ALIASES) - set(aliases):  # aliases are the process's: drop the tests'
                s.run(f"%unalias {name}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- %store -----------------------------------------------------------------------------------


def test_store_saves_lists_restores_and_deletes(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("x = [1, 'two']\ny = {'k': 3.5}")
    session.ok("%store x y")
    assert capsys.readouterr().out == "Stored 'x' (list)\nStored 'y' (dict)\n"
    stored = tmp_path / "data" / "stored"
    assert sorted(p.name for p in stored.iterdir()) == ["x", "y"]
    assert _mode(stored) == 0o700 and _mode(stored / "x") == 0o600
    session.ok("%store")
    assert capsys.readouterr().out.splitlines()[1:] == ["x -> [1, 'two']", "y -> {'k': 3.5}"]
    session.ok("del x, y")
    session.ok("%store -r y")
    ns = session.shell.user_ns
    assert ns["y"] == {"k": 3.5} and "x" not in ns
    session.ok("%store -r")
    assert ns["x"] == [1, "two"]
    session.ok("%store -d x")
    assert sorted(p.name for p in stored.iterdir()) == ["y"]
    session.ok("%store -z")
    assert list(stored.iterdir()) == []
    capsys.readouterr()
    session.ok("%store")
    assert capsys.readouterr().out == "No stored variables.\n"


def test_store_of_an_unpicklable_value_loses_nothing(session: Session) -> None:
    session.ok("x = 1")
    session.ok("%store x")
    session.ok("x = (i for i in range(3))")
    message = session.usage_error("%store x")
    assert "cannot store 'x' (generator)" in message and "nothing was stored" in message
    assert session.shell.user_ns["x"] is not None and next(session.shell.user_ns["x"]) == 0
    session.ok("%store -r x")
    assert session.shell.user_ns["x"] == 1


def test_store_bad_input_is_a_usage_error(session: Session) -> None:
    assert "no variable named 'missing'" in session.usage_error("%store missing")
    assert "not a variable name" in session.usage_error("%store 1x")
    assert "nothing stored under 'gone'" in session.usage_error("%store -r gone")
    assert "nothing stored under 'gone'" in session.usage_error("%store -d gone")
    assert "takes no names" in session.usage_error("%store -z a")
    assert "one of -r, -d and -z" in session.usage_error("%store -r -d a")
    assert "unknown option -q" in session.usage_error("%store -q")


def test_store_carries_variables_to_a_new_kernel_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "MYCON_DATA_DIR": str(data)}
    with running_kernel("mycon", env=env) as (_, kc):
        reply, _ = execute(kc, "kept = {'a': [1, 2], 'b': 'text'}")
        assert reply["content"]["status"] == "ok"
        reply, outputs = execute(kc, "%store kept")
        assert reply["content"]["status"] == "ok"
        assert stdout_of(outputs) == "Stored 'kept' (dict)\n"
    assert _mode(data / "stored" / "kept") == 0o600
    with running_kernel("mycon", env=env) as (_, kc):
        reply, _ = execute(kc, "kept")
        assert reply["content"]["ename"] == "NameError"  # a new process: nothing carried over
        reply, outputs = execute(kc, "%store -r\nkept['a'] + [kept['b']]")
        assert reply["content"]["status"] == "ok"
        results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        assert results == ["[1, 2, 'text']"]


# ----- %rerun, %recall, %tb ---------------------------------------------------------------------


def test_rerun_runs_earlier_input_again(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("a = 2")  # line 1
    session.ok("a = a * 3")  # line 2
    session.ok("a + 1")  # line 3
    session.ok("%rerun")
    assert session.result() == "7"
    assert capsys.readouterr().out == "=== Executing: ===\na + 1\n=== Output: ===\n"
    session.ok("%rerun 2")
    assert session.shell.user_ns["a"] == 18
    session.ok("%rerun 2-3")
    assert session.shell.user_ns["a"] == 54 and session.result() == "55"
    capsys.readouterr()
    session.ok("%rerun -l 2")  # the %rerun lines are left out
    assert capsys.readouterr().out == "=== Executing: ===\na = a * 3\na + 1\n=== Output: ===\n"
    assert session.shell.user_ns["a"] == 162
    assert "needs a number" in session.usage_error("%rerun -l x")
    assert "not a history range" in session.usage_error("%rerun x-y")
    assert "cannot run a %rerun line" in session.usage_error("%rerun 4")  # line 4 is "%rerun"


def test_rerun_of_a_line_with_a_magic(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("here = %pwd")
    session.ok("del here")
    session.ok("%rerun 1")
    assert session.shell.user_ns["here"] == str(tmp_path)


def test_recall_puts_input_in_the_next_prompt(session: Session) -> None:
    assert "no result to recall" in session.usage_error("%recall")
    session.ok("first = 10")
    session.ok("first * 2")
    outcome = session.ok("%recall 2")  # line 1 is the failed %recall
    assert outcome.payload == [{"source": "set_next_input", "text": "first = 10", "replace": False}]
    outcome = session.ok("%recall")
    assert outcome.payload[0]["text"] == "20"
    outcome = session.ok("%recall first *")
    assert outcome.payload[0]["text"] == "first * 2"
    assert "no input in history matches" in session.usage_error("%recall nothing_like_this")


def test_tb_shows_the_last_traceback_again(session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delattr(sys, "last_value", raising=False)
    monkeypatch.delattr(sys, "last_type", raising=False)
    monkeypatch.delattr(sys, "last_traceback", raising=False)
    session.ok("%tb")
    assert capsys.readouterr().out == "No traceback available to show.\n"
    session.ok("def inner():\n    return 1 / 0")
    failed = session.run("inner()")
    assert failed.ename == "ZeroDivisionError"
    session.ok("%tb")
    out = capsys.readouterr().out
    assert out == "\n".join(failed.traceback) + "\n"
    assert "in inner()" in ANSI.sub("", out)
    failed = session.run("x = (1 +")
    assert failed.ename == "SyntaxError"
    session.ok("%tb")
    assert capsys.readouterr().out == "\n".join(failed.traceback) + "\n"


# ----- %pinfo and its parts ---------------------------------------------------------------------


def test_pinfo_is_the_question_mark(session: Session) -> None:
    session.ok("def f(a, b=2):\n    'Does f things.'\n    return a")
    assert session.page("%pinfo f") == session.page("f?")
    assert session.page("%pinfo2 f") == session.page("f??")
    assert "return a" in session.page("%pinfo2 f")
    assert "needs an object" in session.usage_error("%pinfo")


def test_pdoc_pdef_psource(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("def f(a, b=2):\n    'Does f things.'\n    return a")
    session.ok("class K:\n    'A K.'\n    def __init__(self, n):\n        'Make one.'")
    assert session.page("%pdoc f") == "Does f things."
    assert session.page("%pdoc K") == "Class docstring:\nA K.\n\nInit docstring:\nMake one."
    session.ok("%pdef f")
    assert capsys.readouterr().out == "f(a, b=2)\n"
    session.ok("%pdef K")
    assert capsys.readouterr().out == "K(n)\n"
    assert session.page("%psource f") == "def f(a, b=2):\n    'Does f things.'\n    return a"
    session.ok("n = 3")
    session.ok("%pdef n")
    session.ok("%pdoc nothing_here")
    session.ok("%psource len")
    assert capsys.readouterr().out.splitlines() == [
        "Object `n` is not callable.", "Object `nothing_here` not found.", "No source found for len",
    ]


def test_pfile_shows_the_whole_file(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    source = "'''A module.'''\n\nVALUE = 1\n\n\ndef helper():\n    return VALUE\n"
    (tmp_path / "wm_pfile_mod.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wm_pfile_mod", raising=False)
    session.ok("import wm_pfile_mod")
    assert session.page("%pfile wm_pfile_mod.helper") == source.rstrip("\n")
    assert session.page("%pfile wm_pfile_mod") == source.rstrip("\n")
    assert session.page("%pfile wm_pfile_mod.py") == source.rstrip("\n")  # a file name
    session.ok("%pfile len")
    assert capsys.readouterr().out == "No file found for len\n"
    sys.modules.pop("wm_pfile_mod", None)


# ----- %xdel, %reset_selective ------------------------------------------------------------------


def test_xdel_drops_the_kernels_references(session: Session) -> None:
    session.ok("big = [1, 2, 3]")
    session.ok("big")
    session.ok("other = 'o'")
    session.ok("other")
    ns = session.shell.user_ns
    assert ns["__"] is ns["big"] and ns["Out"][2] is ns["big"]
    session.ok("%xdel big")
    assert "big" not in ns and "_2" not in ns and 2 not in ns["Out"]
    assert ns["__"] == "" and ns["_"] == "o" and ns["Out"][4] == "o"
    assert "is not defined" in session.usage_error("%xdel big")
    assert "belongs to the kernel" in session.usage_error("%xdel Out")
    assert "one variable name" in session.usage_error("%xdel a b")


def test_reset_selective(session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("tmp_a = 1\ntmp_b = 2\nkeep_tmp = 3\n_tmp_private = 4")
    session.ok(r"%reset_selective -f ^tmp_\w")
    ns = session.shell.user_ns
    assert "tmp_a" not in ns and "tmp_b" not in ns
    assert ns["keep_tmp"] == 3 and ns["_tmp_private"] == 4
    answers = iter(["n", "y"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    session.ok("%reset_selective keep")
    assert ns["keep_tmp"] == 3 and "Nothing done." in capsys.readouterr().out
    session.ok("%reset_selective keep")
    assert "keep_tmp" not in ns
    assert "not a regular expression" in session.usage_error("%reset_selective -f (")
    assert "needs a regular expression" in session.usage_error("%reset_selective -f")


# ----- directories ------------------------------------------------------------------------------


def test_pushd_popd_dirs_dhist(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "two words").mkdir()
    session.ok("%pushd one")
    assert os.getcwd() == str(tmp_path / "one")
    session.ok("%pushd 'two words'")
    assert os.getcwd() == str(tmp_path / "one" / "two words")
    session.ok("%dirs")
    assert session.shell.user_ns["_"] == [str(tmp_path / "one"), str(tmp_path)]
    capsys.readouterr()
    session.ok("%popd")
    assert os.getcwd() == str(tmp_path / "one")
    assert capsys.readouterr().out.startswith("popd -> ")
    session.ok("%popd")
    assert os.getcwd() == str(tmp_path)
    assert "stack is empty" in session.usage_error("%popd")
    assert "no such directory" in session.usage_error("%pushd nowhere")
    session.ok("%cd -q one")
    capsys.readouterr()
    session.ok("%dhist")
    visited = [tmp_path, tmp_path / "one", tmp_path / "one" / "two words", tmp_path / "one", tmp_path, tmp_path / "one"]
    assert capsys.readouterr().out.splitlines() == ["Directory history:"] + [f"{i}: {p}" for i, p in enumerate(visited)]
    session.ok("%dhist 2")
    assert capsys.readouterr().out.splitlines() == ["Directory history:", f"4: {tmp_path}", f"5: {tmp_path / 'one'}"]


def test_bookmarks_persist_and_pushd_follows_them(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    session.ok("%bookmark work deep/er")
    session.ok("%bookmark start")
    path = tmp_path / "data" / "bookmarks.json"
    assert _mode(path) == 0o600
    session.ok("%bookmark -l")
    assert capsys.readouterr().out.splitlines() == [
        "Current bookmarks:", f"start -> {tmp_path}", f"work  -> {tmp_path / 'deep' / 'er'}",
    ]
    session.ok("%pushd work")
    assert os.getcwd() == str(tmp_path / "deep" / "er")
    session.ok("%bookmark -d work")
    assert "work" not in path.read_text()
    assert "no bookmark named 'work'" in session.usage_error("%bookmark -d work")
    assert "usage: %bookmark" in session.usage_error("%bookmark")


# ----- aliases ----------------------------------------------------------------------------------


def test_alias_command_placeholders() -> None:
    assert alias_command("a", "echo", "x y") == "echo x y"
    assert alias_command("a", "echo [%s] [%s]", "x y z w") == "echo [x] [y] z w"
    assert alias_command("a", "echo <%l> 100%%", "x  y") == "echo <x  y> 100%"
    with pytest.raises(Exception, match="needs 2 arguments, 1 given"):
        alias_command("a", "echo %s %s", "x")


def test_alias_unalias_and_listing(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%alias pair echo [%s] [%s]")
    session.ok("word = 'héllo'")
    session.ok("%pair one $word three")
    assert capfd.readouterr().out == "[one] [héllo] three\n"
    session.ok("%alias whole echo '<%l>'")
    session.ok("%whole a {1 + 1}")
    assert capfd.readouterr().out == "<a 2>\n"
    assert "needs 2 arguments, 1 given" in session.usage_error("%pair one")
    session.ok("%alias")
    listing = capfd.readouterr().out
    assert re.search(r"^pair +echo \[%s\] \[%s\]$", listing, re.MULTILINE)
    assert re.search(r"^ll +ls -F -l$", listing, re.MULTILINE)
    assert "%pair" in (magic_help("%pair") or "")
    session.ok("%unalias pair")
    assert "`%pair` not found" in session.usage_error("%pair a b")
    assert "is not an alias" in session.usage_error("%unalias pair")
    assert "is a magic" in session.usage_error("%alias cd echo")
    assert "not both" in session.usage_error("%alias both echo %s %l")
    assert "usage: %alias" in session.usage_error("%alias lonely")


def test_default_aliases_run_shell_commands(session: Session, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "note.txt").write_text("note body\n")
    (box / "run.sh").write_text("echo\n")
    (box / "run.sh").chmod(0o755)
    (box / "link").symlink_to("note.txt")
    session.ok("%ls box")
    assert capfd.readouterr().out.split() == ["link@", "note.txt", "run.sh*", "sub/"]
    session.ok("%cat box/note.txt")
    assert capfd.readouterr().out == "note body\n"

    def last_words(magic: str) -> list[str]:
        session.ok(f"%{magic} box")
        return [line.split()[-1] for line in capfd.readouterr().out.splitlines()]

    assert last_words("ll")[1:] == ["note.txt", "note.txt", "run.sh*", "sub/"]  # total; link -> note.txt
    assert last_words("ldir") == ["sub/"]
    assert last_words("lf") == ["note.txt", "run.sh*"]
    assert last_words("lx") == ["run.sh*"]
    assert last_words("lk") == ["note.txt"]  # link -> note.txt
    session.ok("%ls no-such-file")
    assert session.shell.user_ns["_exit_code"] != 0


# ----- running the cell with another program ----------------------------------------------------


def test_script_and_python_cells(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%%script sh\necho from sh")
    assert capfd.readouterr().out == "from sh\n"
    session.ok("%%python\nimport sys\nprint(sys.executable)")
    assert capfd.readouterr().out == sys.executable + "\n"
    session.ok("%%python3\nprint(6 * 7)")
    assert capfd.readouterr().out == "42\n"
    outcome = session.run("%%python\nraise SystemExit(3)")
    assert outcome.ename == "CalledProcessError" and "exit status 3" in outcome.evalue
    session.ok("%%script no-such-program-x\nx")
    assert capfd.readouterr().out == "Couldn't find program: 'no-such-program-x'\n"
    assert "needs a program" in session.usage_error("%%script\nx")
    assert "needs a variable name" in session.usage_error("%%script bash --out\nx")


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
def test_perl_cell(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok('%%perl\nprint "perl ", 2 + 3, "\\n";')
    assert capfd.readouterr().out == "perl 5\n"


def test_ruby_cell_or_its_absence(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    if shutil.which("ruby") is None:
        session.ok("%%ruby\nputs 1")
        assert capfd.readouterr().out == "Couldn't find program: 'ruby'\n"
    else:
        session.ok("%%ruby\nputs 1 + 1")
        assert capfd.readouterr().out == "2\n"


def test_file_cell_is_writefile(session: Session, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%%file out.txt\nfirst")
    session.ok("%%file -a out.txt\nsecond")
    assert (tmp_path / "out.txt").read_text() == "first\nsecond\n"
    assert capfd.readouterr().out == "Writing out.txt\nAppending to out.txt\n"


def test_every_new_magic_has_help(session: Session) -> None:
    line = ("store", "rerun", "recall", "tb", "pinfo", "pinfo2", "pdoc", "pdef", "psource", "pfile",
            "xdel", "reset_selective", "pushd", "popd", "dirs", "dhist", "bookmark", "alias",
            "unalias", "ls", "ll", "lf", "lk", "ldir", "lx", "cat", "rm")
    cell = ("script", "python", "python3", "perl", "ruby", "file")
    for name in [f"%{n}" for n in line] + [f"%%{n}" for n in cell]:
        text = session.page(f"{name}?")
        first = text.split("\n\n", 1)[1].splitlines()[0]
        assert text.startswith(name + "\n\n") and first and first != "(no description)", name


# ----- through a real kernel --------------------------------------------------------------------


def test_kernel_runs_the_new_magics(kernel_client: Any, tmp_path: Path) -> None:
    (tmp_path / "listed.txt").write_text("")
    reply, outputs = execute(kernel_client, f"%ls {tmp_path}")
    assert reply["content"]["status"] == "ok" and stdout_of(outputs) == "listed.txt\n"
    reply, _ = execute(kernel_client, "def wm_g(x):\n    'Gives x.'\n    return x")
    reply, _ = execute(kernel_client, "%pinfo wm_g")
    page = reply["content"]["payload"][0]
    assert page["source"] == "page" and "Gives x." in page["data"]["text/plain"]
    reply, _ = execute(kernel_client, "wm_g(20) + 1")
    reply, outputs = execute(kernel_client, "%rerun")
    results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
    assert results == ["21"] and stdout_of(outputs).startswith("=== Executing: ===\nwm_g(20) + 1\n")
    reply, _ = execute(kernel_client, "%recall")
    assert reply["content"]["payload"] == [{"source": "set_next_input", "text": "21", "replace": False}]
    reply, _ = execute(kernel_client, "wm_g(1) / 0")
    reply, outputs = execute(kernel_client, "%tb")
    assert "ZeroDivisionError" in ANSI.sub("", stdout_of(outputs))


def test_kernel_start_does_not_import_the_module() -> None:
    code = "import sys, kernel.app; print('kernel.magics.workspace' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout == "False\n"
