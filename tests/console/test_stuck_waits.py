"""No wait the kernel never ends keeps the console stuck (issue "no console is ever stuck",
defect 4): a second Ctrl-C within a few seconds of one that had no effect gives the prompt
back, says the kernel is still busy and how to restart it, and loses nothing typed.

The misbehaving protocol cases (a kernel that never answers is_complete nor a cell, as
bash_kernel with an unfinished ``for ...; do``) are in test_misbehaving.py.
"""

from __future__ import annotations

import re

import pytest
from term import CTRL_C, ENTER, Term, need_kernel

IGNORE_SIGINT = (
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "print('deaf' + ' now', flush=True); time.sleep(600)"
)


@pytest.mark.parametrize("kernel", ["mycon", "python3"])
def test_second_ctrl_c_leaves_a_kernel_that_ignores_sigint(kernel: str) -> None:
    need_kernel(kernel)
    t = Term("--kernel", kernel)
    try:
        t.prompt()
        t.run(IGNORE_SIGINT)
        t.expect("deaf now")
        t.send(CTRL_C)  # the kernel ignores it
        t.expect("Ctrl-C again stops waiting")  # a second later the console says how out
        t.send("kept = 41")  # typed while stuck: not lost
        t.send(CTRL_C)
        t.expect("stopped waiting for this cell", timeout=10)
        t.expect("still busy")
        t.expect("%mycon restart")
        t.expect(re.compile(r"In \[\d+\]: kept = 41"))
        t.send("\x18\x0b")  # Ctrl-X Ctrl-K: restart (the typed text stays)
        t.expect("Restart the kernel?")
        t.send("y" + ENTER)
        t.expect("(kernel restarted)")
        t.expect(re.compile(r"In \[1\]: kept = 41"))
        t.send(ENTER)
        t.prompt()
        t.run("kept + 1")
        t.expect("42")
        t.prompt()
    finally:
        t.close()


def test_ctrl_c_at_an_input_prompt_counts_as_the_first() -> None:
    """Ctrl-C at input() interrupts; the kernel ignores it and still waits for the answer: one
    more Ctrl-C gives the prompt back."""
    need_kernel("mycon")
    t = Term("--kernel", "mycon")
    try:
        t.prompt()
        t.run("import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); input('na' + 'me? ')")
        t.expect("name?")
        t.send(CTRL_C)
        t.send(CTRL_C)
        t.expect("stopped waiting for this cell", timeout=10)
        t.expect("still busy")
        t.prompt()
    finally:
        t.close()
