"""Rich output in the real mycon, in a real terminal (tmux), read back from its screen.

Issue 6 "Must show": an HTML and a Markdown display are readable, an image shows as blocks with
its caption, a display updated 100 times redraws in place (the screen holds one block, not
100). Also: clear_output(wait=True) and ``\\r`` progress lines stay one line, a 100 MB print
comes back to a usable prompt with a note, %mycon save keeps the last image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from term import need_kernel

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
MYCON = str(Path(sys.executable).with_name("mycon"))
DATA = Path(__file__).parent / "data"
WAIT = 30.0
POLL = 0.05  # tmux has no "screen changed" event to await: read its screen at this pace


class Tmux:
    """One mycon in a tmux pane; code is typed with send-keys, the screen read with capture-pane."""

    def __init__(self, kernel: str, *args: str, cols: int = 100, rows: int = 40) -> None:
        self.sock = f"mycon-disp-{uuid.uuid4().hex[:8]}"
        self.base = [TMUX or "tmux", "-L", self.sock, "-f", "/dev/null"]
        env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
        env["PAGER"] = "tail -n 2"  # %mycon page: the end of the full output, no interaction
        env.pop("TMUX", None)
        extra = " ".join(args)
        cmd = f"{MYCON} --kernel {kernel} --no-confirm-exit {extra}; tmux -L {self.sock} wait-for -S gone; exec cat"
        subprocess.run(
            [*self.base, "new-session", "-d", "-x", str(cols), "-y", str(rows), cmd],
            check=True, env=env, timeout=20,
        )
        subprocess.run([*self.base, "set-option", "-g", "history-limit", "50000"], timeout=10)

    def screen(self, history: bool = True) -> str:
        """The pane's text (with its scrollback when ``history``), wrapped lines joined."""
        args = ["capture-pane", "-p", "-J", "-t", "0"] + (["-S", "-"] if history else [])
        out = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=10)
        return out.stdout

    def wait_for(self, pattern: str, timeout: float = WAIT, history: bool = True) -> str:
        """Wait until ``pattern`` (a regex) is on the screen; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(history)
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen within {timeout:g} s:\n{text[-3000:]}")
            time.sleep(POLL)

    def last_prompt(self) -> int:
        found = re.findall(r"In \[(\d+)\]: ", self.screen())
        return int(found[-1]) if found else 0

    def run(self, code: str, timeout: float = WAIT, until: str = "") -> str:
        """Type one line, press Enter, wait for the next prompt (or ``until``); the screen."""
        n = self.last_prompt()
        subprocess.run([*self.base, "send-keys", "-t", "0", "-l", code], check=True, timeout=10)
        subprocess.run([*self.base, "send-keys", "-t", "0", "Enter"], check=True, timeout=10)
        return self.wait_for(until or rf"In \[{n + 1}\]: ", timeout)

    def close(self) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "0", "C-d"], timeout=10)
        subprocess.run([*self.base, "wait-for", "gone"], timeout=20, capture_output=True)
        subprocess.run([*self.base, "kill-server"], timeout=10, capture_output=True)


@pytest.fixture(scope="module", params=["mycon", "python3"])
def tmux(request: pytest.FixtureRequest) -> Iterator[Tmux]:
    name = str(request.param)
    if name == "mycon":
        need_kernel(name)
    t = Tmux(name)
    try:
        t.wait_for(r"In \[1\]: ")
        t.run("from IPython.display import HTML, Markdown, Image, display, clear_output")
        yield t
    finally:
        t.close()


def output_of(screen: str, marker: str) -> str:
    """The text between the prompt line holding ``marker`` and the next prompt."""
    start = screen.rindex(marker)
    start = screen.index("\n", start) + 1
    end = screen.find("In [", start)
    return screen[start:end]


def test_html_display_is_readable(tmux: Tmux) -> None:
    html = (
        "<h2>Title zzh</h2><p>Some <b>bold</b> and a <a href='https://example.org/x'>link</a>"
        "</p><ul><li>first item</li></ul><script>alert(1)</script>"
    )
    tmux.run(f'html = "{html}"')
    screen = tmux.run("display(HTML(html))  # html-cell")
    out = output_of(screen, "# html-cell")
    assert "Title zzh" in out
    assert "Some bold and a link" in out
    assert "https://example.org/x" in out
    assert "first item" in out
    assert "<b>" not in out and "alert" not in out and "HTML object" not in out


def test_markdown_display_is_readable(tmux: Tmux) -> None:
    md = "# Heading zzm\\n\\n*some* **text**\\n\\n```python\\nx = [1, 2]\\n```\\n"
    tmux.run(f'md = "{md}"')
    screen = tmux.run("display(Markdown(md))  # md-cell")
    out = output_of(screen, "# md-cell")
    assert "Heading zzm" in out and "# Heading" not in out
    assert "some text" in out
    assert "x = [1, 2]" in out and "```" not in out


def test_image_shows_as_blocks_with_caption(tmux: Tmux, tmp_path: Path) -> None:
    png = DATA / "mpl_plot.png"
    tmux.run(f"png = {str(png)!r}")
    screen = tmux.run("display(Image(filename=png))  # img-cell")
    out = output_of(screen, "# img-cell")
    lines = [ln for ln in out.split("\n") if ln.strip()]
    assert "[image/png, 100×75 px]" in out
    assert sum(1 for ln in lines if set(ln.strip()) <= {"▀", "▄", " "}) >= 10
    saved = tmux.run(f"%mycon save {tmp_path}", until=r"saved .*png\n")
    assert re.search(r"saved .*mycon-[0-9a-f]{12}\.png", saved)
    (path,) = tmp_path.glob("mycon-*.png")
    assert path.read_bytes() == png.read_bytes()


def test_display_updated_100_times_redraws_in_place(tmux: Tmux) -> None:
    code = (
        "h = display('zz-step 0', display_id=True); "
        "_ = [h.update(f'zz-step {i}') for i in range(1, 101)]; print('zz-upd-done')"
    )
    screen = tmux.run(code)
    assert "zz-upd-done" in screen
    # one block on screen, not 101: the last value
    assert re.findall(r"^'zz-step \d+'$", screen, re.M) == ["'zz-step 100'"]
    assert "updated; its earlier version" not in screen


def test_clear_output_wait_keeps_one_block(tmux: Tmux) -> None:
    code = "for i in range(100): clear_output(wait=True); print(f'zz-tick {i}')"
    tmux.run(code)
    screen = tmux.run("print('zz-clear-done')")
    assert "zz-tick 99" in screen
    assert len(re.findall(r"^zz-tick \d+", screen, re.M)) == 1


def test_carriage_return_progress_stays_one_line(tmux: Tmux) -> None:
    code = (
        "import sys; _ = [sys.stdout.write(f'\\rzz-pct {i:3d}%') or sys.stdout.flush() "
        "for i in range(101)]; print()"
    )
    screen = tmux.run(code)
    assert "zz-pct 100%" in screen
    assert re.findall(r"^zz-pct +\d+%", screen, re.M) == ["zz-pct 100%"]


def test_huge_print_comes_back_to_a_usable_prompt(tmux: Tmux) -> None:
    screen = tmux.run("print('\\n'.join(map(str, range(1_000_000)))); print('zz-end')", timeout=120)
    assert re.search(r"output cut: [\d,]+ more lines not shown", screen)
    assert "%mycon page" in screen
    assert tmux.run("6*7  # zz-alive").count("42") >= 1
    # the whole output, through the pager (here: its last two lines)
    screen = tmux.run("%mycon page", until=r"\n999999\nzz-end\n")


def test_hundred_megabyte_string(tmux: Tmux) -> None:
    screen = tmux.run("print('x' * 100_000_000)", timeout=120)
    assert re.search(r"output cut: .*of 100\.0 MB", screen)
    assert "42" in tmux.run("6*7")


def test_mime_order_flag_prefers_plain_text() -> None:
    need_kernel("mycon")
    t = Tmux("mycon", "--mime-order", "plain")
    try:
        t.wait_for(r"In \[1\]: ")
        screen = t.run("from IPython.display import HTML; display(HTML('<b>zz-bold</b>'))")
        assert "<IPython.core.display.HTML object>" in screen
        assert "zz-bold</b>')" in screen  # only the typed code shows the text
    finally:
        t.close()
