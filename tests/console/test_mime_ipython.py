"""Bundles made by IPython's own display formatter, as ipykernel sends them, rendered."""

from __future__ import annotations

import base64

import pytest

from console.mime import MimeOptions, render_bundle
from console.mime.style import strip_ansi, text_width

display = pytest.importorskip("IPython.display")
formatters = pytest.importorskip("IPython.core.formatters")


def bundle_of(obj: object) -> tuple[dict[str, object], dict[str, object]]:
    data, metadata = formatters.DisplayFormatter().format(obj)
    return data, metadata


def shown(obj: object, width: int = 80) -> str:
    data, metadata = bundle_of(obj)
    return strip_ansi(render_bundle(data, metadata, MimeOptions(width=width)))


def test_math_object() -> None:
    assert shown(display.Math(r"\alpha^2 + \beta^2 = \gamma^2")) == "α² + β² = γ²"
    lines = shown(display.Math(r"x = \frac{a}{b+1}")).split("\n")
    assert lines == ["       a", "x = ───────", "     b + 1"]


def test_latex_object_with_text_and_math() -> None:
    out = shown(display.Latex(r"Energy $E = mc^2$ and momentum \[p = mv\]"))
    assert out == "Energy E = mc² and momentum\n  p = mv"


def test_markdown_object() -> None:
    out = shown(display.Markdown("## Title\n\n*emphasis* and `code`\n\n- one\n- two"))
    assert out.split("\n") == ["Title", "─────", "", "emphasis and code", "", "• one", "• two"]


def test_json_object() -> None:
    out = shown(display.JSON({"name": "mycon", "tags": ["a", "b"]}))
    assert out == '{\n  "name": "mycon",\n  "tags": [\n    "a",\n    "b"\n  ]\n}'


def test_code_object_html_is_readable_code() -> None:
    out = shown(display.Code("def f(x):\n    return x + 1", language="python"))
    assert "def f(x):\n      return x + 1" in out
    assert "line-height" not in out  # the stylesheet is dropped


def test_html_object() -> None:
    out = shown(
        display.HTML("<h3>Result</h3><p>Value: <b>42</b> (<a href='https://x.org'>source</a>)</p>")
    )
    assert out == "Result\n\nValue: 42 (source <https://x.org>)"


def test_matplotlib_figure_as_the_inline_backend_sends_it() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure

    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.bar(["a", "b", "c"], [3, 1, 2], color="tab:green")
    png = print_figure(fig, "png")
    plt.close(fig)
    data = {
        "image/png": base64.b64encode(png).decode(),
        "text/plain": "<Figure size 400x300 with 1 Axes>",
    }
    out = render_bundle(data, {}, MimeOptions(width=60, graphics="blocks"))
    lines = strip_ansi(out).split("\n")
    w, h = (int(v) for v in lines[-1].split(", ")[1].split(" ")[0].split("×"))
    assert lines[-1] == f"[image/png, {w}×{h} px]"
    assert all(text_width(line) == min(60, w) for line in lines[:-1])
    assert "38;2;44;160;44" in out or "48;2;44;160;44" in out  # tab:green bars, exactly


def test_image_object_with_width_metadata() -> None:
    from pathlib import Path

    png = (Path(__file__).parent / "data" / "mpl_plot.png").read_bytes()
    data, metadata = bundle_of(display.Image(data=png, width=30))
    assert metadata == {"image/png": {"width": 30}}
    out = strip_ansi(render_bundle(data, metadata, MimeOptions(width=80, graphics="blocks")))
    assert all(text_width(line) == 30 for line in out.split("\n")[:-1])
