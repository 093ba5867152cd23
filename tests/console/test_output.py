"""The printer batches writes per refresh and feeds a live prompt a frame at a time."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from console.output import BACKLOG_BYTES, BACKLOG_LINES, FRAME_BYTES, FRAME_LINES, Printer


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


def frames_above_prompt(text: str, more: str = "") -> list[str]:
    """The frames a printer above a live prompt writes for ``text`` written at once (and
    ``more`` written after the first frame)."""
    frames: list[str] = []

    async def go() -> None:
        printer = Printer(io.StringIO(), interval=0.001)
        printer.set_app(FakeApp())
        printer._write_above_prompt = lambda app, chunk: frames.append(chunk)  # type: ignore[method-assign,assignment]
        printer.write(text)
        await asyncio.sleep(0.003)
        printer.write(more)
        for _ in range(500):
            await asyncio.sleep(0.002)
            if not printer._chunks and not printer._partial:
                break

    asyncio.run(go())
    return frames


def test_another_clients_table_goes_a_frame_at_a_time_whole() -> None:
    text = "".join(f"row {i}\n" for i in range(BACKLOG_LINES))
    frames = frames_above_prompt(text)
    assert "".join(frames) == text
    assert len(frames) > 1
    assert all(f.count("\n") <= FRAME_LINES and len(f) <= FRAME_BYTES for f in frames)


def test_a_flood_keeps_the_newest_lines_and_says_how_many_were_skipped() -> None:
    lines = [f"line {i}\n" for i in range(20000)]
    frames = frames_above_prompt("".join(lines))
    shown = "".join(frames)
    skipped = 20000 - BACKLOG_LINES
    note = f"… {skipped:,} lines skipped (output came faster than the screen can show it)\n"
    assert frames[0].startswith(note)
    assert shown == note + "".join(lines[-BACKLOG_LINES:])


def test_skipped_lines_are_counted_exactly_across_frames() -> None:
    first = [f"a{i}\n" for i in range(1000)]
    second = [f"b{i}\n" for i in range(1000)]
    frames = frames_above_prompt("".join(first), "".join(second))
    shown = "".join(frames).splitlines()
    notes = [line for line in shown if line.startswith("…")]
    counted = sum(int(n.split()[1].replace(",", "")) for n in notes)
    assert counted + len(shown) - len(notes) == 2000
    assert shown[-1] == "b999"
    numbers = [(line[0], int(line[1:])) for line in shown if not line.startswith("…")]
    assert numbers == sorted(numbers)  # in order, never twice


def test_a_backlog_of_long_lines_keeps_the_newest_whole_lines() -> None:
    lines = [f"{i:05d}" + "x" * 3000 + "\n" for i in range(100)]
    frames = frames_above_prompt("".join(lines))
    kept = [line for f in frames for line in f.splitlines(keepends=True) if not line.startswith("…")]
    assert sum(map(len, kept)) <= BACKLOG_BYTES
    assert kept and kept == lines[-len(kept) :]
    assert f"… {100 - len(kept)} lines skipped" in frames[0]
    assert all(len(f) <= FRAME_BYTES + 100 or f.count("\n") <= 2 for f in frames)


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
        deadline = asyncio.get_running_loop().time() + 5
        while printer.queued:  # every frame written above the live prompt before Enter
            assert asyncio.get_running_loop().time() < deadline, "the printer never drained"
            await asyncio.sleep(0.001)
        inp.send_text("c\r")
        answer = await asyncio.wait_for(task, 5)
        assert not suspended
        return answer

    with create_pipe_input() as inp:
        assert asyncio.run(go(inp)) == "abc"
    text = screen.getvalue()
    assert "other 499\n" in text and f"other {500 - BACKLOG_LINES}\n" in text
    assert f"… {500 - BACKLOG_LINES} lines skipped" in text
    assert text.rfind("In [1]: ") > text.rfind("other 499")  # the prompt is redrawn below


def test_line_start_tracking() -> None:
    stream = io.StringIO()
    printer = Printer(stream)
    printer.write("partial")
    printer.flush()
    assert not printer.at_line_start
    printer.ensure_line_start()
    assert stream.getvalue() == "partial\n" and printer.at_line_start


def test_a_coloured_line_ending_in_a_reset_is_a_whole_line() -> None:
    """A note styled as colour + text + newline + reset ends a line: no blank line after it."""
    stream = io.StringIO()
    printer = Printer(stream)
    printer.write("\x1b[2m(a note)\n\x1b[0m")
    printer.ensure_line_start()
    assert stream.getvalue() == "\x1b[2m(a note)\n\x1b[0m"
    printer.write("\x1b[33mno newline\x1b[0m")
    printer.ensure_line_start()
    assert stream.getvalue().endswith("no newline\x1b[0m\n")
