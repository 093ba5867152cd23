"""The output area without a terminal: what it writes for displays, updates, clears and floods."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import os
import re
import select
import struct
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from console import displays, render
from console.console_commands import console_command, is_console_command
from console.displays import STREAM_CHARS, STREAM_LINES, OutputArea
from console.probe import GraphicsProbe, probe_graphics, startup_probe

DATA = Path(__file__).parent / "data"
UP = re.compile(r"\x1b\[(\d+)A")


def msg(msg_type: str, **content: Any) -> dict[str, Any]:
    return {"header": {"msg_type": msg_type}, "content": content}


def display(text: str, display_id: str | None = None, update: bool = False) -> dict[str, Any]:
    transient = {"display_id": display_id} if display_id else {}
    kind = "update_display_data" if update else "display_data"
    return msg(kind, data={"text/plain": text}, metadata={}, transient=transient)


class Screen:
    """Collects what the area writes."""

    def __init__(self, rows: int = 24) -> None:
        self.out: list[str] = []
        self.rows = rows

    @property
    def text(self) -> str:
        return "".join(self.out)


def make_area(tmp_path: Path, rows: int = 24) -> tuple[OutputArea, Screen]:
    screen = Screen(rows)
    options = render.RenderOptions(width=80, color=False, graphics="blocks", color_depth="mono")
    area = OutputArea(screen.out.append, lambda: options, lambda: screen.rows, str(tmp_path))
    return area, screen


def test_update_redraws_the_display_in_place(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(display("progress 0", "bar"))
    area.show(msg("stream", name="stdout", text="after\n"))
    screen.out.clear()
    area.show(display("progress 1", "bar", update=True))
    # cursor up over the display and the line after it, erase, redraw both
    assert screen.text == "\r\x1b[2A\x1b[Jprogress 1\nafter\n"


def test_hundred_updates_never_print_anew(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(display("step 0", "p"))
    for i in range(1, 101):
        area.show(display(f"step {i}", "p", update=True))
    area.end_cell()
    assert "updated" not in screen.text
    assert len(UP.findall(screen.text)) == 100


def test_update_after_the_cell_prints_anew_with_a_note(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(display("old", "d1"))
    area.end_cell()
    area.show(display("new", "d1", update=True), live=False)
    assert screen.text.endswith("[display d1 updated; its earlier version is above]\nnew\n")


def test_update_of_a_display_scrolled_away_prints_anew(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path, rows=10)
    area.begin_cell()
    area.show(display("first", "d"))
    area.show(msg("stream", name="stdout", text="line\n" * 20))
    screen.out.clear()
    area.show(display("second", "d", update=True))
    assert not UP.search(screen.text)
    assert "[display d updated" in screen.text


def test_clear_output_wait_replaces_on_next_output(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(msg("stream", name="stdout", text="1\n"))
    area.show(msg("clear_output", wait=True))
    assert screen.text == "1\n"  # nothing erased yet
    area.show(msg("stream", name="stdout", text="2\n"))
    assert screen.text == "1\n\r\x1b[1A\x1b[J2\n"


def test_clear_output_now(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(msg("stream", name="stdout", text="a\nb\n"))
    area.show(msg("clear_output", wait=False))
    assert screen.text.endswith("\r\x1b[2A\x1b[J")


def test_display_after_partial_line_starts_on_its_own_line(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(msg("stream", name="stdout", text="no newline"))
    area.show(display("shown", "x"))
    assert screen.text == "no newline\nshown\n"
    screen.out.clear()
    area.show(display("again", "x", update=True))
    assert screen.text == "\r\x1b[1A\x1b[Jagain\n"


def test_carriage_return_progress_counts_one_row(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    area.show(display("head", "h"))
    for i in range(50):
        area.show(msg("stream", name="stderr", text=f"\r{i:3d}%"))
    screen.out.clear()
    area.show(display("HEAD", "h", update=True))
    assert screen.text.startswith("\r\x1b[1A\x1b[JHEAD\n")


def test_cut_only_above_a_million_lines_or_32_mb() -> None:
    assert STREAM_LINES == 1_000_000
    assert STREAM_CHARS == 32_000_000


def test_two_hundred_thousand_lines_are_shown_in_full(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    lines = [f"{i}\n" for i in range(200_000)]
    for start in range(0, len(lines), 5000):
        area.show(msg("stream", name="stdout", text="".join(lines[start : start + 5000])))
    area.end_cell()
    assert screen.text == "".join(lines)
    assert area.full_output is None


def test_huge_stream_is_cut_with_a_note_and_kept_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 2000  # the rule is the same at any limit; a small one keeps the test fast
    monkeypatch.setattr(displays, "STREAM_LINES", limit)
    area, screen = make_area(tmp_path)
    area.begin_cell()
    lines = [f"row {i}\n" for i in range(limit * 3)]
    for start in range(0, len(lines), 1000):
        area.show(msg("stream", name="stdout", text="".join(lines[start : start + 1000])))
    area.end_cell()
    shown = screen.text
    assert shown.count("\n") == limit + 1  # the lines shown plus the note
    assert f"{limit * 2:,} more lines not shown" in shown
    assert "%mycon page" in shown
    assert area.full_output is not None
    assert Path(area.full_output).read_text() == "".join(lines)
    pages: list[str] = []
    assert console_command("%mycon page", area, pages.append) == ""
    assert pages == ["".join(lines)]


def test_huge_value_is_saved_whole(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    big = "x" * 5_000_000
    area.show(msg("execute_result", execution_count=1, data={"text/plain": big}, metadata={}))
    area.end_cell()
    assert len(screen.text) < 300_000
    assert "output cut" in screen.text and "%mycon page" in screen.text
    assert area.full_output is not None and Path(area.full_output).stat().st_size == len(big)


def test_save_and_view_the_last_image(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    assert "no image" in console_command("%mycon save", area, print)
    png = base64.b64encode((DATA / "mpl_plot.png").read_bytes()).decode()
    area.begin_cell()
    area.show(msg("display_data", data={"image/png": png, "text/plain": "<Figure>"}, metadata={}))
    area.end_cell()
    out = console_command(f"%mycon save {tmp_path / 'imgs'}", area, print)
    saved = Path(out.split()[-1])
    assert saved.parent == tmp_path / "imgs"
    assert saved.read_bytes() == (DATA / "mpl_plot.png").read_bytes()


def test_console_command_words() -> None:
    assert is_console_command("%mycon page")
    assert is_console_command("  %mycon  ")
    assert not is_console_command("%mycon page\nprint(1)")
    assert not is_console_command("%mycontrol")
    assert not is_console_command("print('%mycon')")


def test_console_command_help_and_unknown(tmp_path: Path) -> None:
    area, _ = make_area(tmp_path)
    assert "%mycon save" in console_command("%mycon", area, print)
    assert "unknown console command 'frob'" in console_command("%mycon frob", area, print)
    assert "nothing more" in console_command("%mycon page", area, print)


@pytest.mark.parametrize(
    ("graphics", "env"),
    [
        ("blocks", {"TERM": "xterm-256color"}),
        ("auto", {"TERM": "xterm-kitty"}),
        ("auto", {"TERM": "xterm-256color", "TMUX": "/tmp/x"}),
        ("auto", {"TERM": "dumb"}),
    ],
)
def test_no_terminal_query_when_the_answer_is_known(graphics: str, env: dict[str, str]) -> None:
    assert startup_probe(graphics, env) is None


def test_resolve_options_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-kitty")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    render.set_probed_graphics(None)
    got = render.resolve_options(render.RenderOptions(width=81))
    assert (got.graphics, got.color_depth) == ("kitty", "truecolor")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("KITTY_WINDOW_ID", raising=False)
    monkeypatch.delenv("COLORTERM", raising=False)
    render.set_probed_graphics("sixel")
    try:
        got = render.resolve_options(render.RenderOptions(width=82))
        assert (got.graphics, got.color_depth) == ("sixel", "256")
        fixed = render.RenderOptions(graphics="none", color_depth="16")
        assert render.resolve_options(fixed) is fixed
    finally:
        render.set_probed_graphics(None)


def _fake_terminal(answer: bytes) -> tuple[int, int, threading.Thread]:
    """A pseudo-terminal whose far end answers the graphics query with ``answer``."""
    master, slave = os.openpty()

    def respond() -> None:
        got = b""
        while not got.endswith(b"\x1b[c"):
            got += os.read(master, 1024)
        if answer:
            os.write(master, answer)

    thread = threading.Thread(target=respond, daemon=True)
    thread.start()
    return master, slave, thread


@pytest.mark.parametrize(
    ("answer", "mode", "typed"),
    [
        (b"\x1b_Gi=31;OK\x1b\\\x1b[?62;22c", "kitty", ""),
        (b"\x1b[?62;4;22c", "sixel", ""),
        (b"\x1b[?62;22c", None, ""),
        (b"", None, ""),  # no answer at all: the wait is bounded
        # keys typed while the terminal answered are kept for the prompt, not lost
        (b"def f():\r\x1b_Gi=31;OK\x1b\\x\x1b[A\x1b[?62;22c", "kitty", "def f():\rx\x1b[A"),
    ],
)
def test_graphics_probe_on_a_pseudo_terminal(answer: bytes, mode: str | None, typed: str) -> None:
    master, slave, thread = _fake_terminal(answer)
    try:
        assert probe_graphics(slave, slave, timeout=2.0 if answer else 0.1) == (mode, typed)
        thread.join(5)
        # the answer was consumed: nothing is left for the prompt to read as typed keys
        ready, _, _ = select.select([slave], [], [], 0)
        assert not ready
    finally:
        os.close(master)
        os.close(slave)


def _wait_queued(fd: int, count: int, timeout: float = 5.0) -> None:
    """Wait (bounded) until ``count`` bytes wait in the terminal ``fd``'s input queue: a write to
    the master side reaches the slave side a moment later, through the kernel's tty layer."""
    deadline = time.monotonic() + timeout
    while struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0] < count:
        assert time.monotonic() < deadline, "the typed keys never reached the terminal"
        time.sleep(0.001)


def test_graphics_probe_answer_read_after_other_work() -> None:
    """The query goes out at start(); the answer waits in the terminal until finish()."""
    answer = b"\x1b_Gi=31;OK\x1b\\\x1b[?62;22c"
    master, slave, thread = _fake_terminal(answer)
    try:
        before = termios.tcgetattr(slave)
        probe = GraphicsProbe(slave, slave, timeout=5.0)
        assert probe.start()
        thread.join(5)  # the terminal has answered: the console's imports would run meanwhile
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # typed keys do not show meanwhile
        os.write(master, b"1+1\r")  # the user types before the prompt exists
        # Both the answer and the keys are in the terminal by the time finish() reads. (Keys that
        # come later are no loss: the prompt reads them; this test is about keys typed before.)
        _wait_queued(slave, len(answer) + len(b"1+1\r"))
        assert probe.finish() == ("kitty", "1+1\r")  # read with the answer: kept for the prompt
        assert termios.tcgetattr(slave) == before
        ready, _, _ = select.select([slave], [], [], 0)
        assert not ready
    finally:
        os.close(master)
        os.close(slave)


def test_graphics_probe_needs_a_terminal(tmp_path: Path) -> None:
    with open(tmp_path / "f", "w+b") as f:
        assert probe_graphics(f.fileno(), f.fileno()) == (None, "")


def test_mime_order_flag_is_checked() -> None:
    from click.testing import CliRunner

    from console.cli import main

    result = CliRunner().invoke(main, ["--mime-order", "html,bogus", "list"])
    assert result.exit_code == 2
    assert "--mime-order: unknown mime type(s) bogus" in result.output
    assert "Traceback" not in result.output
    help_text = CliRunner().invoke(main, ["--help"]).output
    assert "--mime-order" in help_text and "%mycon page" in help_text


def test_mime_order_config_key(tmp_path: Path) -> None:
    from console.settings import ConfigError, load_config, make_settings

    good = tmp_path / "good.toml"
    good.write_text('mime_order = "plain"\n')
    settings = make_settings(load_config(str(good)))
    assert render.mime_order(settings.mime_order) == ("text/plain",)
    bad = tmp_path / "bad.toml"
    bad.write_text('mime_order = "png,nope"\n')
    with pytest.raises(ConfigError, match="mime_order: unknown mime type"):
        load_config(str(bad))
    assert render.mime_order("") is None


def test_mime_order_reaches_the_renderer() -> None:
    data = {"text/html": "<b>bold</b>", "text/plain": "PLAIN"}
    opts = render.RenderOptions(color=False, mime_order=render.mime_order("plain"))
    assert render.render_bundle(data, {}, opts) == "PLAIN"
    assert render.strip_ansi(render.render_bundle(data, {}, render.RenderOptions(color=False))) == "bold"


def test_text_written_by_others_is_counted(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)

    def write(text: str) -> None:  # a printer that tells the area about every write
        area.seen(text)
        screen.out.append(text)

    area._write = write
    area.begin_cell()
    area.show(display("mine", "m"))
    write("[client 2] In [4]: x\nother output\n")  # another client's, via the printer
    screen.out.clear()
    area.show(display("MINE", "m", update=True))
    assert screen.text == "\r\x1b[3A\x1b[JMINE\n[client 2] In [4]: x\nother output\n"


def test_first_image_says_how_to_keep_it(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    png = base64.b64encode((DATA / "mpl_plot.png").read_bytes()).decode()
    area.begin_cell()
    for _ in range(2):
        area.show(msg("display_data", data={"image/png": png, "text/plain": "<Figure>"}, metadata={}))
    assert screen.text.count("%mycon save keeps the last image") == 1


def test_view_opens_the_viewer_or_says_why_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    area, _ = make_area(tmp_path)
    png = base64.b64encode((DATA / "mpl_plot.png").read_bytes()).decode()
    area.show(msg("display_data", data={"image/png": png}, metadata={}), live=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    out = console_command("%mycon view", area, print)
    assert out.startswith("cannot run xdg-open") and "the image is saved in" in out
    bindir = tmp_path / "bin"
    bindir.mkdir()
    viewer = bindir / "xdg-open"
    viewer.write_text("#!/bin/sh\nexit 0\n")
    viewer.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    assert console_command("%mycon view", area, print).startswith("opened ")


def test_only_the_last_cut_output_keeps_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(displays, "SPOOL_CHARS", 3_000_000)
    monkeypatch.setattr(displays, "STREAM_CHARS", 1_000_000)
    area, screen = make_area(tmp_path)
    files = []
    for _ in range(2):
        area.begin_cell()
        for _ in range(5):
            area.show(msg("stream", name="stdout", text="y" * 1_000_000))
        area.end_cell()
        assert area.full_output is not None
        files.append(Path(area.full_output))
    assert not files[0].exists()
    assert files[1].stat().st_size == 3_000_000
    assert "the file holds the first 3.0 MB" in screen.text


def test_resized_terminal_prints_anew(tmp_path: Path) -> None:
    screen = Screen()
    width = [80]
    area = OutputArea(
        screen.out.append,
        lambda: render.RenderOptions(width=width[0], color=False, graphics="blocks", color_depth="mono"),
        lambda: screen.rows,
        str(tmp_path),
    )
    area.begin_cell()
    area.show(display("v1", "r"))
    width[0] = 60
    area.show(display("v2", "r", update=True))
    assert not UP.search(screen.text)
    assert "[display r updated" in screen.text


def test_clear_after_forgotten_output_notes_it(tmp_path: Path) -> None:
    area, screen = make_area(tmp_path)
    area.begin_cell()
    for _ in range(3):
        area.show(msg("stream", name="stdout", text="z" * 200_000 + "\n"))
    area.show(msg("clear_output", wait=False))
    assert screen.text.endswith("[output cleared]\n")


def _printer_above_prompt(monkeypatch: pytest.MonkeyPatch, hold: float) -> tuple[Any, list[str]]:
    import io

    import console.output as output

    monkeypatch.setattr(output, "PARTIAL_HOLD", hold)

    class FakeApp:
        is_running = True

    printer = output.Printer(io.StringIO(), interval=0.001)
    printer.set_app(FakeApp())
    frames: list[str] = []
    printer._write_above_prompt = lambda app, text: frames.append(text)  # type: ignore[method-assign]
    return printer, frames


def test_progress_above_a_live_prompt_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> list[str]:
        printer, frames = _printer_above_prompt(monkeypatch, hold=30.0)
        for i in range(100):
            printer.write(f"\rpct {i}")
            printer.flush()
        printer.write("\rpct 100\n")
        printer.flush()
        return frames

    frames = asyncio.run(go())
    shown = [line.split("\r")[-1] for line in "".join(frames).split("\n") if line]
    assert shown == ["pct 100"]


def test_unfinished_line_above_a_prompt_shows_after_the_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> list[str]:
        printer, frames = _printer_above_prompt(monkeypatch, hold=0.01)
        printer.write("done: ")
        printer.write("no newline")
        printer.flush()
        assert frames == [] and not printer.at_line_start
        while not frames:
            await asyncio.sleep(0.005)  # the hold timer fires on this loop
        return frames

    assert asyncio.run(go()) == ["done: no newline"]
