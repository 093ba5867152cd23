"""The printer batches writes per refresh and feeds a live prompt a frame at a time."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from console.output import FRAME_BYTES, FRAME_HEAD, FRAME_LINES, Printer


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_many_writes_one_flush() -> None:
    async def go() -> CountingStream:
        stream = CountingStream()
        printer = Printer(stream)
        done = asyncio.get_running_loop().create_future()
        for i in range(1000):
            printer.write(f"{i}\n")
        asyncio.get_running_loop().call_soon(done.set_result, None)
        await done
        return stream

    stream = asyncio.run(go())
    assert stream.writes == 1
    assert stream.getvalue() == "".join(f"{i}\n" for i in range(1000))


class FakeApp:
    is_running = True


def frames_above_prompt(text: str) -> list[str]:
    """What a printer above a live prompt writes for ``text`` written at once."""
    frames: list[str] = []

    async def go() -> None:
        printer = Printer(io.StringIO(), interval=0.001)
        printer.set_app(FakeApp())
        printer._write_above_prompt = lambda app, chunk: frames.append(chunk)  # type: ignore[method-assign,assignment]
        printer.write(text)
        await asyncio.sleep(0.05)

    asyncio.run(go())
    return frames


def test_flood_above_prompt_loses_its_middle_with_a_note() -> None:
    lines = [f"line {i}\n" for i in range(20000)]
    frames = frames_above_prompt("".join(lines))
    assert len(frames) == 1  # nothing is left over for later frames: the backlog is gone
    tail = FRAME_LINES - FRAME_HEAD
    skipped = 20000 - FRAME_LINES
    assert frames[0] == (
        "".join(lines[:FRAME_HEAD])
        + f"… {skipped:,} lines skipped (output came faster than the screen can show it)\n"
        + "".join(lines[-tail:])
    )


def test_a_frame_of_long_lines_keeps_the_newest_whole_lines() -> None:
    lines = [f"{i:05d}" + "x" * 3000 + "\n" for i in range(100)]
    (frame,) = frames_above_prompt("".join(lines))
    kept = [line for line in frame.splitlines(keepends=True) if not line.startswith("…")]
    assert sum(map(len, kept)) <= FRAME_BYTES
    assert kept == lines[-len(kept) :] and kept
    assert f"… {100 - len(kept)} lines skipped" in frame


def test_a_small_backlog_is_written_whole() -> None:
    text = "".join(f"{i}\n" for i in range(FRAME_LINES))
    assert frames_above_prompt(text) == [text]


def test_own_cell_output_is_never_cut() -> None:
    async def go() -> str:
        stream = io.StringIO()
        printer = Printer(stream, interval=0.001)
        for i in range(200_000):
            printer.write(f"{i}\n")
        await asyncio.sleep(0.01)
        printer.flush()
        return stream.getvalue()

    assert asyncio.run(go()) == "".join(f"{i}\n" for i in range(200_000))


def test_text_above_a_real_prompt_keeps_the_terminal_raw() -> None:
    """Lines written while a prompt_toolkit prompt runs land above it; it never suspends."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.vt100 import Vt100_Output

    screen = io.StringIO()

    async def go(inp: Any) -> str:
        out = Vt100_Output(screen, lambda: Size(24, 80))
        session: PromptSession[str] = PromptSession("In [1]: ", input=inp, output=out)
        printer = Printer(screen, interval=0.001)
        suspended: list[bool] = []
        printer._in_terminal = lambda app, text: suspended.append(True)  # type: ignore[method-assign]
        task = asyncio.ensure_future(session.prompt_async())
        while not session.app.is_running:
            await asyncio.sleep(0.001)
        printer.set_app(session.app)
        inp.send_text("ab")
        for i in range(500):
            printer.write(f"other {i}\n")
        await asyncio.sleep(0.05)
        inp.send_text("c\r")
        answer = await asyncio.wait_for(task, 5)
        assert not suspended
        return answer

    with create_pipe_input() as inp:
        assert asyncio.run(go(inp)) == "abc"
    text = screen.getvalue()
    assert "other 0\n" in text and "other 499\n" in text
    assert "lines skipped" in text
    assert text.rfind("In [1]: ") > text.rfind("other 499")  # the prompt is redrawn below


def test_line_start_tracking() -> None:
    stream = io.StringIO()
    printer = Printer(stream)
    printer.write("partial")
    printer.flush()
    assert not printer.at_line_start
    printer.ensure_line_start()
    assert stream.getvalue() == "partial\n" and printer.at_line_start
