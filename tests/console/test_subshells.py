"""Kernel subshells in the console: while a cell runs (ours or another client's), Tab completion,
``obj?`` and side cells are answered at once from this console's subshell; ``--subshell`` runs an
attached console's cells in a subshell of its own, so two consoles run cells at the same time.

Parametrised over the kernels that have subshells (kernel_info's ``supported_features`` lists
"kernel subshells"); a kernel without them is skipped, saying so.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from term import CTRL_C, CTRL_D, TAB, Term, kernel_available, plain

pytestmark = pytest.mark.timeout(120)

ANSWER = 8.0  # seconds an answer from the subshell may take (the busy cell runs for 30 s)
SLOW_CELL = "for i in range(300): x = i; time.sleep(0.1); print('count' 'ing') if i == 2 else None"
SIDE_KEY = "\x18s"  # Ctrl-X s
SUM = re.compile(r"\b1[0-2]\d\d\b")  # x + 10**3 while x counts up (never in the typed text)
TYPE_INT = re.compile(r"Type:\s+int")  # the page of x?


@functools.cache
def has_subshells(name: str) -> bool:
    """Whether kernelspec ``name`` lists "kernel subshells" in its kernel_info (asked once)."""
    code = (
        "from jupyter_client.manager import start_new_kernel\n"
        f"km, kc = start_new_kernel(kernel_name={name!r}, startup_timeout=20)\n"
        "reply = kc.kernel_info(reply=True, timeout=10)\n"
        "print('kernel subshells' in reply['content'].get('supported_features', []))\n"
        "kc.stop_channels(); km.shutdown_kernel(now=True)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=40, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return False
    return done.stdout.strip().endswith("True")


@pytest.fixture(params=["python3", "mycon"])
def subshell_kernel(request: pytest.FixtureRequest) -> str:
    """A kernelspec with subshells: ipykernel's, and ours once it has them."""
    name = str(request.param)
    if not kernel_available(name):
        pytest.skip(f"kernelspec {name!r} cannot start here")
    if not has_subshells(name):
        pytest.skip(f"kernelspec {name!r} has no kernel subshells (kernel_info lists no 'kernel subshells')")
    return name


def subshells_of(cf: str) -> set[str]:
    """The kernel's subshells, as list_subshell_request on control tells (a client of the test)."""
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_file(cf)
    kc.start_channels()
    try:
        msg = kc.session.msg("list_subshell_request", {})
        kc.control_channel.send(msg)
        while True:
            reply = kc.control_channel.get_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return set(reply["content"]["subshell_id"])
    finally:
        kc.stop_channels()


@contextmanager
def owner_and_attached(kernel: str, cf: str, *attached_flags: str) -> Iterator[tuple[Term, Term]]:
    """A console on a fresh kernel, and one attached to it, both at their prompt."""
    owner = Term("--kernel", kernel, "-f", cf)
    attached: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.prompt()
        attached = Term("--existing", cf, *attached_flags)
        attached.expect("To attach another terminal")
        attached.prompt()
        yield owner, attached
    finally:
        if attached is not None:
            attached.close()
        owner.close()


def test_side_key_completes_and_answers_during_our_busy_cell(subshell_kernel: str) -> None:
    """Our own cell runs: Ctrl-X s opens a side prompt; Tab there completes and ``x?`` and a
    side cell answer within seconds, from the subshell, while the cell goes on."""
    t = Term("--kernel", subshell_kernel)
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("import time; x = 0")
        t.prompt()
        t.run(SLOW_CELL)
        t.expect("counting")
        t.send(SIDE_KEY)
        t.expect("side>", timeout=ANSWER)
        t.send("x.nume" + TAB)
        t.expect("numerator", timeout=ANSWER)  # the completion menu
        t.send(CTRL_C)  # leaves the side prompt, running nothing
        t.send(SIDE_KEY)
        t.expect("side>", timeout=ANSWER)
        t.run("x + 10**3")
        m = t.expect(SUM, timeout=ANSWER)  # x + 1000 while x counts up
        assert isinstance(m, re.Match)
        t.send(SIDE_KEY)
        t.expect("side>", timeout=ANSWER)
        t.run("x?")
        t.expect(TYPE_INT, timeout=ANSWER)  # the page of x?, printed above
        t.send(CTRL_C)  # the slow cell ends on the interrupt
        t.expect("KeyboardInterrupt")
        t.prompt()
    finally:
        t.close()


def test_attached_console_asks_while_anothers_cell_runs(subshell_kernel: str, tmp_path: os.PathLike[str]) -> None:
    """Another client's cell keeps the kernel busy: at our prompt Tab completion, ``x?`` and
    ``%mycon side x`` answer at once (without subshells they would wait for that cell)."""
    cf = os.path.join(str(tmp_path), "kernel-side.json")
    with owner_and_attached(subshell_kernel, cf) as (owner, attached):
        owner.run("import time; x = 0")
        owner.prompt()
        owner.run(SLOW_CELL)
        attached.expect("counting")  # shown live: the kernel is busy with it now
        attached.send("x.nume" + TAB)
        attached.expect("rator", timeout=ANSWER)  # completed in place (only the new letters are drawn)
        attached.send(CTRL_C)  # clears the input
        attached.prompt()
        attached.run("x?")
        attached.expect(TYPE_INT, timeout=ANSWER)
        attached.run("%mycon side x + 10**3")
        m = attached.expect(SUM, timeout=ANSWER)
        assert isinstance(m, re.Match)
        line = plain(attached.raw)[: m.end()].rsplit("\n", 1)[-1]
        assert "client" not in line, f"our side cell's output is shown as another client's: {line!r}"
        attached.send("x * 0 + 10**3" + SIDE_KEY)  # the typed text, run on the side by the key
        attached.expect(re.compile(r"\b1000\b"), timeout=ANSWER)
        owner.send(CTRL_C)
        owner.expect("KeyboardInterrupt")


def test_two_consoles_with_subshell_run_cells_at_once(subshell_kernel: str, tmp_path: os.PathLike[str]) -> None:
    """``--subshell``: two attached consoles each run cells in a subshell of their own, so the
    second one's cell runs while the first one's still waits for it."""
    cf = os.path.join(str(tmp_path), "kernel-two.json")
    with owner_and_attached(subshell_kernel, cf, "--subshell") as (owner, first):
        second = Term("--existing", cf, "--subshell")
        try:
            second.expect("To attach another terminal")
            second.prompt()
            first.run("import time; seen = False")
            first.prompt()
            # Waits up to 20 s for the other console's cell; each console sleeps in its cell.
            first.run("print('wait' 'ing', flush=True); "
                      "print('first saw' ' second' if any(seen or time.sleep(0.05) for _ in range(400)) else 'first gave up')")
            first.expect("waiting")  # the first console's cell runs (its printed text, not the echo)
            second.run("time.sleep(1); seen = True; print('second' ' ran')")
            second.expect("second ran", timeout=ANSWER)
            first.expect("first saw second", timeout=ANSWER)
            first.prompt()
            second.prompt()
            # Ctrl-C sends no interrupt (it would stop the main shell's cell): it says so, and a
            # second one stops waiting.
            second.run("print('sleep' 'ing', flush=True); time.sleep(30)")
            second.expect("sleeping")
            second.send(CTRL_C)
            second.expect("which an interrupt does not reach")
            second.send(CTRL_C)
            second.expect("stopped waiting for this cell")
            second.prompt()
            # Leaving: a subshell still running a cell is left (deleting it would hold the
            # kernel's control channel until the cell ends); an idle one is deleted.
            made = subshells_of(cf)
            second.send(CTRL_D)
            second.expect("exit")
            second.run("y")
            second.expect("it is left to finish it")
            assert second.wait_exit() == 0
            kept = subshells_of(cf)  # answered within 10 s, the cell sleeps 30 s: control is free
            assert kept and kept <= made  # its busy one is left (an idle one for Tab and Enter goes)
            first.close()
            left = subshells_of(cf)
            assert left < kept, (kept, left)  # the first console's idle ones are deleted
        finally:
            second.close()


BAD_KERNEL = str(Path(__file__).with_name("bad_kernel.py"))


@pytest.fixture
def kernel_without_subshells(tmp_path: Path) -> Iterator[str]:
    """A kernel without subshells (tests/console/bad_kernel.py, behaving), started by the test;
    its connection file."""
    from jupyter_client.connect import write_connection_file

    path, _ = write_connection_file(str(tmp_path / "kernel-plain.json"), ip="127.0.0.1")
    proc = subprocess.Popen([sys.executable, BAD_KERNEL, "-f", path, "good"])
    try:
        yield path
    finally:
        proc.kill()
        proc.wait(10)


def test_a_kernel_without_subshells_is_said_once_and_cells_still_run(kernel_without_subshells: str) -> None:
    """``--subshell`` and side cells on a kernel that lacks subshells: one line each says so
    (once), and cells run as before, in the main shell."""
    t = Term("--existing", kernel_without_subshells, "--subshell")
    try:
        t.expect("bad kernel, mode good")
        t.prompt()
        t.run("one")
        t.expect("--subshell: bad_kernel has no kernel subshells")
        t.expect("ran one")
        t.prompt()
        t.run("%mycon side two")
        t.expect("no side cells: bad_kernel has no kernel subshells")
        t.expect("In [2]: two")  # the code comes back to the prompt: nothing is lost
        t.send("\x15")  # Ctrl-U: clear it
        t.run("%mycon side three")
        t.expect("In [2]: three")
        t.send("\x15")
        t.run("four")
        t.expect("ran four")
        t.prompt()
        screen = plain(t.raw)
        assert screen.count("no side cells") == 1 and screen.count("--subshell: bad_kernel") == 1, screen
        assert "ran two" not in screen and "ran three" not in screen  # side cells need a subshell
    finally:
        t.close()


def test_which_lines_run_on_the_side() -> None:
    """``%mycon side CODE`` always; help queries (``obj?``, ``obj??``, ``?obj``) while another
    client's cell runs; nothing else."""
    from console.side import is_help_query, side_code

    assert side_code("%mycon side x + 1") == "x + 1"
    assert side_code("  %mycon   side  ") == ""
    assert side_code("%mycon sidecar") is None and side_code("x = 1") is None
    assert all(is_help_query(c) for c in ("x?", "x??", "?x", "np.linalg.norm?", " d['k']? "))
    assert not any(is_help_query(c) for c in ("x = 1?", "print(x)?", "x?\ny", "?", "a if b else c?"))
