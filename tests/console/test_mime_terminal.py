"""Rendered output written to a real terminal (tmux) and read back from its screen.

Proves that what the pure renderers count as columns is what a terminal draws: tables stay
aligned (also with double-width characters), images take exactly their width, captions show.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import base64, sys
    from console.mime import MimeOptions, render_bundle

    opts = MimeOptions(width=60, graphics="blocks", color_depth="truecolor")
    html = (
        '<table class="dataframe"><thead><tr><th></th><th>city</th><th>pop</th></tr></thead>'
        '<tbody><tr><th>0</th><td>東京</td><td>37.4</td></tr>'
        '<tr><th>1</th><td>Zürich</td><td>0.4</td></tr></tbody></table>'
    )
    md = "## Notes\\n\\n- **bold** item\\n- `code` item\\n\\n```python\\nx = [1, 2]\\n```"
    png = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
    parts = [
        render_bundle({"text/html": html}, {}, opts),
        render_bundle({"text/markdown": md}, {}, opts),
        render_bundle({"image/png": png, "text/plain": "<Figure>"}, {}, opts),
        render_bundle({"text/latex": r"$\\frac{1}{2} \\alpha^2$"}, {}, opts),
    ]
    sys.stdout.write("\\n@@\\n".join(parts) + "\\n@@END\\n")
    sys.stdout.flush()
    """
)


@pytest.fixture
def screen(tmp_path: Path) -> Iterator[list[str]]:
    """Run the script in a 100×80 tmux pane and return the screen's lines once it is done."""
    script = tmp_path / "show.py"
    script.write_text(SCRIPT)
    sock = f"mycon-mime-{uuid.uuid4().hex[:8]}"
    tmux = [TMUX or "tmux", "-L", sock, "-f", "/dev/null"]
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    env.pop("TMUX", None)
    cmd = f"{sys.executable} {script} {DATA / 'mpl_plot.png'}; tmux -L {sock} wait-for -S shown; exec cat"
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "100", "-y", "80", cmd], check=True, env=env, timeout=20
    )
    try:
        subprocess.run([*tmux, "wait-for", "shown"], check=True, timeout=30)
        out = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "0", "-S", "0", "-E", "79"],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        yield out.split("\n")
    finally:
        subprocess.run([*tmux, "kill-server"], timeout=10, capture_output=True)


def test_rendered_output_reads_right_on_a_real_terminal(screen: list[str]) -> None:
    text = "\n".join(line.rstrip() for line in screen)
    assert "@@END" in text, text
    html, md, image, latex = text.split("\n@@\n")[:4]
    html_lines = html.split("\n")
    # the table is aligned on screen, the double-width 東京 taking four columns
    assert html_lines == [
        "   city     pop",
        "─  ──────  ────",
        "0  東京    37.4",
        "1  Zürich   0.4",
    ]
    assert md.split("\n") == [
        "Notes",
        "─────",
        "",
        "• bold item",
        "• code item",
        "",
        "  x = [1, 2]",
    ]
    img_lines = image.split("\n")
    assert img_lines[-1] == "[image/png, 100×75 px]"
    blocks = img_lines[:-1]
    assert len(blocks) == 23  # 60 columns × 75/100 = 45 pixel rows, two per line
    assert all(len(line) == 60 and set(line) <= {"▀", "▄", " "} for line in blocks)
    assert latex.split("\n")[0] == "½α²"
