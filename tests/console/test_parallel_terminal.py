"""``mycon --cluster 2`` in a terminal, on ipykernel and on our kernel: engines' output labelled
and coloured per engine, identical remote errors folded, ``[px]`` in the prompt while %autopx is
on, Ctrl-C stopping the engines' work; and ``mycon --existing K --watch``."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from term import CTRL_C, CTRL_D, MYCON, Term

from console.app import WATCH_REFUSAL
from console.parallel_output import engine_color

pytest.importorskip("ipyparallel")

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def px(kernel_name: str) -> Iterator[Term]:
    """One console with a 2-engine cluster, shared by the module's tests."""
    t = Term("--kernel", kernel_name, "--cluster", "2", "--no-confirm-exit")
    try:
        t.expect("cluster ready: 2 engines up", timeout=100)
        t.prompt()  # redrawn under the note
        yield t
    finally:
        t.close()


def _cell(t: Term, code: str) -> str:
    """Run ``code``; the raw output up to the next prompt."""
    start = len(t.raw)
    t.run(code)
    t.expect(code + "\n")  # the accepted cell; its output and the next prompt follow
    t.prompt()
    return t.raw[start:]


def test_streams_labelled_in_each_engines_colour(px: Term) -> None:
    raw = _cell(px, "%px print('hi from', 'engine')")
    assert "[stdout:0] hi from engine" in _plain(raw)
    assert "[stdout:1] hi from engine" in _plain(raw)
    assert engine_color(0) + "[stdout:0]" in raw
    assert engine_color(1) + "[stdout:1]" in raw


def test_results_labelled_per_engine(px: Term) -> None:
    raw = _cell(px, "%px 6 * 7")
    assert re.search(r"Out\[0:\d+\]: 42", _plain(raw))
    assert re.search(r"Out\[1:\d+\]: 42", _plain(raw))
    assert re.search(re.escape(engine_color(1)) + r"Out\[1:\d+\]:", raw)


def test_same_error_on_all_engines_is_one_block(px: Term) -> None:
    shown = _plain(_cell(px, "%px 1/0"))
    assert "[0,1:execute] the same error on 2 engines: 0, 1" in shown
    assert shown.count("ZeroDivisionError: division by zero") == 1
    assert "2 errors on the engines (shown above)" in shown


def test_ctrl_c_stops_the_engines_work(px: Term) -> None:
    px.run("%px print('sleeping', flush=True); import time; time.sleep(60)")
    # Streamed live: the engines run it now (ipyparallel may lose one engine's first output
    # to a race of its own); its progress bar comes 2 s after the cell started.
    px.expect(re.compile(r"\[stdout:\d\] sleeping"))
    px.expect("%px:")
    px.send(CTRL_C)
    px.expect("Sending signal SIGINT to engines")
    px.prompt()
    # The engines are free again: without the signal they would sleep on for a minute.
    px.run("%px 'awake'")
    px.expect(re.compile(r"Out\[1:\d+\]: 'awake'"), timeout=20)
    px.prompt()


def test_prompt_shows_px_while_autopx_is_on(px: Term) -> None:
    shown = _plain(_cell(px, "%autopx"))
    if "%autopx enabled" not in shown:
        pytest.skip(f"this kernel has no %autopx yet: {shown.strip().splitlines()[-2:]}")
    assert re.search(r"\[px\] In \[\d+\]: $", shown)
    shown = _plain(_cell(px, "3 + 4"))
    assert re.search(r"Out\[0:\d+\]: 7", shown)  # it ran on the engines
    assert re.search(r"\[px\] In \[\d+\]: $", shown)
    shown = _plain(_cell(px, "%autopx"))
    assert "%autopx disabled" in shown
    assert re.search(r"\n\s*In \[\d+\]: $", shown)


def test_restart_brings_the_cluster_back(px: Term) -> None:
    """The old cluster is stopped before the restart; the new kernel gets one of its own."""
    m = re.search(r"controller (\d+)", _plain(_cell(px, "print('controller', __mycon_cluster__.controller.process.pid)")))
    assert m
    px.run("%mycon restart")
    px.expect("Restart the kernel?")
    px.run("y")
    px.expect("(stopping the cluster's 2 engines)")
    px.expect("(kernel restarted)")
    assert not _alive(int(m.group(1)), within=10.0)  # no engines or controller left behind
    px.expect("cluster ready: 2 engines up", timeout=100)
    shown = _plain(_cell(px, "%px 'back'"))
    assert re.search(r"Out\[0:\d+\]: 'back'", shown) and re.search(r"Out\[1:\d+\]: 'back'", shown)


def _screen(session: str) -> str:
    """What tmux session ``session`` shows now (the screen, not the stream of bytes)."""
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _shows(session: str, text: str, within: float) -> bool:
    """Whether ``text`` comes on the screen of ``session`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text in _screen(session):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (a terminal that reports the cursor)")
def test_toolbar_counts_engines_and_busy_ones() -> None:
    """The bottom toolbar: the cluster's engines and how many are busy, asked of the controller
    by the console itself (so work started without blocking the kernel counts too). Read from
    a real terminal's screen: prompt_toolkit redraws only the characters that changed."""
    session = f"pxconsole-toolbar-{os.getpid()}"
    # The tmux server may be another's: the console gets this test's environment explicitly.
    env = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in ("PATH", "PYTHONPATH", "HOME") if k in os.environ)
    command = f"env {env} TERM=xterm-256color {MYCON} --kernel mycon --cluster 2 --no-confirm-exit"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30", command], check=True)
    try:
        assert _shows(session, "cluster ready: 2 engines up", 100), _screen(session)
        assert _shows(session, "cluster: 2 engines, 0 busy", 15), _screen(session)
        subprocess.run(["tmux", "send-keys", "-t", session,
                        "ar = rc[:].execute('import time; time.sleep(6)', block=False)", "Enter"], check=True)
        assert _shows(session, "cluster: 2 engines, 2 busy", 15), _screen(session)
        assert _shows(session, "cluster: 2 engines, 0 busy", 20), _screen(session)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "C-d"])  # leaving stops the cluster
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _has_session(session):
            time.sleep(0.2)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def _has_session(session: str) -> bool:
    return subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0


def _alive(pid: int, within: float) -> bool:
    """Whether process ``pid`` still runs after waiting up to ``within`` seconds for its end."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[-1].startswith("Z"):
                    return False  # a zombie has ended
        except FileNotFoundError:
            return False
        time.sleep(0.1)
    return True


def _plain(raw: str) -> str:
    from term import plain

    return plain(raw)


def test_watch_shows_others_cells_and_runs_nothing(kernel_name: str) -> None:
    owner = Term("--kernel", kernel_name, "--no-confirm-exit")
    watcher: Term | None = None
    try:
        m = owner.expect(re.compile(r"mycon --existing (\S+)"))
        assert isinstance(m, re.Match)
        owner.prompt()
        watcher = Term("--existing", m.group(1), "--watch")
        watcher.expect("To attach another terminal")  # connected: it sees what comes next
        watcher.expect("[watching] In [")
        owner.run("print('from the owner')")
        watcher.expect("print('from the owner')")
        watcher.expect("from the owner")
        owner.expect("In [2]: ")
        watcher.run("x_watch = 1")
        watcher.expect(WATCH_REFUSAL)
        owner.run("'x_watch' in dir()")
        owner.expect("Out[2]: False")  # nothing ran, and the counter did not move
        watcher.send(CTRL_D)
        assert watcher.wait_exit() == 0
        owner.run("41 + 1")
        owner.expect("Out[3]: 42")  # the kernel lives on
    finally:
        if watcher is not None:
            watcher.close()
        owner.close()


def test_watch_needs_existing() -> None:
    t = Term("--watch")
    t.expect("mycon: --watch goes with --existing")
    assert t.wait_exit() == 2
