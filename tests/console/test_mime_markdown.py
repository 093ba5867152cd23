"""Markdown rendering: headings, emphasis, lists, links, highlighted code, tables, math."""

from __future__ import annotations

import pytest

from console.mime import MimeOptions, render_bundle
from console.mime.style import strip_ansi, text_width

NOTEBOOK_MD = """# Data analysis

We load **the data**, look at *each* column and keep `df.dropna()` rows.
See the [pandas docs](https://pandas.pydata.org/docs/) or <https://numpy.org>.

## Steps

1. Load the file
2. Fit a model:
   - linear
   - quadratic
3. Plot

- [x] cleaned
- [ ] plotted

```python
import numpy as np

def rms(x):
    \"\"\"Root mean square.\"\"\"
    return np.sqrt(np.mean(x ** 2))  # one line
```

| model     | error |  time |
|:----------|------:|:-----:|
| linear    | 0.125 |   1 s |
| quadratic | 0.031 |   3 s |

> Results are **preliminary**.

The energy is $E = mc^2$ and

$$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$$

---
Done~~not~~.
"""


def md(text: str, width: int = 80, depth: str = "truecolor") -> str:
    return render_bundle(
        {"text/markdown": text, "text/plain": "<IPython.core.display.Markdown object>"},
        {},
        MimeOptions(width=width, color_depth=depth),
    )


def test_notebook_markdown_reads_well() -> None:
    out = md(NOTEBOOK_MD)
    text = strip_ansi(out)
    lines = text.split("\n")
    assert lines[:2] == ["Data analysis", "═════════════"]
    flat = " ".join(text.split())
    assert "We load the data, look at each column and keep df.dropna() rows." in flat
    assert "See the pandas docs <https://pandas.pydata.org/docs/> or https://numpy.org." in flat
    assert "Steps\n─────" in text
    assert "1. Load the file\n2. Fit a model:\n   ◦ linear\n   ◦ quadratic\n3. Plot" in text
    assert "• ☑ cleaned\n• ☐ plotted" in text
    assert "  def rms(x):" in text and "      return np.sqrt(np.mean(x ** 2))  # one line" in text
    assert "│ Results are preliminary." in text
    assert "The energy is E = mc² and" in text
    assert "             n(n + 1)\n  ∑ᵢ₌₁ⁿ i = ──────────\n                2" in text
    assert "Done" in text and "not" in text
    # styles: bold, italic, code, link, heading colour, pygments colours for the code block
    assert "\x1b[1mthe data\x1b[0m" in out
    assert "\x1b[3meach\x1b[0m" in out
    assert "\x1b[9mnot\x1b[0m" in out
    assert "\x1b[38;2;198;120;221mdef\x1b[0m" in out  # keyword
    assert "\x1b[3;38;2;127;132;142m# one line\x1b[0m" in out  # comment


def test_markdown_table_alignment() -> None:
    text = strip_ansi(md(NOTEBOOK_MD))
    start = text.index("model  ")
    table = text[start:].split("\n")[:4]
    assert table == [
        "model      error  time",
        "─────────  ─────  ────",
        "linear     0.125  1 s",
        "quadratic  0.031  3 s",
    ]


@pytest.mark.parametrize("width", [20, 40, 80])
def test_markdown_fits_width(width: int) -> None:
    lines = strip_ansi(md(NOTEBOOK_MD, width=width)).split("\n")
    assert max(text_width(ln) for ln in lines) <= width


@pytest.mark.parametrize("depth", ["256", "16", "mono"])
def test_markdown_colour_depths(depth: str) -> None:
    out = md(NOTEBOOK_MD, depth=depth)
    assert "38;2;" not in out
    if depth == "mono":
        assert "38;" not in out and "\x1b[1m" in out
    assert strip_ansi(out) == strip_ansi(md(NOTEBOOK_MD))


def test_setext_headings_rules_and_escapes() -> None:
    text = strip_ansi(md("Title\n=====\n\nSub\n---\n\n\\*not italic\\* and 2 * 3 * 4\n\n***\n"))
    assert text.split("\n")[:2] == ["Title", "═════"]
    assert "Sub\n───" in text
    assert "*not italic* and 2 * 3 * 4" in text
    assert "─" * 80 in text


def test_fenced_code_without_language_and_indented_code() -> None:
    text = strip_ansi(md("~~~\nplain *text*\n~~~\n\nPara\n\n    indented code\n    more\n"))
    assert "  plain *text*" in text
    assert "  indented code\n  more" in text


def test_html_inside_markdown() -> None:
    text = strip_ansi(
        md(
            "Intro\n\n<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>\n\nend <b>bold</b><br>next"
        )
    )
    assert "a  b\n─  ─\n1  2" in text
    assert "end bold\nnext" in text


@pytest.mark.parametrize(
    "odd",
    [
        "",
        "#",
        "```",
        "```python\nunclosed",
        "- ",
        "1.",
        "|a|\n|-|",
        "[x](",
        "**",
        "$",
        "$$",
        "> ",
        "\t\t*",
        "[a][b]",
        "*" * 1000,
        "_" * 999,
        "<div>",
        "![img]()",
    ],
)
def test_odd_markdown_never_raises(odd: str) -> None:
    out = md(odd, width=30)
    assert isinstance(out, str)
    assert all(text_width(ln) <= 30 for ln in strip_ansi(out).split("\n"))


def test_list_text_wraps_under_its_marker() -> None:
    text = strip_ansi(md("- " + " ".join(["word"] * 30), width=30))
    lines = text.split("\n")
    assert lines[0].startswith("• word")
    assert all(ln.startswith("  word") for ln in lines[1:])


def test_markdown_inline_image_paragraph() -> None:
    import base64
    from pathlib import Path

    png = base64.b64encode((Path(__file__).parent / "data" / "mpl_plot.png").read_bytes()).decode()
    out = md(f"Before\n\n![plot](data:image/png;base64,{png})\n\nAfter ![x](y.png)", width=20)
    lines = strip_ansi(out).split("\n")
    assert lines[0] == "Before" and lines[-1] == "After [x]"
    assert "[image/png, 100×75 px]" in lines


@pytest.mark.parametrize(
    "hostile",
    ["**a " * 20000, "[a](" * 20000, "![a](" * 20000, "_a " * 20000, "~~a " * 20000, "`a " * 20000],
    ids=["stars", "links", "images", "underscores", "tildes", "backticks"],
)
def test_unmatched_delimiters_do_not_take_quadratic_time(hostile: str) -> None:
    # Finishing at all is the check: these took 20-50 s each with unbounded lazy patterns.
    out = md(hostile)
    assert len(out.split("\n")) > 100
