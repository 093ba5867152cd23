"""Key bindings and prompt logic without a terminal (create_pipe_input + DummyOutput)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from console.history import ConsoleHistory
from console.prompt import (
    Completeness,
    EnterState,
    KernelCompleter,
    PromptState,
    call_context,
    completions_from_reply,
    create_prompt_session,
    local_completeness,
)


def _session(inp: Any, ask: Any, state: EnterState | None = None, history: Any = None, **more: Any) -> Any:
    """A prompt session reading ``inp``, drawing nowhere, asking ``ask`` on Enter."""
    return create_prompt_session(
        PromptState(count=lambda: 1), ask_complete=ask, completer=None,
        history=history or InMemoryHistory(), toolbar=None, input=inp, output=DummyOutput(),
        enter_state=state or EnterState(), **more,
    )


async def _prompt(keys: list[str], ask: Any, history: Any = None) -> str:
    with create_pipe_input() as inp:
        session = _session(inp, ask, history=history)
        for chunk in keys:
            inp.send_text(chunk)
        return await asyncio.wait_for(session.prompt_async(), 5)


def slow_kernel(answers: dict[str, Completeness], delay: float = 0.02) -> Any:
    async def ask(text: str) -> Completeness:
        await asyncio.sleep(delay)  # a kernel round trip: keys keep arriving meanwhile
        return answers.get(text, ("complete", ""))

    return ask


def test_enter_runs_complete_cell() -> None:
    assert asyncio.run(_prompt(["1 + 1\r"], slow_kernel({}))) == "1 + 1"


def test_enter_incomplete_inserts_kernel_indent_and_keeps_typed_keys() -> None:
    ask = slow_kernel({"for i in x:": ("incomplete", "  ")})
    # Everything is typed before the kernel answers the first Enter.
    text = asyncio.run(_prompt(["for i in x:\rpass\r\r"], ask))
    assert text == "for i in x:\n  pass"


def test_kernel_error_falls_back_to_local_guess() -> None:
    async def broken(text: str) -> Completeness:
        raise RuntimeError("kernel gone")

    text = asyncio.run(_prompt(["f(1,\r2)\r"], broken))
    assert text == "f(1,\n2)"


def test_force_newline_and_force_run() -> None:
    ask = slow_kernel({"a": ("incomplete", "")})
    assert asyncio.run(_prompt(["a\x0fb\x1b\r"], ask)) == "a\nb"  # Ctrl-O, then Esc Enter


def test_bracketed_paste_is_one_cell() -> None:
    paste = "\x1b[200~x = 1\r\ny = 2\x1b[201~"
    assert asyncio.run(_prompt([paste, "\r"], slow_kernel({}))) == "x = 1\ny = 2"


def test_history_prefix_up() -> None:
    history = InMemoryHistory()
    for entry in ("alpha = 1", "beta = 2", "gamma = 3"):
        history.append_string(entry)
    assert asyncio.run(_prompt(["al\x1b[A\r"], slow_kernel({}), history)) == "alpha = 1"


def test_local_completeness() -> None:
    assert local_completeness("x = 1") == ("complete", "")
    assert local_completeness("f(1,")[0] == "incomplete"
    assert local_completeness("if x:") == ("incomplete", "    ")
    assert local_completeness("s = '''abc")[0] == "incomplete"
    assert local_completeness("s = ')'")[0] == "complete"
    assert local_completeness("# (")[0] == "complete"
    assert local_completeness("a \\")[0] == "incomplete"
    # an indented last line of a multi-line cell: the block goes on (an empty line runs it)
    assert local_completeness("def f(x):\n    y = x + 1") == ("incomplete", "    ")
    assert local_completeness("x = 1\ny = 2") == ("complete", "")
    assert local_completeness("    x = 1") == ("complete", "")


def test_call_context() -> None:
    assert call_context("print(") == ("print", 5)
    assert call_context("x = os.path.join(a, ") == ("os.path.join", 16)
    assert call_context("f(g(1), ") == ("f", 1)
    assert call_context("f(1)") is None
    assert call_context("[1, ") is None


def test_completions_carry_kinds() -> None:
    reply = {
        "matches": ["alpha", "alpine"],
        "cursor_start": 0,
        "cursor_end": 2,
        "metadata": {"_jupyter_types_experimental": [
            {"text": "alpha", "type": "instance"}, {"text": "alpine", "type": "function"}
        ]},
    }
    comps = completions_from_reply(reply, 2)
    assert [c.text for c in comps] == ["alpha", "alpine"]
    assert [c.start_position for c in comps] == [-2, -2]
    assert [c.display_meta_text for c in comps] == ["instance", "function"]


def test_kernel_completer_asks_with_code_point_cursor() -> None:
    seen: list[tuple[str, int]] = []

    async def complete(code: str, cursor: int) -> dict[str, Any]:
        seen.append((code, cursor))
        return {"matches": ["été_x"], "cursor_start": cursor - 1, "cursor_end": cursor}

    async def collect() -> list[str]:
        comp = KernelCompleter(complete)
        doc = Document("é = 1; é", cursor_position=8)
        return [c.text async for c in comp.get_completions_async(doc, CompleteEvent(completion_requested=True))]

    assert asyncio.run(collect()) == ["été_x"]
    assert seen == [("é = 1; é", 8)]


def test_console_history_merges_kernel_entries(tmp_path: Any) -> None:
    async def go() -> list[str]:
        h = ConsoleHistory(size=5)
        h.append_string("typed early")  # before the file is known
        h.open_file(str(tmp_path / "hist" / "python"))
        h.merge_kernel(["k1", "k2", "typed early", " "])
        h.done_loading()
        return [item async for item in h.load()]

    assert asyncio.run(go()) == ["typed early", "k2", "k1"]
    again = ConsoleHistory()
    again.open_file(str(tmp_path / "hist" / "python"))
    assert list(again.load_history_strings()) == ["typed early"]


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_enter_returns_at_once(text: str) -> None:
    async def never(code: str) -> Completeness:
        raise AssertionError("no kernel question for empty input")

    assert asyncio.run(_prompt([text + "\r"], never)).strip() == ""


def test_right_accepts_history_suggestion() -> None:
    async def go() -> str:
        history = InMemoryHistory()
        history.append_string("suggested_value = 7")
        with create_pipe_input() as inp:
            session = _session(inp, slow_kernel({}), history=history)

            def suggested(buffer: Any) -> None:
                if buffer.suggestion is not None:
                    inp.send_text("\x1b[C\r")  # Right, then Enter

            session.default_buffer.on_suggestion_set += suggested
            inp.send_text("sugg")
            return await asyncio.wait_for(session.prompt_async(), 5)

    assert asyncio.run(go()) == "suggested_value = 7"


def test_kernel_history_merged_after_loading(tmp_path: Any) -> None:
    async def go() -> list[str]:
        h = ConsoleHistory()
        h.open_file(str(tmp_path / "h"))
        h.append_string("mine")
        h.done_loading()
        first = [item async for item in h.load()]
        assert first == ["mine"]
        h.merge_kernel(["theirs", "mine"])
        return [item async for item in h.load()]

    assert asyncio.run(go()) == ["mine", "theirs"]


def test_enter_uses_answer_known_while_typing() -> None:
    async def go() -> str:
        async def never(text: str) -> Completeness:
            raise AssertionError("Enter asked the kernel although the answer was known")

        answered = asyncio.get_running_loop().create_future()

        async def probe(text: str) -> Completeness | None:
            if text != "block:":
                return ("complete", "")
            if not answered.done():
                answered.set_result(None)
            return ("incomplete", "  ")

        with create_pipe_input() as inp:
            session = _session(inp, never, probe_complete=probe)

            async def drive() -> None:
                inp.send_text("block:")
                await answered
                inp.send_text("\r")  # known incomplete: newline + indent, no round trip
                inp.send_text("x\x1b\r")  # then force-run

            task = asyncio.ensure_future(drive())
            result = await asyncio.wait_for(session.prompt_async(), 5)
            await task
            return result

    assert asyncio.run(go()) == "block:\n  x"


def test_keys_wait_behind_an_enter_asked_while_held_keys_were_replayed() -> None:
    """Enter's question answered, the keys held meanwhile are replayed; one of them is an Enter
    that asks again: keys arriving while that second question is out must wait behind it too
    (they once went straight into the buffer, ahead of the newline, and a blank Enter after
    them no longer ran the cell)."""

    async def go() -> tuple[bool, str]:
        questions: asyncio.Queue[tuple[str, asyncio.Future[Completeness]]] = asyncio.Queue()

        async def ask(text: str) -> Completeness:
            answer: asyncio.Future[Completeness] = asyncio.get_running_loop().create_future()
            await questions.put((text, answer))
            return await answer

        state = EnterState()
        with create_pipe_input() as inp:
            session = _session(inp, ask, state)
            prompt = asyncio.ensure_future(session.prompt_async())
            inp.send_text('def f():\r"""doc"""\r')  # the second line arrives while Enter waits
            text, answer = await asyncio.wait_for(questions.get(), 5)
            assert text == "def f():"
            answer.set_result(("incomplete", "    "))
            text, answer = await asyncio.wait_for(questions.get(), 5)
            assert text == 'def f():\n    """doc"""'
            waiting_behind_second = state.pending  # the replayed Enter's question is out
            answer.set_result(("incomplete", "    "))
            inp.send_text("return 1\r")
            text, answer = await asyncio.wait_for(questions.get(), 5)
            answer.set_result(("incomplete", "    "))
            inp.send_text("\r")  # a blank line runs the cell
            return waiting_behind_second, await asyncio.wait_for(prompt, 5)

    pending, text = asyncio.run(go())
    assert pending
    assert text == 'def f():\n    """doc"""\n    return 1'


def test_a_cell_pasted_after_another_is_asked_about_while_the_first_runs() -> None:
    """Two cells in one read: the first Enter asks the kernel; the second cell's question goes
    out while the first runs (``ask_ahead``), so its Enter at the next prompt needs no round
    trip and the pasted cells run one after the other."""

    async def go() -> tuple[list[str], list[str], list[str]]:
        asked: list[str] = []
        asked_ahead: list[str] = []

        async def ask(text: str) -> Completeness:
            asked.append(text)
            return ("complete", "")

        async def ask_ahead(text: str) -> Completeness | None:
            asked_ahead.append(text)
            return ("complete", "")

        state = EnterState()
        with create_pipe_input() as inp:
            session = _session(inp, ask, state)
            inp.send_text("print(1)\rprint(2)\r")
            cells = [await asyncio.wait_for(session.prompt_async(), 5)]
            state.ask_ahead(ask_ahead)  # the console does this once the first cell is sent
            await state.ahead_answered()
            cells.append(await asyncio.wait_for(session.prompt_async(), 5))
        return cells, asked, asked_ahead

    cells, asked, asked_ahead = asyncio.run(go())
    assert cells == ["print(1)", "print(2)"]
    assert asked_ahead == ["print(2)"]
    assert asked == ["print(1)"]  # the second Enter needed no question
