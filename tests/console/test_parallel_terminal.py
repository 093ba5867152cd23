"""``mycon --cluster 2`` in a terminal, on ipykernel and on our kernel: engines' output labelled
and coloured per engine, identical remote errors folded, ``[px]`` in the prompt while %autopx is
on, Ctrl-C stopping the engines' work; and ``mycon --existing K --watch``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from term import CTRL_C, CTRL_D, Term

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
