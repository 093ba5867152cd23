"""Keys that arrive in one read (a program driving mycon through a pty, a paste without
bracketed paste): the cell runs as fast as when typed key by key (issue "no console is ever
stuck", defect 5).

Not timed tests in the strict sense: the bound (half a second from the write to the result) is
far above a warm cell's few milliseconds and far below the one-second stall it guards against.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from term import ENTER, Term, need_kernel

STALL_BOUND = 0.5  # seconds: the stall was 1 s; a warm cell takes a few ms


@pytest.fixture(params=["mycon", "python3"])
def kernel(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    need_kernel(name)
    return name


@contextmanager
def _console(kernel: str, answers_cpr: bool) -> Iterator[Term]:
    # PROMPT_TOOLKIT_NO_CPR=0: the console asks the terminal where the cursor is, as it does in
    # a real terminal (the other terminal tests tell it not to).
    t = Term("--kernel", kernel, env={"PROMPT_TOOLKIT_NO_CPR": "0"}, answers_cpr=answers_cpr)
    try:
        t.prompt()
        t.run("print(1+1)")  # at once: each prompt must live less than prompt_toolkit's 2 s probe
        t.expect(re.compile(r"\n2\n"))
        t.prompt()
        yield t
    finally:
        t.close()


def _result_within(t: Term, value: int, written: float) -> None:
    t.expect(re.compile(rf"\n{value}\n"), timeout=10)
    took = time.monotonic() - written
    assert took < STALL_BOUND, f"the result of print({value}) came {took:.2f} s after the write"


def test_cell_and_enter_in_one_write_to_a_pty_that_answers_nothing(kernel: str) -> None:
    """A program on a pty does not answer cursor-position requests: no cell waits for one."""
    with _console(kernel, answers_cpr=False) as t:
        for value in (700001, 700002):
            written = time.monotonic()
            t.send(f"print({value}){ENTER}")
            _result_within(t, value, written)
            t.prompt()
