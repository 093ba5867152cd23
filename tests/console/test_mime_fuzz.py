"""Property tests: any text in any rich type renders without raising and within the width."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.mime import MimeOptions, render_bundle
from console.mime.latex import latex_to_unicode
from console.mime.png import PngError, decode_png
from console.mime.style import strip_ansi, text_width

# Text built from the characters that matter to the parsers, plus anything at all.
LATEX = st.lists(
    st.sampled_from(
        [
            r"\frac{",
            r"\sqrt{",
            "}",
            "{",
            "^",
            "_",
            r"\left(",
            r"\right)",
            r"\left[",
            r"\right.",
            "&",
            r"\\",
            r"\begin{matrix}",
            r"\end{matrix}",
            r"\begin{cases}",
            r"\end{cases}",
            "x",
            "2",
            "+",
            "-",
            "=",
            r"\alpha",
            r"\sum",
            r"\int",
            r"\text{a b}",
            " ",
            r"\mathbb{R}",
            r"\hat{x}",
            "'",
        ]
    ),
    max_size=40,
).map("".join)
MARKUP = st.text(
    alphabet=st.sampled_from(list("<>/=\"'&;#*_`~[]()!|-+:$\\^{} \n\tabcxyz0129漢é"))
    | st.characters(),
    max_size=300,
)
TAGS = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<b>",
            "</b>",
            "<table>",
            "<tr>",
            "<td>",
            "<th colspan=3>",
            "<td rowspan=2>",
            "</table>",
            "<ul>",
            "<li>",
            "</ul>",
            "<pre>",
            "</pre>",
            "<a href='u'>",
            "</a>",
            "<h2>",
            "</h2>",
            "<br>",
            "text ",
            "longwordwithoutanyspacesatallthatgoesonandon ",
            "東京 ",
            "<script>",
            "</script>",
            "<blockquote>",
        ]
    ),
    max_size=60,
).map("".join)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fits(out: str, width: int) -> bool:
    return all(text_width(line) <= width for line in strip_ansi(out).split("\n"))


@SETTINGS
@given(text=MARKUP | TAGS, width=st.integers(20, 120))
def test_html_never_raises_and_fits(text: str, width: int) -> None:
    out = render_bundle({"text/html": text}, {}, MimeOptions(width=width))
    assert isinstance(out, str)
    if "could not show" not in out and "shown as source" not in out:
        assert fits(out, width)


@SETTINGS
@given(text=MARKUP, width=st.integers(20, 120))
def test_markdown_never_raises_and_fits(text: str, width: int) -> None:
    out = render_bundle({"text/markdown": text}, {}, MimeOptions(width=width))
    assert isinstance(out, str)
    if "could not show" not in out:
        assert fits(out, width)


@SETTINGS
@given(text=MARKUP | LATEX)
def test_latex_never_raises(text: str) -> None:
    for display in (False, True):
        result = latex_to_unicode(text, display=display)
        assert result is None or isinstance(result, str)
    assert isinstance(
        render_bundle({"text/latex": text, "text/plain": "p"}, {}, MimeOptions()), str
    )


@SETTINGS
@given(data=st.binary(max_size=200))
def test_png_decoder_only_raises_png_error(data: bytes) -> None:
    try:
        decode_png(b"\x89PNG\r\n\x1a\n" + data)
    except PngError:
        pass
