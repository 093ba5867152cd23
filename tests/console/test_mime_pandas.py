"""Real pandas DataFrames (when pandas is installed): their HTML repr as aligned text tables."""

from __future__ import annotations

import pytest

from console.mime import MimeOptions, render_bundle
from console.mime.style import strip_ansi, text_width

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")


def shown(df: object, width: int = 80) -> list[str]:
    data = {"text/html": df._repr_html_(), "text/plain": repr(df)}  # type: ignore[attr-defined]
    return strip_ansi(render_bundle(data, {}, MimeOptions(width=width))).split("\n")


def test_simple_frame_matches_pandas_text_layout() -> None:
    df = pd.DataFrame(
        {"name": ["Alice", "Bob", "Charlotte"], "age": [30, 25, 41], "score": [1.5, np.nan, -3.25]}
    )
    assert shown(df) == [
        "   name       age  score",
        "─  ─────────  ───  ─────",
        "0  Alice       30   1.50",
        "1  Bob         25    NaN",
        "2  Charlotte   41  -3.25",
    ]


def test_multiindex_frame() -> None:
    df = pd.DataFrame(
        np.arange(12).reshape(4, 3),
        index=pd.MultiIndex.from_product([["x", "y"], ["a", "b"]], names=["outer", "inner"]),
        columns=pd.MultiIndex.from_tuples([("s", "q1"), ("s", "q2"), ("c", "q1")]),
    )
    lines = shown(df)
    assert [ln.split() for ln in lines] == [
        ["s", "c"],
        ["q1", "q2", "q1"],
        ["outer", "inner"],
        ["─────", "─────", "──", "──", "──"],
        ["x", "a", "0", "1", "2"],
        ["b", "3", "4", "5"],
        ["y", "a", "6", "7", "8"],
        ["b", "9", "10", "11"],
    ]


@pytest.mark.parametrize("width", [30, 60, 100])
def test_big_truncated_frame_fits_and_keeps_pandas_ellipses(width: int) -> None:
    df = pd.DataFrame(np.arange(200 * 30).reshape(200, 30), columns=[f"col{i}" for i in range(30)])
    lines = shown(df, width)
    assert max(text_width(ln) for ln in lines) <= width
    assert any(ln.split()[:2] == ["...", "..."] for ln in lines)  # pandas' row ellipsis
    assert lines[-1] == "200 rows × 30 columns"
    assert any(ln.startswith("columns 1–") for ln in lines)  # split into column groups
