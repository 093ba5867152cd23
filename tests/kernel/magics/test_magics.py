"""Magics, shell escapes, help and exit: against a Shell instance, then through a real kernel."""

from __future__ import annotations

import builtins
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_harness import execute, stdout_of
from shell_session import ShellSession, shell_session

from kernel.magics.registry import magic_names, register_cell_magic, register_line_magic

Session = ShellSession


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    with shell_session(tmp_path, monkeypatch, str(tmp_path / "kernel-test.json")) as s:
        yield s


def test_time_returns_the_value_and_prints_timings(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("x = 20")
    session.ok("%time x + 22")
    assert session.result() == "42"
    out = capsys.readouterr().out
    assert "CPU times: user" in out and "Wall time:" in out


def test_cell_time_runs_the_whole_cell(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("%%time\ny = 1\ny + 1")
    assert session.result() == "2"
    assert session.shell.user_ns["y"] == 1
    assert "Wall time:" in capsys.readouterr().out


def test_cell_time_body_may_hold_magics(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%%time\n!echo inner\nz = %pwd\nz")
    assert capfd.readouterr().out.startswith("inner\r\n")  # ! runs on a terminal, as in IPython
    assert session.shell.user_ns["z"] == os.getcwd()


def test_time_with_top_level_await(session: Session) -> None:
    session.ok("import asyncio")
    session.ok("%time await asyncio.sleep(0, result='done')")
    assert session.result() == "'done'"


def test_time_error_shows_the_users_code(session: Session) -> None:
    outcome = session.run("%time 1 / 0")
    assert outcome.ename == "ZeroDivisionError"
    assert not any("magics.py" in line for line in outcome.traceback)


def test_timeit_with_loops_and_runs(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("%timeit -n 5 -r 3 sum(range(10))")
    out = capsys.readouterr().out
    assert "per loop (mean ± std. dev. of 3 runs, 5 loops each)" in out
    session.ok("r = %timeit -n 2 -r 2 -q -o pass")
    result = session.shell.user_ns["r"]
    assert result.loops == 2 and len(result.timings) == 2
    assert capsys.readouterr().out == ""


def test_timeit_cell_with_setup(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("%%timeit -n 3 -r 1 data = list(range(5))\nsorted(data)")
    assert "of 1 run, 3 loops each" in capsys.readouterr().out


def test_who_whos_and_reset(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("%who")
    assert "Interactive namespace is empty." in capsys.readouterr().out
    session.ok("alpha = 1\nbeta = 'b'\n_hidden = 3")
    session.ok("%who")
    assert capsys.readouterr().out.strip() == "alpha\tbeta"
    session.ok("%who str")
    assert capsys.readouterr().out.strip() == "beta"
    session.ok("%whos")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["Variable", "Type", "Data/Info"]
    assert table[2].split() == ["alpha", "int", "1"]
    session.ok("%reset -f")
    assert "alpha" not in session.shell.user_ns
    assert "In" in session.shell.user_ns


def test_reset_without_f_asks(session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("keep = 1")
    monkeypatch.setattr(builtins, "input", lambda prompt="": "n")
    session.ok("%reset")
    assert session.shell.user_ns["keep"] == 1
    assert "Nothing done." in capsys.readouterr().out


def test_pwd_cd_and_back(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub dir").mkdir()
    session.ok("%pwd")
    assert session.result() == repr(str(tmp_path))
    session.ok("%cd 'sub dir'")
    assert os.getcwd() == str(tmp_path / "sub dir")
    session.ok("%cd -")
    assert os.getcwd() == str(tmp_path)
    outcome = session.run("%cd /no/such/place")
    assert outcome.ename == "UsageError" and "no such directory" in outcome.evalue


def test_automagic_line_magics_without_percent(session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    session.ok("cd sub")
    assert os.getcwd() == str(tmp_path / "sub")
    session.ok("pwd")
    assert session.result() == repr(str(tmp_path / "sub"))
    session.ok("cd -")
    assert os.getcwd() == str(tmp_path)
    # a variable of the magic's name wins, and the line is Python again
    session.ok("pwd = 'mine'")
    session.ok("pwd")
    assert session.result() == "'mine'"
    session.ok("del pwd")
    # a name the same cell binds is not a magic
    session.ok("import time\ntime.__name__")
    assert session.result() == "'time'"
    assert session.run("time 6 * 7").ename == "SyntaxError"  # time is the module: no magic
    session.ok("del time")
    session.ok("time 6 * 7")
    assert session.result() == "42"
    capsys.readouterr()
    session.ok("automagic off")
    assert capsys.readouterr().out == "Automagic is OFF, % prefix IS needed for line magics.\n"
    assert session.run("pwd").ename == "NameError"
    session.ok("%automagic")
    assert capsys.readouterr().out.startswith("Automagic is ON")
    session.ok("%lsmagic")
    assert "Automagic is ON" in (session.result() or "")
    assert session.run("automagic maybe").evalue == "%automagic: expected on or off, not 'maybe'"


def test_env(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYCON_T", raising=False)
    session.ok("%env MYCON_T=1 2")
    assert os.environ["MYCON_T"] == "1 2"
    session.ok("%env MYCON_T")
    assert session.result() == "'1 2'"
    session.ok("%env")
    assert "MYCON_T" in (session.result() or "")
    assert session.run("%env NOT_SET_HERE_X").ename == "UsageError"


def test_run_a_file_as_main_with_arguments(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text("import sys\nargs = sys.argv[1:]\nis_main = __name__ == '__main__'\n")
    session.ok("%run prog.py one 'two words'")
    ns = session.shell.user_ns
    assert ns["args"] == ["one", "two words"] and ns["is_main"] is True
    assert session.run("%run missing.py").evalue == "File `missing.py` not found."


def test_run_error_traceback_names_the_file(session: Session, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("x = 1\nraise ValueError('boom')\n")
    outcome = session.run("%run bad.py")
    assert outcome.ename == "ValueError"
    assert any("bad.py" in line for line in outcome.traceback)


def test_load_and_edit_payloads(session: Session, tmp_path: Path) -> None:
    (tmp_path / "snippet.py").write_text("print('hi')\n")
    outcome = session.ok("%load snippet.py")
    assert outcome.payload == [
        {"source": "set_next_input", "text": "# %load snippet.py\nprint('hi')\n", "replace": True}
    ]
    outcome = session.ok("%edit snippet.py")
    assert outcome.payload == [
        {"source": "edit_magic", "filename": str(tmp_path / "snippet.py"), "line_number": 1}
    ]
    session.ok("def f():\n    return 1")
    outcome = session.ok("%edit f")
    payload = outcome.payload[0]
    assert payload["source"] == "edit_magic"
    assert Path(payload["filename"]).read_text().startswith("def f():")


def test_shell_escape_and_capture(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("word = 'héllo'")
    session.ok("!echo $word {1 + 1} $HOME_NOT_A_NAME")
    assert capfd.readouterr().out == "héllo 2\r\n"
    session.ok("lines = !printf 'a b\\nc\\n'")
    lines = session.shell.user_ns["lines"]
    assert list(lines) == ["a b", "c"] and lines.s == "a b c"
    session.ok("!exit 3")
    assert session.shell.user_ns["_exit_code"] == 3


def test_bash_sh_and_writefile(session: Session, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%%bash\necho one\necho two >&2")
    captured = capfd.readouterr()
    assert captured.out == "one\n" and captured.err == "two\n"
    session.ok("%%sh\necho three")
    assert capfd.readouterr().out == "three\n"
    outcome = session.run("%%bash\nexit 4")
    assert outcome.ename == "CalledProcessError" and "exit status 4" in outcome.evalue  # as IPython
    session.ok("%%writefile out.txt\nline ✓")
    assert (tmp_path / "out.txt").read_text() == "line ✓\n"
    session.ok("%%writefile -a out.txt\nmore")
    assert (tmp_path / "out.txt").read_text() == "line ✓\nmore\n"
    assert "Appending to out.txt" in capfd.readouterr().out


def test_pip_runs_this_python(session: Session, capfd: pytest.CaptureFixture[str]) -> None:
    session.ok("%pip --version")
    out = capfd.readouterr().out
    assert out.startswith("pip ") and "python" in out
    assert session.shell.user_ns["_exit_code"] == 0


def test_connect_info(session: Session, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    session.ok("%connect_info")
    out = capsys.readouterr().out
    data = json.loads(out[: out.index("\n}\n") + 2])
    assert data["key"] == "secret-key" and data["shell_port"] == 1234
    assert f"mycon --existing {tmp_path / 'kernel-test.json'}" in out
    assert "Not encrypted (TCP on loopback; messages signed): any Jupyter client can attach" in out
    assert f"jupyter console --existing {tmp_path / 'kernel-test.json'}" in out


def test_connect_info_leaves_the_curve_secret_key_out(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.info.curve_publickey, session.info.curve_secretkey = "P" * 40, "S" * 40
    session.ok("%connect_info")
    out = capsys.readouterr().out
    data = json.loads(out[: out.index("\n}\n") + 2])
    assert data["curve_publickey"] == "P" * 40 and "curve_secretkey" not in data
    assert "S" * 40 not in out and "curve_secretkey left out" in out
    assert "Encrypted (CurveZMQ)" in out and "jupyter console and qtconsole cannot" in out
    assert "jupyter console --existing" not in out


def test_unknown_magic_is_named(session: Session) -> None:
    outcome = session.run("%nosuchmagic 1")
    assert outcome.ename == "UsageError"
    assert "`%nosuchmagic` not found" in outcome.evalue
    outcome = session.run("%%nosuchcell\nx")
    assert "`%%nosuchcell` not found" in outcome.evalue
    outcome = session.run("%bash echo")
    assert "%%bash" in outcome.evalue


def test_user_magics(session: Session) -> None:
    @register_line_magic
    def shout(line: str) -> str:
        return line.upper()

    @register_cell_magic("count_lines")
    def _count(line: str, cell: str) -> int:
        return len(cell.splitlines()) + int(line or 0)

    session.ok("%shout hey ✓")
    assert session.result() == "'HEY ✓'"
    session.ok("%%count_lines 10\na\nb")
    assert session.result() == "12"
    assert "%shout" in magic_names() and "%%count_lines" in magic_names()


def test_magic_names_and_lsmagic(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    names = magic_names()
    for name in ("%time", "%%time", "%timeit", "%connect_info", "%history", "%%bash", "%%writefile"):
        assert name in names
    session.ok("%lsmagic")
    out = session.result() or ""  # a result, as in IPython
    assert "%connect_info" in out and "%%bash" in out
    outcome = session.ok("%quickref")
    assert "obj??" in outcome.payload[0]["data"]["text/plain"]  # a page, as in IPython


def test_help_payloads(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.ok("def documented(a, b=1):\n    'Adds things.'\n    return a")
    for code in ("documented?", "?documented", "documented??"):
        outcome = session.ok(code)
        assert len(outcome.payload) == 1
        page = outcome.payload[0]
        assert page["source"] == "page" and page["start"] == 0
        assert "Adds things." in page["data"]["text/plain"]
    assert "return a" in outcome.payload[0]["data"]["text/plain"]
    outcome = session.ok("%time?")
    assert "%time" in outcome.payload[0]["data"]["text/plain"]
    outcome = session.ok("%history?")
    text = outcome.payload[0]["data"]["text/plain"]
    assert text.startswith("%history\n\nPrint input history.")
    assert "\nOptions: -n line numbers" in text  # later lines dedented too
    outcome = session.ok("nothing_here?")
    assert outcome.payload == []
    assert "Object `nothing_here` not found." in capsys.readouterr().out


def test_history_magic(session: Session, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    session.ok("a = 1")
    session.ok("a + 1")
    session.ok("%pwd")
    capsys.readouterr()
    session.ok("%history")
    assert capsys.readouterr().out.splitlines() == ["a = 1", "a + 1", "%pwd", "%history"]
    session.ok("%history -n -o 2-3")
    assert capsys.readouterr().out.splitlines() == [
        "   2: a + 1", "2", "   3: %pwd", repr(str(tmp_path)),
    ]  # as IPython prints them: numbers in 4 columns, outputs as they were shown
    session.ok("%history -t -p 3")
    assert capsys.readouterr().out.splitlines() == [">>> __mycon_magic__.line('pwd', '')"]
    session.ok("%history -g a =")
    assert capsys.readouterr().out.splitlines() == ["   1: a = 1", "   7: %history -g a ="]
    session.ok("%history -l 2")
    assert capsys.readouterr().out.splitlines() == ["%history -t -p 3", "%history -g a ="]
    session.ok("%history -f saved.py 1")
    assert (tmp_path / "saved.py").read_text() == "a = 1\n"
    assert session.run("%history x-y").ename == "UsageError"


def test_exit_and_quit(session: Session) -> None:
    for code in ("exit", "quit", "exit()", "quit(keep_kernel=True)"):
        outcome = session.ok(code)
        keep = "keep_kernel" in code
        assert outcome.payload == [{"source": "ask_exit", "keepkernel": keep}]
        assert session.result() is None


# ----- through a real kernel ------------------------------------------------------------------


def test_kernel_time_and_shell_escape_stream_live(kernel_client: Any) -> None:
    reply, outputs = execute(kernel_client, "%time 6 * 7")
    assert reply["content"]["status"] == "ok"
    assert "Wall time:" in stdout_of(outputs)
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert results[0]["content"]["data"]["text/plain"] == "42"
    # the first line is published while the command still runs (it waits for a file to appear)
    marker = f"/tmp/mycon-live-{os.getpid()}"
    code = f"!echo first; while [ ! -e {marker} ]; do sleep 0.02; done; echo second; rm {marker}"
    msg_id = kernel_client.execute(code)
    while True:
        msg = kernel_client.get_iopub_msg(timeout=20)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            assert msg["content"]["text"] == "first\r\n"
            break
    Path(marker).touch()
    reply = kernel_client.get_shell_msg(timeout=20)
    assert reply["content"]["status"] == "ok"


def test_kernel_automagic_and_its_history(kernel_client: Any, tmp_path: Path) -> None:
    """``cd DIR`` and ``pwd`` typed without % in a real kernel; history keeps what was typed."""
    reply, outputs = execute(kernel_client, f"cd {tmp_path}")
    assert (reply["content"]["status"], stdout_of(outputs)) == ("ok", f"{tmp_path}\n")
    reply, outputs = execute(kernel_client, "pwd")
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert results[0]["content"]["data"]["text/plain"] == repr(str(tmp_path))
    count = reply["content"]["execution_count"]
    kernel_client.history(hist_access_type="range", session=0, start=count, stop=count + 1, raw=True)
    history = kernel_client.get_shell_msg(timeout=20)["content"]["history"]
    assert [entry[2] for entry in history] == ["pwd"]


def test_kernel_connect_info_and_payloads(kernel_client: Any) -> None:
    reply, outputs = execute(kernel_client, "%connect_info")
    text = stdout_of(outputs)
    assert '"shell_port"' in text
    assert f"mycon --existing {kernel_client.connection_file}" in text
    reply, _ = execute(kernel_client, "len?")
    assert reply["content"]["payload"][0]["source"] == "page"
    reply, _ = execute(kernel_client, "%nosuch")
    assert reply["content"]["status"] == "error"
    assert "`%nosuch` not found" in reply["content"]["evalue"]
    reply, outputs = execute(kernel_client, "exit")
    assert reply["content"]["payload"] == [{"source": "ask_exit", "keepkernel": False}]
    assert not [m for m in outputs if m["msg_type"] == "execute_result"]


def test_kernel_interrupts_a_shell_command(kernel_client: Any) -> None:
    msg_id = kernel_client.execute("!echo started; sleep 30")
    while True:  # the command is running once its first line arrives
        msg = kernel_client.get_iopub_msg(timeout=20)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            break
    kernel_client.control_channel.send(kernel_client.session.msg("interrupt_request", {}))
    assert kernel_client.get_control_msg(timeout=20)["content"]["status"] == "ok"
    reply = kernel_client.get_shell_msg(timeout=20)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    reply, outputs = execute(kernel_client, "lines = !echo a; echo b >&2\nlines")
    assert reply["content"]["status"] == "ok"
    assert stdout_of(outputs, "stderr") == "b\n"
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert results[0]["content"]["data"]["text/plain"] == "['a']"


def test_error_in_a_magics_code_shows_that_code_not_the_rewritten_line(kernel_client: Any) -> None:
    def traceback_of(code: str) -> str:
        reply, _ = execute(kernel_client, code)
        return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply["content"]["traceback"]))

    text = traceback_of("%%time\nzzx = 1\n1/0")
    assert "__mycon_magic__" not in text and "----> 2 1/0" in text and "----> 1 %%time" in text
    text = traceback_of("def zzg():\n    return 1/0\nzzr = %time zzg()")
    assert "__mycon_magic__" not in text and "in zzg()" in text
    reply, _ = execute(kernel_client, "%nosuchmagic")  # the magic itself fails: its line is all there is
    assert reply["content"]["ename"] == "UsageError"
