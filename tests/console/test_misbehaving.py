"""The real ``mycon`` in a pseudo-terminal facing a misbehaving kernel (issue 8, console side).

Each test starts ``tests/console/bad_kernel.py`` in one mode through a kernelspec written into a
temporary JUPYTER_PATH, types as a person would, and checks: a clear message in words, no
traceback of ours, the prompt still usable (typing, Ctrl-C, Ctrl-D), nothing typed lost.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from term import CTRL_C, CTRL_D, ENTER, MYCON, Term, plain  # noqa: E402

BAD_KERNEL = str(Path(__file__).with_name("bad_kernel.py"))
MODES = (
    "good", "garbage", "wrong-parent", "disorder", "huge-stream", "huge-bundle", "mute", "deaf", "slow-is-complete", "no-iopub", "no-hb",
    "wrong-types", "stdin",
)


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A JUPYTER_PATH holding one kernelspec ``bad-<mode>`` per mode, and a private runtime dir."""
    root = tmp_path_factory.mktemp("jupyter")
    for mode in MODES:
        spec = root / "kernels" / f"bad-{mode}"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, BAD_KERNEL, "-f", "{connection_file}", mode],
            "display_name": f"bad kernel ({mode})",
            "language": "python",
            "interrupt_mode": "message",
        }))
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    return {
        "JUPYTER_PATH": str(root),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "HOME": str(root),  # the console's own history file and config stay in the sandbox
    }


@pytest.fixture
def bad(jupyter_env: dict[str, str]) -> Iterator[list[Term]]:
    """Started terminals, closed after the test whatever happened."""
    terms: list[Term] = []
    yield terms
    for t in terms:
        t.close()


def start(terms: list[Term], env: dict[str, str], mode: str, *args: str) -> Term:
    """mycon on the bad kernel in ``mode``, at its first prompt with the banner shown."""
    t = Term("--kernel", f"bad-{mode}", *args, env=env)
    terms.append(t)
    return t


def ready(t: Term, mode: str) -> None:
    t.expect(f"bad kernel, mode {mode}")
    t.prompt()


def no_traceback(t: Term) -> None:
    screen = plain(t.raw)
    assert "Traceback" not in screen, screen[-3000:]


def leave(t: Term) -> None:
    """Ctrl-D, confirm, and a clean exit."""
    t.send(CTRL_D)
    t.expect("exit")
    t.send("y" + ENTER)
    assert t.wait_exit() == 0
    no_traceback(t)


def swallow(t: Term, end: str, timeout: float = 50.0) -> None:
    """Read a flood of output up to ``end``, keeping only a short tail (linear in its size)."""
    deadline = time.monotonic() + timeout
    tail = t.raw[-8192:] if end not in plain(t.raw)[t.pos :] else t.raw
    while end not in plain(tail):
        left = deadline - time.monotonic()
        assert left > 0, f"{end!r} did not appear within {timeout:g} s; last output:\n{plain(tail)[-2000:]}"
        try:
            tail = (tail + t.child.read_nonblocking(1 << 20, timeout=left))[-8192:]
        except pexpect.TIMEOUT:
            continue
    screen = plain(tail)
    t.raw, t.pos = screen[screen.index(end) + len(end) :], 0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_good_kernel_baseline(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "good")
    ready(t, "good")
    t.run("one")
    t.expect("ran one")
    assert t.prompt() == 2
    leave(t)


def test_garbage_frames_are_dropped_and_the_real_answer_shown(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "garbage")
    ready(t, "garbage")
    t.run("first")
    t.expect("ignored an unreadable message from the kernel, 1 so far")  # said once, not per message
    t.expect("ran first")
    assert t.prompt() == 2
    t.run("second")
    t.expect("ran second")
    assert t.prompt() == 3
    no_traceback(t)
    screen = plain(t.raw)
    assert "99" not in screen.split("ran first", 1)[1]  # the forged execution_count never shows
    assert screen.count("ignored an unreadable message") == 1, screen[-3000:]
    leave(t)


def test_wrong_parent_never_ends_the_cell_and_ctrl_c_recovers(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "wrong-parent")
    ready(t, "wrong-parent")
    t.run("lost")
    t.expect("WRONG PARENT")  # shown as late output of ours, but it does not end the cell
    t.send(CTRL_C)
    t.expect("KeyboardInterrupt")
    t.prompt()
    t.run("again")
    t.expect("WRONG PARENT")
    t.send(CTRL_C)
    t.expect("KeyboardInterrupt")
    t.prompt()
    no_traceback(t)
    leave(t)


def test_wrong_types_in_every_field(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "wrong-types")
    ready(t, "wrong-types")
    t.run("odd")
    t.expect("ran odd")
    t.prompt()
    t.run("odd")
    t.expect("ran odd")
    t.prompt()
    no_traceback(t)
    leave(t)


def test_input_requests_two_at_once_and_one_too_late(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "stdin")
    ready(t, "stdin")
    t.run("ask")
    t.expect("5")
    typed_from = len(t.raw)
    t.run("one")  # password given as "no", not a bool: hidden, the safe reading
    t.expect("second:")  # the second prompt only after the first was answered
    shown = plain(t.raw[typed_from:])
    assert "one" not in shown and "*" not in shown
    t.run("two")
    t.expect("got ['one', 'two']")
    # Then it asks again after the cell ended: ignored, so the next line typed is a cell.
    t.expect("the kernel asked for input while no cell of this console runs; ignored")
    t.prompt()
    t.run("again")
    t.expect("5")
    t.run("three")
    t.expect("second:")
    t.run("four")
    t.expect("got ['three', 'four']")
    t.prompt()
    no_traceback(t)
    leave(t)


def test_out_of_order_messages(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "disorder")
    ready(t, "disorder")
    t.run("x")
    t.expect("ran x")
    t.expect("LATE RESULT")
    t.prompt()
    t.run("y")
    t.expect("ran y")
    t.prompt()
    no_traceback(t)
    leave(t)


@pytest.mark.parametrize(("mode", "end"), [("huge-stream", "output cut"), ("huge-bundle", "BUNDLE END")])
def test_enormous_messages(bad: list[Term], jupyter_env: dict[str, str], mode: str, end: str) -> None:
    t = start(bad, jupyter_env, mode)
    ready(t, mode)
    t.run("big")
    t.send("typed during")  # type-ahead while the output pours in: kept for the next prompt
    swallow(t, end)
    t.prompt()
    t.expect("typed during")
    t.send(CTRL_C)  # and the prompt still answers keys
    t.prompt()
    no_traceback(t)
    peak = rss_mb(t.child.pid)
    assert peak < 400, f"mycon peaked at {peak:.0f} MB for {mode}"
    leave(t)


def test_mute_kernel(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    """No answer to execute, is_complete, complete, inspect or interrupt: the prompt comes back."""
    t = start(bad, jupyter_env, "mute")
    ready(t, "mute")
    t.send("abc\t")  # completion unanswered: the prompt keeps working
    t.run("def")  # is_complete unanswered: Enter still runs the line
    t.expect("started abcdef")
    t.send(CTRL_C)  # interrupt_request unanswered: said in words
    t.expect("could not interrupt the kernel: the kernel did not answer interrupt_request within 5 s")
    t.send(CTRL_C)  # and a second Ctrl-C stops waiting
    t.expect("stopped waiting for this cell")
    n = t.prompt()
    t.run("x = 1")
    t.expect("started x = 1")
    t.send(CTRL_C)
    t.expect("could not interrupt")
    t.send(CTRL_C)
    t.expect("stopped waiting for this cell")
    assert t.prompt() == n  # the kernel never said a cell ran
    no_traceback(t)
    leave(t)


def test_kernel_that_never_ends_a_cell_nor_heeds_an_interrupt(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    """As bash_kernel with ``for i in 1 2 3; do``: no is_complete answer, a cell that never
    ends, an interrupt answered but with no effect. A second Ctrl-C gives the prompt back,
    says the kernel is still busy and how to restart it; keys typed meanwhile are kept."""
    t = start(bad, jupyter_env, "deaf")
    ready(t, "deaf")
    t.run("for i in 1 2 3; do")  # is_complete unanswered: the line runs after the bound
    t.expect("started for i in 1 2 3; do")
    t.send(CTRL_C)  # answered, no effect
    t.send("kept = 1")  # typed while stuck, after the first Ctrl-C
    t.send(CTRL_C)
    t.expect("stopped waiting for this cell", timeout=10)
    t.expect("still busy")
    t.expect("%mycon restart")
    t.expect(re.compile(r"In \[\d+\]: kept = 1"))
    no_traceback(t)
    t.send("\x15")  # Ctrl-U: clear the line, then leave
    t.send(CTRL_D)
    t.expect("exit")
    t.send("y" + ENTER)  # the kernel ignores the shutdown_request
    t.expect("waiting for the kernel to shut down; Ctrl-C twice stops waiting")
    t.send(CTRL_C)
    t.expect("the kernel is shutting down; Ctrl-C again stops waiting for it")
    t.send(CTRL_C)
    assert t.wait_exit() == 0
    no_traceback(t)
    runtime = jupyter_env["JUPYTER_RUNTIME_DIR"]
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and runtime in _cmdline(pid)]


def test_second_ctrl_c_stops_waiting_for_a_slow_restart(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    """The deaf kernel ignores the shutdown of a restart (jupyter_client kills it after 5 s):
    a second Ctrl-C gives the prompt back meanwhile; a cell typed then waits for the restart."""
    t = start(bad, jupyter_env, "deaf")
    ready(t, "deaf")
    t.run("%mycon restart")
    t.expect("Restart the kernel?")
    t.send("y" + ENTER)
    t.expect("(restarting the kernel)")
    t.send(CTRL_C)
    t.send(CTRL_C)
    t.expect("stopped waiting for the restart; it goes on")
    t.prompt()
    t.run("after")
    t.expect("(kernel restarted)")
    t.expect("started after")
    no_traceback(t)
    _leave_a_deaf_kernel(t, jupyter_env)


def _leave_a_deaf_kernel(t: Term, jupyter_env: dict[str, str]) -> None:
    """Leave a console whose deaf kernel ignores the shutdown: two Ctrl-Cs kill it, and no
    kernel process of this test is left behind."""
    t.send(CTRL_C)  # the cell it runs is answered, never ended: stop waiting for it
    t.send(CTRL_C)
    t.prompt()
    t.send(CTRL_D)
    t.expect("exit")
    t.send("y" + ENTER)
    t.expect("waiting for the kernel to shut down")
    t.send(CTRL_C)
    t.send(CTRL_C)
    assert t.wait_exit() == 0
    runtime = jupyter_env["JUPYTER_RUNTIME_DIR"]
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and runtime in _cmdline(pid)]


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def test_kernel_that_never_publishes(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    t = start(bad, jupyter_env, "no-iopub", "--kernel-timeout", "3")
    t.expect("did not answer within 3 s")
    assert t.wait_exit() == 1
    no_traceback(t)


def test_dead_heartbeat_is_said_and_cells_still_run(bad: list[Term], jupyter_env: dict[str, str]) -> None:
    """An owned kernel whose heartbeat stops: a message in words; a cell it answers still runs."""
    t = start(bad, jupyter_env, "no-hb")
    ready(t, "no-hb")
    t.expect("the kernel did not answer its heartbeat")
    t.prompt()
    t.run("alive")
    t.expect("ran alive")
    t.prompt()
    no_traceback(t)
    leave(t)


@pytest.fixture
def attached_bad(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A bad kernel in mode no-hb started by the test (not by mycon), and its connection file."""
    from jupyter_client.connect import write_connection_file

    path, _ = write_connection_file(str(tmp_path / "kernel-bad.json"), ip="127.0.0.1")
    proc = subprocess.Popen([sys.executable, BAD_KERNEL, "-f", path, "no-hb"])
    try:
        yield path, proc
    finally:
        proc.kill()
        proc.wait(10)


def test_attached_kernel_with_dead_heartbeat_keeps_the_cell(
    bad: list[Term], jupyter_env: dict[str, str], attached_bad: tuple[str, subprocess.Popen[bytes]]
) -> None:
    """Attached (--existing) to a kernel that stops answering heartbeats: the cell typed is kept."""
    path, _ = attached_bad
    t = Term("--existing", path, env=jupyter_env)
    bad.append(t)
    ready(t, "no-hb")
    t.expect("the kernel did not answer its heartbeat")
    t.run("kept = 42")
    t.expect("not run")
    t.prompt()
    t.expect("kept = 42")  # offered again at the next prompt: nothing typed is lost
    no_traceback(t)
    t.send(CTRL_C)  # drop it, then leave with Ctrl-D
    t.prompt()
    leave(t)


# -- nothing from the current directory is imported at start-up ------------------------------

SHADOWS = ("prompt_toolkit", "zmq", "click", "console", "kernel", "jupyter_client", "pygments", "traitlets")


def poisoned_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A directory whose modules shadow what mycon imports; importing one writes a marker."""
    marker = tmp_path / "IMPORTED"
    for name in SHADOWS:
        (tmp_path / f"{name}.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\nraise SystemExit('shadow {name} imported')\n"
        )
    return tmp_path, marker


def test_help_imports_nothing_from_cwd(tmp_path: Path) -> None:
    cwd, marker = poisoned_dir(tmp_path)
    out = subprocess.run([MYCON, "--help"], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), marker.read_text()


def test_console_imports_nothing_from_cwd(tmp_path: Path, jupyter_env: dict[str, str], bad: list[Term]) -> None:
    cwd, marker = poisoned_dir(tmp_path)
    env = dict(jupyter_env)
    old = os.getcwd()
    os.chdir(cwd)  # pexpect spawns in the current directory
    try:
        t = start(bad, env, "good")
    finally:
        os.chdir(old)
    ready(t, "good")
    t.run("cwd")
    t.expect("ran cwd")
    t.prompt()
    leave(t)
    assert not marker.exists(), marker.read_text()


def test_our_kernel_imports_nothing_from_cwd(tmp_path: Path, jupyter_env: dict[str, str], bad: list[Term]) -> None:
    """``mycon --kernel mycon`` in a directory of shadowing modules: neither process picks one up."""
    cwd, marker = poisoned_dir(tmp_path)
    env = {k: v for k, v in jupyter_env.items() if k != "JUPYTER_PATH"}  # the installed kernelspecs
    old = os.getcwd()
    os.chdir(cwd)
    try:
        t = Term("--kernel", "mycon", env=env)
        bad.append(t)
    finally:
        os.chdir(old)
    t.expect("To attach another terminal")
    t.prompt()
    t.run("import os, zmq; print(os.getcwd() == os.path.dirname(zmq.__file__))")
    t.expect("False")
    t.prompt()
    leave(t)
    assert not marker.exists(), marker.read_text()


def test_paste_of_two_cells_with_a_terminal_answering_cursor_requests(
    bad: list[Term], jupyter_env: dict[str, str]
) -> None:
    """Two cells in one write (a paste without bracketed paste), on a terminal that answers
    the prompt's cursor-position request: the answer for the second prompt comes while its
    Enter waits for is_complete (0.1 s here). It must not leave that prompt waiting a second
    for an answer already read (issue "no console is ever stuck", defect 5)."""
    t = Term("--kernel", "bad-slow-is-complete", env={**jupyter_env, "PROMPT_TOOLKIT_NO_CPR": "0"},
             answers_cpr=True)
    bad.append(t)
    ready(t, "slow-is-complete")
    t.send(f"first{ENTER}second{ENTER}")
    t.expect("ran first")
    shown = time.monotonic()
    t.expect("ran second")
    took = time.monotonic() - shown
    assert took < 0.6, f"the pasted second cell ran {took:.2f} s after the first (a 1 s stall is the bug)"
    t.prompt()
    no_traceback(t)
