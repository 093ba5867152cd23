"""The real mycon in a pseudo-terminal, typing as a person would (issue 4 "Must show").

Each test leaves the console at a fresh prompt, so the module shares one console per kernel.
"""

from __future__ import annotations

import re

import pytest
from term import CTRL_C, CTRL_D, CTRL_R, ENTER, F2, TAB, UP, Term, plain


def test_result_and_prompt_numbers(term: Term) -> None:
    term.run("6*7")
    m = term.expect(re.compile(r"Out\[(\d+)\]: 42"))
    assert isinstance(m, re.Match)
    n = int(m.group(1))
    assert term.prompt() == n + 1


def test_stdout_stream(term: Term) -> None:
    term.run("print('hello' + ' world')")
    term.expect("hello world")
    term.prompt()


def test_stderr_is_marked(term: Term) -> None:
    term.run("import sys; print('oops-on-' + 'stderr', file=sys.stderr)")
    term.expect("oops-on-stderr")
    assert "\x1b[31moops-on-stderr" in term.raw
    term.prompt()


def test_error_traceback(term: Term) -> None:
    term.run("1/0")
    term.expect("ZeroDivisionError")
    term.prompt()
    term.run("'still alive'")
    term.expect("'still alive'")
    term.prompt()


def test_multi_line_cell(term: Term) -> None:
    term.run("def answer():")
    term.expect("...:")
    term.run("return 40 + 2")
    term.send(ENTER)  # Enter on the blank line runs the cell
    term.prompt()
    term.run("answer()")
    term.expect(re.compile(r"Out\[\d+\]: 42"))
    term.prompt()


def test_completion_menu(term: Term) -> None:
    term.run("zzq_alpha = 1; zzq_beta = 2")
    term.prompt()
    term.send("zzq_" + TAB)
    term.expect("zzq_alpha")
    term.expect("zzq_beta")
    term.send(CTRL_C)  # Ctrl-C at the prompt clears the input
    term.prompt()


def test_help_question_mark(term: Term) -> None:
    term.run("def documented(x):")
    term.run('"""Doubles zz-doc-marker."""')
    term.run("return 2 * x")
    term.send(ENTER)
    term.prompt()
    term.run("documented?")
    term.expect("zz-doc-marker")
    term.prompt()
    term.run("documented??")
    term.expect("return 2 * x")
    term.prompt()


def test_history_up_and_ctrl_r(term: Term) -> None:
    term.run("'hist-' + 'one'")
    term.expect("'hist-one'")
    term.prompt()
    term.run("'other'")
    term.prompt()
    term.send("'hist" + UP + ENTER)  # Up matches the typed prefix
    term.expect(re.compile(r"Out\[\d+\]: 'hist-one'"))
    term.prompt()
    term.send(CTRL_R + "'on")
    term.expect("'hist-' + 'one'")
    term.send(ENTER)  # accept the search
    term.send(ENTER)  # run it
    term.expect(re.compile(r"Out\[\d+\]: 'hist-one'"))
    term.prompt()


def test_input(term: Term) -> None:
    term.run("name = input('your name? ')")
    term.expect("your name? ")
    term.run("bob")
    term.prompt()
    term.run("name.upper()")
    term.expect("'BOB'")
    term.prompt()


def test_ctrl_c_interrupts(term: Term) -> None:
    term.run("import time; print('sleeping', flush=True); time.sleep(60)")
    term.expect("sleeping")
    term.send(CTRL_C)
    term.expect("KeyboardInterrupt")
    term.prompt()
    term.run("'after interrupt'")
    term.expect("'after interrupt'")
    term.prompt()


def test_type_ahead_kept(term: Term) -> None:
    term.run("import time; print('busy', flush=True); time.sleep(0.5)")
    term.expect("busy")
    term.run("20 + 22")  # typed while the cell runs
    term.expect(re.compile(r"Out\[\d+\]: 42"))
    term.prompt()


def test_signature_toolbar_while_typing(term: Term) -> None:
    term.run("def sig_demo(alpha, beta_zz): return alpha")
    term.send(ENTER)
    term.prompt()
    term.send("sig_demo(")
    term.expect("beta_zz")  # shown in the bottom toolbar, from inspect_request
    term.send(CTRL_C)
    term.prompt()


def test_getpass_hides_input(term: Term) -> None:
    """A password shows nothing while typed, as getpass does in a terminal: not the secret, and
    not one ``*`` per character either (that would show its length). The kernel gets it."""
    term.run("import getpass; secret = getpass.getpass('zz' + 'pw: ')")
    term.expect("zzpw:")  # the question (its trailing space is drawn as a cursor move)
    typed_from = len(term.raw)
    term.run("hunter2zz")
    term.prompt()
    assert "*" not in plain(term.raw[typed_from:])
    term.run("secret == 'hunter2' + 'zz'")
    term.expect(re.compile(r"Out\[\d+\]: True"))
    assert "hunter2zz" not in term.raw
    term.prompt()


@pytest.mark.parametrize("key", [F2, "\x18\x05"], ids=["F2", "Ctrl-X Ctrl-E"])
def test_edit_input_in_editor(term: Term, key: str) -> None:
    term.send("zzfoo")
    term.send(key)  # the fixture's $EDITOR replaces zzfoo with 6*7
    term.expect("6*7")
    term.send(ENTER)
    term.expect(re.compile(r"Out\[\d+\]: 42"))
    term.prompt()


def test_late_output_of_own_cell_shown(term: Term) -> None:
    term.run("import threading, time; threading.Timer(0.3, lambda: print('late-' + 'zz', flush=True)).start()")
    term.prompt()
    term.expect("late-zz")  # printed above the prompt, without a key press
    term.run("'after late'")
    term.expect("'after late'")
    term.prompt()


def test_ctrl_c_at_input_interrupts(term: Term) -> None:
    term.run("answer = input('say: ')")
    term.expect("say: ")
    term.send(CTRL_C)
    term.expect("KeyboardInterrupt")
    term.prompt()
    term.run("'ok after input'")
    term.expect("'ok after input'")
    term.prompt()


def test_ctrl_d_at_input_is_end_of_file(term: Term) -> None:
    term.run(r"""exec("try:\n input('zzmore? ')\nexcept EOFError as e:\n print('zz' + 'eof', repr(e))")""")
    term.expect("zzmore? ")
    term.send(CTRL_D)
    term.expect("zzeof EOFError(")
    term.prompt()


def test_keys_typed_while_the_console_starts_reach_the_first_prompt() -> None:
    """Typed the instant mycon is spawned: before the terminal query, during it, before the prompt."""
    fresh = Term(env={"TMUX": "", "STY": ""})  # outside a multiplexer: the start-up query runs
    try:
        fresh.run("6 * 7")
        fresh.expect(re.compile(r"Out\[1\]: 42"))
        assert fresh.prompt() == 2
    finally:
        fresh.close()
