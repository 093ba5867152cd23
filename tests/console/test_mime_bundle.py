"""render_bundle as the console calls it: mime choice, fallbacks, JSON, huge output, detection."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from console.mime import (
    DEFAULT_ORDER,
    MimeOptions,
    detect_color_depth,
    detect_graphics,
    parse_order,
    render_bundle,
    screen_rows,
    truncate_text,
)
from console.mime.detect import GRAPHICS_QUERY, parse_graphics_reply
from console.mime.style import strip_ansi, text_width

PNG = base64.b64encode((Path(__file__).parent / "data" / "mpl_plot.png").read_bytes()).decode()


def plain(out: str) -> str:
    return strip_ansi(out)


def test_default_order_is_richest_first_with_plain_last() -> None:
    assert DEFAULT_ORDER[0] == "image/png" and DEFAULT_ORDER[-1] == "text/plain"
    assert (
        DEFAULT_ORDER.index("text/html")
        < DEFAULT_ORDER.index("text/markdown")
        < DEFAULT_ORDER.index("text/latex")
    )


def test_richest_type_wins() -> None:
    bundle = {"text/plain": "<Figure>", "text/html": "<b>html</b>", "image/png": PNG}
    assert (
        plain(render_bundle(bundle, {}, MimeOptions(graphics="none")))
        == "[image/png, 100×75 px; graphics off]"
    )
    del bundle["image/png"]
    assert plain(render_bundle(bundle, {}, MimeOptions())) == "html"


def test_user_order_changes_the_choice() -> None:
    bundle = {"text/plain": "plain text", "text/html": "<b>html</b>", "text/markdown": "*md*"}
    assert render_bundle(bundle, {}, MimeOptions(order=("text/plain",))) == "plain text"
    assert (
        plain(render_bundle(bundle, {}, MimeOptions(order=("text/markdown", "text/html")))) == "md"
    )
    # types left out of the order are not shown; text/plain stays the last resort
    assert render_bundle(bundle, {}, MimeOptions(order=("application/json",))) == "plain text"


def test_parse_order_accepts_short_names_and_rejects_unknown() -> None:
    assert parse_order("html, PNG,plain,html") == ("text/html", "image/png", "text/plain")
    assert parse_order("text/markdown,md,json") == ("text/markdown", "application/json")
    with pytest.raises(ValueError, match="unknown mime type.*pdf.*use full types or: gif, html"):
        parse_order("html,pdf")
    with pytest.raises(ValueError, match="empty"):
        parse_order(" , ")


def test_plain_text_is_verbatim_without_trailing_newline() -> None:
    text = "\x1b[31mred\x1b[0m  spaced\n\ttabbed"
    assert render_bundle({"text/plain": text + "\n"}, {}, MimeOptions()) == text
    assert render_bundle({"text/plain": ["a\n", "b"]}, {}, MimeOptions()) == "a\nb"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "no representation mycon can show (types: none)"),
        ({"application/vnd.custom+json": {}}, "types: application/vnd.custom+json"),
        ({"text/plain": None}, "could not show text/plain: the payload is empty (None)"),
        ({"text/plain": 42}, "could not show text/plain: payload is int, not text"),
        ({"text/html": None, "text/plain": None}, "could not show text/html"),
    ],
)
def test_nothing_to_show_says_so_in_one_dim_line_per_problem(
    data: dict[str, object], words: str
) -> None:
    out = render_bundle(data, {}, MimeOptions())
    assert words in plain(out)
    assert all(line.startswith("\x1b[2m[") for line in out.split("\n"))


@pytest.mark.parametrize("data", [None, "text", 42, ["a"], {None: 1}, {"text/plain": "x", 3: 4}])
@pytest.mark.parametrize(
    "metadata", [None, {}, "meta", {"image/png": "bad"}, {"image/png": {"width": "wide"}}]
)
def test_never_raises_on_bad_arguments(data: object, metadata: object) -> None:
    out = render_bundle(data, metadata, MimeOptions())  # type: ignore[arg-type]
    assert isinstance(out, str)


@pytest.mark.parametrize(
    "options",
    [
        MimeOptions(width=0),
        MimeOptions(width=-5),
        MimeOptions(width=10**9),
        MimeOptions(color_depth="weird"),
        MimeOptions(graphics="??"),
        MimeOptions(order=()),
        None,
    ],
)
def test_odd_options_are_tolerated(options: MimeOptions) -> None:
    out = render_bundle({"text/html": "<p>" + "word " * 50 + "</p>", "image/png": PNG}, {}, options)  # type: ignore[arg-type]
    assert "▀" in out  # blocks is the safe default for graphics


def test_json_is_indented_and_highlighted() -> None:
    data = {"name": "mycon", "version": [0, 1], "ok": True, "none": None, "nested": {"π": 3.14}}
    out = render_bundle({"application/json": data, "text/plain": "{...}"}, {}, MimeOptions())
    assert plain(out) == json.dumps(data, indent=2, ensure_ascii=False)
    assert '\x1b[38;2;224;108;117m"name"\x1b[0m' in out  # keys
    assert '\x1b[38;2;152;195;121m"mycon"\x1b[0m' in out  # strings
    mono = render_bundle({"application/json": data}, {}, MimeOptions(color_depth="mono"))
    assert "\x1b" not in mono


def test_json_given_as_text_and_invalid_json() -> None:
    assert (
        plain(render_bundle({"application/json": '{"a": 1}'}, {}, MimeOptions()))
        == '{\n  "a": 1\n}'
    )
    out = plain(
        render_bundle({"application/json": "{not json", "text/plain": "P"}, {}, MimeOptions())
    )
    assert out.startswith("P\n[could not show application/json: invalid JSON")


def test_hundred_megabyte_string_is_cut_with_a_note() -> None:
    big = "x" * 100_000_000
    out = render_bundle({"text/plain": big}, {}, MimeOptions())
    lines = out.split("\n")
    assert len(lines) == 2 and len(lines[0]) == 200_000
    assert (
        plain(lines[1]) == "… output cut: the rest of a long line not shown (99.8 MB of 100.0 MB)"
    )


def test_million_line_table_is_cut_with_a_note() -> None:
    table = "".join(f"{i:>7}  {i * 0.5:>10.1f}\n" for i in range(1_000_000))
    out = render_bundle({"text/plain": table}, {}, MimeOptions())
    lines = out.split("\n")
    assert len(lines) == 1001
    assert lines[999].split() == ["999", "499.5"]
    assert plain(lines[-1]).startswith("… output cut: 999,000 more lines not shown (")


def test_huge_json_is_cut() -> None:
    out = render_bundle({"application/json": list(range(300_000))}, {}, MimeOptions())
    assert "more lines not shown" in plain(out).split("\n")[-1]


def test_truncate_text_helper() -> None:
    assert truncate_text("short") == ("short", None)
    kept, note = truncate_text("a\nb\nc\nd\n", max_lines=2, hint="type %more to see it all")
    assert kept == "a\nb"
    assert note == "… output cut: 2 more lines not shown (5 B of 8 B); type %more to see it all"
    kept, note = truncate_text("abcdef\nxyz", max_chars=3)
    assert kept == "abc" and note is not None and "the rest of a long line and 1 more line" in note


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}, "kitty"),
        ({"TERM": "xterm-ghostty", "TERM_PROGRAM": "ghostty"}, "kitty"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, "iterm"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, "iterm"),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, "iterm"),
        ({"TERM": "foot"}, "sixel"),
        ({"TERM": "xterm-256color", "KONSOLE_VERSION": "230804"}, "sixel"),
        ({"TERM": "xterm-256color"}, "blocks"),
        ({"TERM": "screen-256color", "TMUX": "/tmp/tmux", "KITTY_WINDOW_ID": "1"}, "blocks"),
        ({"TERM": "dumb"}, "none"),
        ({}, "none"),
    ],
)
def test_detect_graphics(env: dict[str, str], mode: str) -> None:
    assert detect_graphics(env) == mode


@pytest.mark.parametrize(
    ("env", "depth"),
    [
        ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, "truecolor"),
        ({"TERM": "xterm-256color"}, "256"),
        ({"TERM": "xterm"}, "16"),
        ({"TERM": "xterm-256color", "NO_COLOR": ""}, "mono"),
        ({"TERM": "dumb"}, "mono"),
    ],
)
def test_detect_color_depth(env: dict[str, str], depth: str) -> None:
    assert detect_color_depth(env) == depth


def test_graphics_query_replies() -> None:
    assert GRAPHICS_QUERY.endswith("\x1b[c")
    assert parse_graphics_reply("\x1b_Gi=31;OK\x1b\\\x1b[?62;22c") == "kitty"
    assert parse_graphics_reply("\x1b[?62;4;6;22c") == "sixel"
    assert parse_graphics_reply("\x1b[?62;22c") is None
    assert parse_graphics_reply("") is None


def test_widths_respected_for_every_text_renderer() -> None:
    long = "lorem ipsum " * 40
    bundles = [
        {"text/html": f"<h2>{long}</h2><ul><li>{long}</li></ul><blockquote>{long}</blockquote>"},
        {"text/markdown": f"# {long}\n\n> {long}\n\n1. {long}\n"},
    ]
    for width in (20, 47, 80):
        for bundle in bundles:
            out = plain(render_bundle(bundle, {}, MimeOptions(width=width)))
            assert max(text_width(line) for line in out.split("\n")) <= width


def test_screen_rows_for_in_place_redraw() -> None:
    assert screen_rows("", 80) == 1
    assert screen_rows("a\nb", 80) == 2
    assert screen_rows("x" * 80, 80) == 1
    assert screen_rows("x" * 81, 80) == 2
    assert screen_rows("\x1b[31m" + "漢" * 41 + "\x1b[0m", 80) == 2  # 82 columns
    assert screen_rows("progress 10%\rprogress 100%", 80) == 1
    assert screen_rows("\t|", 8) == 2
    table = render_bundle(
        {"text/html": "<table><tr><td>a</td><td>b</td></tr></table>"}, {}, MimeOptions()
    )
    assert screen_rows(table, 80) == 1
    image = render_bundle({"image/png": PNG}, {}, MimeOptions(width=50, graphics="blocks"))
    assert screen_rows(image, 50) == 20  # 19 rows of blocks and the caption
    assert (
        screen_rows(render_bundle({"image/png": PNG}, {}, MimeOptions(graphics="kitty")), 80)
        is None
    )


def test_cut_never_splits_an_escape_sequence() -> None:
    image = "\x1b_Ga=T,f=100;" + "A" * 300 + "\x1b\\"
    kept, note = truncate_text("x" * 100 + image + "tail", max_chars=200)
    assert kept == "x" * 100 and note is not None  # cut before the image, not inside it
    kept, _ = truncate_text("ab\x1b[38;5;10mcolour" * 10, max_chars=5)
    assert kept == "ab"
    out = render_bundle({"text/plain": "\x1b[31m" + "red " * 100_000}, {}, MimeOptions())
    assert "\x1b[0m\n\x1b[2m… output cut" in out  # colour reset before the note
