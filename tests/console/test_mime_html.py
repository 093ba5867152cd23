"""HTML rendering: pandas DataFrame tables as aligned text, formatted text, broken markup."""

from __future__ import annotations

import pytest

from console.mime import MimeOptions, render_bundle
from console.mime.style import strip_ansi, text_width

# Literal HTML as pandas 2.x DataFrame._repr_html_() emits it (style block included).
PANDAS_STYLE = """<style scoped>
    .dataframe tbody tr th:only-of-type {
        vertical-align: middle;
    }

    .dataframe tbody tr th {
        vertical-align: top;
    }

    .dataframe thead th {
        text-align: right;
    }
</style>
"""

DF_HTML = (
    "<div>\n"
    + PANDAS_STYLE
    + """<table border="1" class="dataframe">
  <thead>
    <tr style="text-align: right;">
      <th></th>
      <th>name</th>
      <th>age</th>
      <th>score</th>
      <th>city</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Alice</td>
      <td>30</td>
      <td>1.500</td>
      <td>Paris</td>
    </tr>
    <tr>
      <th>1</th>
      <td>Bob</td>
      <td>25</td>
      <td>NaN</td>
      <td>Berlin</td>
    </tr>
    <tr>
      <th>2</th>
      <td>Charlotte</td>
      <td>41</td>
      <td>-3.250</td>
      <td>Rio de Janeiro</td>
    </tr>
  </tbody>
</table>
</div>"""
)

# A MultiIndex on both axes, with a named index (pandas writes colspan/rowspan and a names row).
MULTI_HTML = (
    "<div>\n"
    + PANDAS_STYLE
    + """<table border="1" class="dataframe">
  <thead>
    <tr>
      <th></th>
      <th></th>
      <th colspan="2" halign="left">sales</th>
      <th>cost</th>
    </tr>
    <tr>
      <th></th>
      <th></th>
      <th>q1</th>
      <th>q2</th>
      <th>q1</th>
    </tr>
    <tr>
      <th>region</th>
      <th>shop</th>
      <th></th>
      <th></th>
      <th></th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th rowspan="2" valign="top">north</th>
      <th>a</th>
      <td>10</td>
      <td>11</td>
      <td>5</td>
    </tr>
    <tr>
      <th>b</th>
      <td>20</td>
      <td>21</td>
      <td>6</td>
    </tr>
    <tr>
      <th>south</th>
      <th>c</th>
      <td>30</td>
      <td>31</td>
      <td>7</td>
    </tr>
  </tbody>
</table>
</div>"""
)


def wide_df_html(ncols: int, nrows: int) -> str:
    head = "".join(f"<th>column_{c}</th>" for c in range(ncols))
    body = "".join(
        "<tr><th>"
        + str(r)
        + "</th>"
        + "".join(f"<td>{r * c * 1.25:.3f}</td>" for c in range(ncols))
        + "</tr>"
        for r in range(nrows)
    )
    return (
        f'<div>{PANDAS_STYLE}<table border="1" class="dataframe"><thead><tr style="text-align: right;">'
        f"<th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>{nrows} rows × {ncols} columns</p></div>"
    )


def html(text: str, width: int = 80, depth: str = "truecolor") -> str:
    return render_bundle(
        {"text/html": text, "text/plain": "PLAIN"}, {}, MimeOptions(width=width, color_depth=depth)
    )


def test_dataframe_is_an_aligned_table() -> None:
    lines = strip_ansi(html(DF_HTML)).split("\n")
    assert lines == [
        "   name       age   score  city",
        "─  ─────────  ───  ──────  ──────────────",
        "0  Alice       30   1.500  Paris",
        "1  Bob         25     NaN  Berlin",
        "2  Charlotte   41  -3.250  Rio de Janeiro",
    ]


def test_dataframe_headers_are_bold_and_styles_dropped() -> None:
    out = html(DF_HTML)
    assert "\x1b[1mname\x1b[0m" in out
    assert "vertical-align" not in out and ".dataframe" not in out


@pytest.mark.parametrize("width", [20, 30, 40, 60])
def test_narrow_terminal_table_fits_width(width: int) -> None:
    lines = strip_ansi(html(DF_HTML, width=width)).split("\n")
    assert max(text_width(ln) for ln in lines) <= width
    text = "\n".join(lines)
    for word in ("Alice", "Charlotte", "NaN", "-3.250", "Berlin"):
        assert word in text


def test_multiindex_dataframe() -> None:
    lines = strip_ansi(html(MULTI_HTML)).split("\n")
    assert lines[0].split() == ["sales", "cost"]
    assert lines[1].split() == ["q1", "q2", "q1"]
    assert lines[2].split() == ["region", "shop"]
    assert set(lines[3]) <= {"─", " "}
    assert lines[4].split() == ["north", "a", "10", "11", "5"]
    assert lines[5].split() == ["b", "20", "21", "6"]  # rowspan: "north" not repeated
    assert lines[6].split() == ["south", "c", "30", "31", "7"]
    # numbers are right-aligned: the body rows all end in the same column
    assert len({len(lines[4]), len(lines[5]), len(lines[6])}) == 1


def test_many_columns_split_into_groups_repeating_the_index() -> None:
    out = strip_ansi(html(wide_df_html(12, 3), width=60))
    lines = out.split("\n")
    assert max(text_width(ln) for ln in lines) <= 60
    assert "columns 1–" in out and "of 12" in out
    groups = [ln for ln in lines if ln.startswith("columns ")]
    assert len(groups) >= 2
    # the index column (0, 1, 2) starts each body row of every group
    body_rows = [ln for ln in lines[:-1] if ln[:1].isdigit()]
    assert len(body_rows) == 3 * len(groups)
    for c in range(12):
        assert f"column_{c}" in out
    assert lines[-1] == "3 rows × 12 columns"


def test_formatted_text() -> None:
    doc = """<h1>Report</h1><p>Some <b>bold</b>, <em>italic</em> and <code>code()</code>;
    see <a href="https://example.org/docs">the docs</a>.</p>
    <h2>Items</h2><ul><li>first</li><li>second<ol><li>nested one</li><li>nested two</li></ol></li></ul>
    <pre>for i in range(3):
    print(i)</pre><blockquote>a wise quote</blockquote><hr><p>x<sup>2</sup> + H<sub>2</sub>O</p>
    <script>alert("no")</script><img src="a.png" alt="a chart">"""
    out = html(doc, width=100)
    text = strip_ansi(out)
    lines = text.split("\n")
    assert lines[0] == "Report" and lines[1] == "══════"
    assert "Some bold, italic and code(); see the docs <https://example.org/docs>." in text
    assert "\x1b[1mbold\x1b[0m" in out and "\x1b[3mitalic\x1b[0m" in out
    assert "• first" in text and "• second" in text
    assert "  1. nested one" in text and "  2. nested two" in text
    assert "  for i in range(3):\n      print(i)" in text
    assert "│ a wise quote" in text
    assert "─" * 100 in text
    assert "x² + H₂O" in text
    assert "alert" not in text
    assert "[a chart]" in text


def test_paragraph_wraps_at_width() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    lines = strip_ansi(html(f"<p>{words}</p>", width=33)).split("\n")
    assert len(lines) > 5 and max(map(text_width, lines)) <= 33
    assert " ".join(lines).split() == words.split()


def test_long_url_and_wide_characters_are_cut_to_width() -> None:
    doc = (
        "<p>"
        + "x" * 200
        + " 漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字 <a href='https://e.org/"
        + "p" * 100
        + "'>l</a></p>"
    )
    lines = strip_ansi(html(doc, width=25)).split("\n")
    assert max(map(text_width, lines)) <= 25


@pytest.mark.parametrize(
    "broken",
    [
        "<table><tr><td>a<td>b<tr><td>c",
        "<ul><li>one<li>two",
        "<b>unclosed <i>tags <a href='x'>link",
        "</p></div></table></li>",
        "<pre>never closed",
        "<table><td colspan='abc' rowspan='-3'>x</td></table>",
        "<<<>>>&&&;;&#xZZ;&bogus;",
        "<h1><h2>nested headings</h1>",
        "<table><caption>c</caption></table>",
        "<div>" * 500 + "deep" + "</div>" * 10,
    ],
)
def test_broken_html_never_raises(broken: str) -> None:
    out = html(broken, width=40)
    assert isinstance(out, str)
    assert max(map(text_width, strip_ansi(out).split("\n"))) <= 40


def test_broken_table_still_readable() -> None:
    lines = strip_ansi(html("<table><tr><td>a<td>b<tr><td>c")).split("\n")
    assert lines == ["a  b", "c"]


def test_empty_table_falls_back_to_plain() -> None:
    empty_df = (
        '<div><table border="1" class="dataframe"><thead><tr style="text-align: right;"><th></th>'
        "</tr></thead><tbody></tbody></table></div>"
    )
    plain = "Empty DataFrame\nColumns: []\nIndex: []"
    assert render_bundle({"text/html": empty_df, "text/plain": plain}, {}, MimeOptions()) == plain


def test_html_with_only_script_falls_back_to_plain() -> None:
    out = render_bundle(
        {"text/html": "<script>x=1</script><style>p{}</style>", "text/plain": "PLAIN"},
        {},
        MimeOptions(),
    )
    assert out == "PLAIN"


@pytest.mark.parametrize("depth", ["truecolor", "256", "16", "mono"])
def test_colour_depths(depth: str) -> None:
    out = html('<h1>T</h1><a href="https://x.org">x</a> <code>c</code>', depth=depth)
    if depth == "mono":
        assert "38;" not in out and "\x1b[1m" in out  # attributes only, no colours
    elif depth == "16":
        assert "38;2" not in out and "38;5" not in out
        assert "\x1b[1;96mT" in out and "\x1b[93mc" in out  # bright cyan heading, yellow code
    elif depth == "256":
        assert "38;5;" in out and "38;2" not in out
    else:
        assert "38;2;" in out
    assert strip_ansi(out).startswith("T\n═")


def test_huge_html_is_cut_with_a_note() -> None:
    rows = "".join(f"<tr><th>{i}</th><td>{i * 2}</td></tr>" for i in range(200_000))
    out = render_bundle(
        {
            "text/html": f"<table><thead><tr><th></th><th>v</th></tr></thead><tbody>{rows}</tbody></table>"
        },
        {},
        MimeOptions(),
    )
    text = strip_ansi(out)
    lines = text.split("\n")
    assert len(lines) <= 1010
    assert "more rows not shown" in text or "output cut" in text
    assert "input cut to its first 200,000" in text


def _png_b64() -> str:
    import base64
    from pathlib import Path

    return base64.b64encode((Path(__file__).parent / "data" / "mpl_plot.png").read_bytes()).decode()


def test_inline_data_uri_images_are_shown() -> None:
    doc = f'<h3>Chart</h3><img src="data:image/png;base64,{_png_b64()}" alt="chart"><p>after</p>'
    out = render_bundle({"text/html": doc}, {}, MimeOptions(width=40, graphics="blocks"))
    lines = strip_ansi(out).split("\n")
    assert lines[0] == "Chart" and lines[-1] == "after"
    assert "[image/png, 100×75 px]" in lines
    assert sum(1 for ln in lines if set(ln) <= {"▀", "▄", " "} and ln) == 15  # 40 × 75/100 / 2
    assert max(map(text_width, lines)) <= 40


def test_images_that_cannot_be_shown_leave_their_alt_text() -> None:
    doc = (
        '<img src="data:image/png;base64,AAAA" alt="broken"><img src="https://e.org/x.png" alt="remote">'
        f'<table><tr><td><img src="data:image/png;base64,{_png_b64()}" alt="in a cell"></td></tr></table>'
    )
    out = strip_ansi(render_bundle({"text/html": doc}, {}, MimeOptions(graphics="blocks")))
    assert out == "[broken]\n\n[remote]\n\n[in a cell]"


def test_unclosed_tag_floods_do_not_take_quadratic_time() -> None:
    # html.parser rescans from each stray "<" to the end: "<b " * 20000 took over a minute.
    out = strip_ansi(html("<b " * 20000))
    assert out.startswith("<b <b <b")
    assert strip_ansi(html("<p>a < b and c<d</p>")) == "a < b and c<d"


def test_huge_tables_are_bounded_with_notes() -> None:
    wide = "<table><tr>" + "<td>x</td>" * 5000 + "</tr></table>"
    lines = strip_ansi(html(wide)).split("\n")
    assert lines[-1] == "… 4,800 more columns not shown"
    tall = "<table>" + "<tr><td>1</td><td>2</td></tr>" * 5000 + "</table>"
    lines = strip_ansi(html(tall)).split("\n")
    assert len(lines) == 501 and lines[-1] == "… 4,500 more rows not shown"
    spans = "<table>" + "<tr><td rowspan=100000>x</td></tr>" * 2000 + "</table>"
    out = strip_ansi(html(spans))
    assert "more rows not shown" in out and len(out.split("\n")) <= 1000
