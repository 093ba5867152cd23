"""The printer batches writes per refresh and feeds a live prompt a frame at a time."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from console.output import FRAME_BYTES, Printer


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


def test_flood_above_prompt_goes_a_frame_at_a_time() -> None:
    frames: list[str] = []

    class FakeApp:
        is_running = True

    async def go() -> None:
        printer = Printer(io.StringIO(), interval=0.001)
        printer.set_app(FakeApp())
        text = "".join(f"line {i}\n" for i in range(20000))
        all_out = asyncio.get_running_loop().create_future()

        def above(app: Any, chunk: str) -> None:
            frames.append(chunk)
            if sum(len(f) for f in frames) >= len(text):
                all_out.set_result(None)

        printer._write_above_prompt = above  # type: ignore[method-assign]
        printer.write(text)
        await asyncio.wait_for(all_out, 10)
        assert "".join(frames) == text

    asyncio.run(go())
    assert len(frames) > 1
    assert all(len(f) <= FRAME_BYTES and f.endswith("\n") for f in frames)


def test_line_start_tracking() -> None:
    stream = io.StringIO()
    printer = Printer(stream)
    printer.write("partial")
    printer.flush()
    assert not printer.at_line_start
    printer.ensure_line_start()
    assert stream.getvalue() == "partial\n" and printer.at_line_start
