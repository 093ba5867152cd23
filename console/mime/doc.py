"""A small document model shared by the HTML and Markdown renderers, and its layout to lines.

Parsers produce blocks (headings, paragraphs, lists, code, tables...) made of inline spans that
carry marks ("b", "i", "code", "url"...).  :func:`layout` wraps them to a width and paints them
for a colour depth.  Tables are laid out as aligned text tables that fit the width: columns are
narrowed and wrapped first, and when even that is too wide the table is split into column groups
(repeating the row labels), as pandas does in plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .style import PLAIN, RAW, Piece, Style, char_width, render_line, text_width

# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Span:
    """Inline text with a set of marks: b, i, u, s, code, link, url, math, key."""

    text: str
    marks: frozenset[str] = frozenset()


@dataclass
class Heading:
    level: int
    spans: list[Span]


@dataclass
class Para:
    spans: list[Span]


@dataclass
class Code:
    text: str
    lang: str = ""


@dataclass
class ListBlock:
    ordered: bool
    items: list[list[Block]]
    start: int = 1


@dataclass
class Quote:
    blocks: list[Block]


@dataclass
class Rule:
    pass


@dataclass
class Cell:
    spans: list[Span]
    header: bool = False
    colspan: int = 1
    align: str = ""  # "", "left", "right", "center"


@dataclass
class Table:
    rows: list[list[Cell]]
    header_rows: int = 0
    caption: list[Span] = field(default_factory=list)
    dropped_rows: int = 0  # rows a parser left out (beyond MAX_TABLE_ROWS)
    dropped_cols: int = 0  # cells a parser left out of its widest row (beyond MAX_TABLE_COLS)


@dataclass
class Note:
    """A dim one-line remark (e.g. "image not shown")."""

    text: str


Highlighter = Callable[[str, str], list[list[Piece]]]
"""Turns (code, language) into lines of styled pieces."""

PictureRenderer = Callable[[str, str, int], "list[str] | None"]
"""Turns (mime, payload, width) into painted terminal lines, or None when it cannot."""


@dataclass
class Picture:
    """An image embedded in the document (an HTML data: URI): shown like a display's image."""

    mime: str
    data: str
    alt: str = ""


Block = Heading | Para | Code | ListBlock | Quote | Rule | Table | Note | Picture

# ---------------------------------------------------------------- theme

_MARK_STYLES: dict[str, Style] = {
    "b": Style(bold=True),
    "i": Style(italic=True),
    "u": Style(underline=True),
    "s": Style(strike=True),
    "code": Style(fg=(229, 192, 123)),
    "link": Style(fg=(97, 175, 239), underline=True),
    "url": Style(dim=True),
    "math": Style(fg=(198, 120, 221)),
    "key": Style(bold=True),
}
_HEADING_STYLES = {
    1: Style(bold=True, fg=(97, 175, 239)),
    2: Style(bold=True, fg=(86, 182, 194)),
    3: Style(bold=True, fg=(152, 195, 121)),
}
_RULE_STYLE = Style(dim=True)
_BULLETS = ("•", "◦", "▪", "‣")
_GAP = 2


@lru_cache(maxsize=256)
def style_for(marks: frozenset[str]) -> Style:
    """The terminal style of a set of inline marks."""
    style = PLAIN
    for mark in sorted(marks):
        extra = _MARK_STYLES.get(mark)
        if extra is not None:
            style = style.merge(extra)
    return style


def _heading_style(level: int) -> Style:
    return _HEADING_STYLES.get(level, Style(bold=True))


# ---------------------------------------------------------------- inline wrapping

_SPLIT_RE = re.compile(r"(\n| +)")


def wrap_spans(spans: Sequence[Span], width: int, base: Style = PLAIN) -> list[list[Piece]]:
    """Greedy word wrap of inline spans to ``width`` columns; "\\n" in a span forces a break.

    Words longer than the width are cut; no line is ever wider than ``width``.
    """
    width = max(1, width)
    lines: list[list[Piece]] = []
    cur: list[Piece] = []
    cur_w = 0
    pending: Style | None = None
    word: list[Piece] = []
    word_w = 0

    def place_word() -> None:
        nonlocal cur, cur_w, pending, word, word_w
        if not word:
            return
        sep = 1 if pending is not None and cur else 0
        if cur_w + sep + word_w <= width:
            if sep and pending is not None:
                cur.append((" ", pending))
                cur_w += 1
            cur.extend(word)
            cur_w += word_w
        else:
            if cur:
                lines.append(cur)
                cur, cur_w = [], 0
            cur, cur_w = _hard_wrap(word, width, lines, cur, cur_w)
        pending = None
        word, word_w = [], 0

    for span in spans:
        style = base.merge(style_for(span.marks)) if span.marks else base
        for tok in _SPLIT_RE.split(span.text):
            if not tok:
                continue
            if tok == "\n":
                place_word()
                lines.append(cur)
                cur, cur_w, pending = [], 0, None
            elif tok[0] == " ":
                place_word()
                if cur or word:
                    pending = style
            else:
                word.append((tok, style))
                word_w += text_width(tok)
    place_word()
    if cur or not lines:
        lines.append(cur)
    return lines


def spans_text(spans: Sequence[Span]) -> str:
    """The plain text of some spans."""
    return "".join(s.text for s in spans)


# ---------------------------------------------------------------- blocks


def layout(
    blocks: Sequence[Block],
    width: int,
    depth: str,
    highlight: Highlighter | None = None,
    picture: PictureRenderer | None = None,
) -> list[str]:
    """Lay out blocks to painted terminal lines at most ``width`` columns wide."""
    lines = layout_pieces(blocks, width, highlight, picture)
    return [render_line(line, depth) for line in lines]


def layout_pieces(
    blocks: Sequence[Block],
    width: int,
    highlight: Highlighter | None = None,
    picture: PictureRenderer | None = None,
) -> list[list[Piece]]:
    """Like :func:`layout`, but returns unpainted pieces (pictures as RAW pieces)."""
    return _Layout(width, highlight, picture).blocks(blocks, tight=False)


class _Layout:
    """Turns blocks into lines of pieces for one width."""

    def __init__(
        self, width: int, highlight: Highlighter | None, picture: PictureRenderer | None = None
    ) -> None:
        self.width = max(8, width)
        self.highlight = highlight
        self.picture = picture

    def blocks(
        self, blocks: Sequence[Block], tight: bool, width: int | None = None
    ) -> list[list[Piece]]:
        width = self.width if width is None else max(4, width)
        out: list[list[Piece]] = []
        for block in blocks:
            lines = self.block(block, width)
            if not lines:
                continue
            if out and not tight:
                out.append([])
            out.extend(lines)
        return out

    def block(self, block: Block, width: int) -> list[list[Piece]]:
        if isinstance(block, Para):
            if not any(s.text.strip() for s in block.spans):
                return []
            return wrap_spans(block.spans, width)
        if isinstance(block, Heading):
            style = _heading_style(block.level)
            lines = wrap_spans(block.spans, width, style)
            if block.level <= 2 and lines:
                w = min(width, max(sum(text_width(t) for t, _ in ln) for ln in lines))
                lines.append(
                    [(("═" if block.level == 1 else "─") * max(w, 1), Style(fg=style.fg, dim=True))]
                )
            return lines
        if isinstance(block, Code):
            return self.code(block, width)
        if isinstance(block, ListBlock):
            return self.list_block(block, width)
        if isinstance(block, Quote):
            bar: Piece = ("│ ", Style(dim=True))
            return [[bar, *ln] for ln in self.blocks(block.blocks, False, width - 2)]
        if isinstance(block, Rule):
            return [[("─" * width, _RULE_STYLE)]]
        if isinstance(block, Table):
            return layout_table(block, width)
        if isinstance(block, Picture):
            painted = self.picture(block.mime, block.data, width) if self.picture else None
            if painted:
                return [[(line, RAW)] for line in painted]
            return wrap_spans([Span(f"[{block.alt or block.mime}]", frozenset({"i"}))], width)
        if isinstance(block, Note):
            return wrap_spans([Span(block.text)], width, Style(dim=True))
        return []

    def code(self, block: Code, width: int) -> list[list[Piece]]:
        text = block.text.rstrip("\n").expandtabs(4)
        if block.lang == "math":
            src_lines = [[(ln, style_for(frozenset({"math"})))] for ln in text.split("\n")]
        elif self.highlight is not None:
            src_lines = self.highlight(text, block.lang)
        else:
            src_lines = [[(ln, PLAIN)] for ln in text.split("\n")]
        inner = max(4, width - 2)
        out: list[list[Piece]] = []
        for line in src_lines:
            for part in cut_pieces(line, inner):
                out.append([("  ", PLAIN), *part])
        return out

    def list_block(self, block: ListBlock, width: int, depth: int = 0) -> list[list[Piece]]:
        if block.ordered:
            markers = [f"{block.start + i}." for i in range(len(block.items))]
        else:
            markers = [_BULLETS[depth % len(_BULLETS)]] * len(block.items)
        mw = max((text_width(m) for m in markers), default=1) + 1
        out: list[list[Piece]] = []
        loose = any(
            sum(1 for b in item if not isinstance(b, ListBlock)) > 1 for item in block.items
        )
        for marker, item in zip(markers, block.items, strict=True):
            body: list[list[Piece]] = []
            for b in item:
                if isinstance(b, ListBlock):
                    body.extend(self.list_block(b, width - mw, depth + 1))
                else:
                    if body and loose:
                        body.append([])
                    body.extend(self.block(b, width - mw))
            if not body:
                body = [[]]
            if loose and out:
                out.append([])
            head: Piece = (
                marker.rjust(mw - 1) + " " if block.ordered else marker + " ",
                Style(fg=(97, 175, 239)),
            )
            out.append([head, *body[0]])
            out.extend([(" " * mw, PLAIN), *ln] if ln else [] for ln in body[1:])
        return out


def cut_pieces(line: list[Piece], width: int) -> list[list[Piece]]:
    """Hard-wrap one line of pieces into lines at most ``width`` columns wide."""
    out: list[list[Piece]] = []
    cur, _ = _hard_wrap(line, max(1, width), out, [], 0)
    out.append(cur)
    return out


def _hard_wrap(
    pieces: Sequence[Piece], width: int, lines: list[list[Piece]], cur: list[Piece], used: int
) -> tuple[list[Piece], int]:
    """Append ``pieces`` to the line ``cur`` (``used`` columns), breaking anywhere at ``width``.

    Finished lines go to ``lines``; returns the unfinished line and its width.  Linear in the
    text's length, so a 100 kB word costs no more than 100 kB of words.
    """
    for text, st in pieces:
        pos, n = 0, len(text)
        fast = text.isascii() and text.isprintable()
        while pos < n:
            room = width - used
            if room <= 0:
                lines.append(cur)
                cur, used, room = [], 0, width
            if fast:
                end = min(n, pos + room)
                w = end - pos
            else:
                end, w = pos, 0
                while end < n and w + (cw := char_width(text[end])) <= room:
                    w += cw
                    end += 1
                if end == pos:  # a double-width character in a one-column gap
                    if cur:
                        lines.append(cur)
                        cur, used = [], 0
                        continue
                    end, w = pos + 1, char_width(text[pos])
            cur.append((text[pos:end], st))
            used += w
            pos = end
    return cur, used


# ---------------------------------------------------------------- tables

_NUMBER_RE = re.compile(
    r"^\s*[-+−]?(?:\d[\d,_ ]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*%?\s*$"
    r"|^\s*(?:[-+]?(?:nan|NaN|inf|Inf|∞)|None|NaT|<NA>|True|False|…|\.\.\.)\s*$"
)
_HAS_DIGIT = re.compile(r"\d")

MAX_TABLE_ROWS = 500
"""Rows of one table laid out; the rest are counted in a note."""
MAX_TABLE_LINES = 900
"""Lines one table may take (below the output's own limit, so the table's notes are seen)."""
MAX_TABLE_COLS = 200
"""Columns of one table laid out; the rest are counted in a note."""


def _grid(table: Table) -> tuple[list[list[Cell | None]], int]:
    ncols = max((sum(max(1, c.colspan) for c in row) for row in table.rows), default=0)
    ncols = min(ncols, MAX_TABLE_COLS)
    grid: list[list[Cell | None]] = []
    for row in table.rows:
        g: list[Cell | None] = []
        for cell in row:
            g.append(cell)
            g.extend([None] * (max(1, cell.colspan) - 1))
        g.extend(Cell([]) for _ in range(ncols - len(g)))
        grid.append(g[:ncols])
    return grid, ncols


def _fit(nat: list[int], mins: list[int], width: int) -> list[int] | None:
    """Column widths fitting ``width`` by capping the widest columns, or None if impossible."""
    n = len(nat)
    budget = width - _GAP * (n - 1)
    if sum(nat) <= budget:
        return list(nat)
    if sum(mins) > budget:
        return None
    lo, hi = 1, max(nat)
    while lo < hi:  # largest cap that fits
        mid = (lo + hi + 1) // 2
        if sum(min(w, max(mid, m)) for w, m in zip(nat, mins, strict=True)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    ws = [min(w, max(lo, m)) for w, m in zip(nat, mins, strict=True)]
    spare = budget - sum(ws)
    for i in sorted(range(n), key=lambda i: nat[i] - ws[i], reverse=True):
        if spare <= 0:
            break
        add = min(spare, nat[i] - ws[i])
        ws[i] += add
        spare -= add
    return ws


def layout_table(table: Table, width: int) -> list[list[Piece]]:
    """Aligned text table, at most ``width`` columns wide (split in column groups if needed)."""
    width = max(8, width)
    rows = table.rows
    dropped = table.dropped_rows
    if len(rows) > MAX_TABLE_ROWS:
        dropped += len(rows) - MAX_TABLE_ROWS
        rows = rows[:MAX_TABLE_ROWS]
        table = Table(rows, table.header_rows, table.caption, 0, table.dropped_cols)
    all_cols = max((sum(max(1, c.colspan) for c in row) for row in rows), default=0)
    grid, ncols = _grid(table)
    out: list[list[Piece]] = []
    if table.caption:
        out.extend(wrap_spans(table.caption, width, Style(italic=True)))
    if ncols == 0:
        return out
    hdr = min(table.header_rows, len(grid))
    body = grid[hdr:]

    nat = [1] * ncols
    mins = [1] * ncols
    numeric = [True] * ncols
    seen_value = [False] * ncols
    label = [True] * ncols  # all body cells are header cells (row labels)
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            text = spans_text(cell.spans)
            if cell.colspan <= 1:
                parts = text.split("\n")
                nat[c] = max(nat[c], max(text_width(p) for p in parts))
                longest = max((text_width(w) for w in text.split()), default=0)
                mins[c] = max(mins[c], min(longest, 10))
            if r >= hdr:
                if not cell.header:
                    label[c] = False
                if text.strip():
                    seen_value[c] = True
                    if not (
                        _NUMBER_RE.match(text)
                        and (_HAS_DIGIT.search(text) or len(text.strip()) < 6)
                    ):
                        numeric[c] = False
    right = [numeric[c] and seen_value[c] for c in range(ncols)]
    if not body:
        label = [False] * ncols
    nlabels = 0
    while nlabels < ncols and label[nlabels]:
        nlabels += 1
    mins = [min(m, n) for m, n in zip(mins, nat, strict=True)]

    groups: list[tuple[list[int], list[int]]] = []
    lead: list[int] = []
    ws = _fit(nat, mins, width)
    if ws is not None:
        groups.append((list(range(ncols)), ws))
    else:
        lead = list(range(nlabels)) if sum(mins[:nlabels]) + _GAP * nlabels <= width // 2 else []
        c = len(lead)
        while c < ncols:
            cols = list(lead)
            while c < ncols:
                trial = [*cols, c]
                if (
                    len(cols) > len(lead)
                    and _fit([nat[i] for i in trial], [mins[i] for i in trial], width) is None
                ):
                    break
                cols.append(c)
                c += 1
            fitted = _fit([nat[i] for i in cols], [mins[i] for i in cols], width)
            if fitted is None:  # a single column wider than the terminal
                fitted = [max(1, width - _GAP * (len(cols) - 1)) // len(cols)] * len(cols)
            groups.append((cols, fitted))

    budget = MAX_TABLE_LINES
    cut_groups = 0
    for gi, (cols, widths) in enumerate(groups):
        if len(out) >= budget:
            cut_groups = len(groups) - gi
            break
        if gi:
            out.append([])
        if len(groups) > 1:
            data_cols = [c for c in cols if c >= nlabels]  # row labels are not counted
            if data_cols:
                first, last = data_cols[0] - nlabels + 1, data_cols[-1] - nlabels + 1
                out.append([(f"columns {first}–{last} of {ncols - nlabels}", Style(dim=True))])
        wmap = dict(zip(cols, widths, strict=True))
        for r, row in enumerate(grid):
            if len(out) >= budget:
                dropped += len(grid) - r if gi == 0 else 0
                break
            out.extend(_table_row(row, cols, wmap, right))
            if r == hdr - 1:
                out.append(_rule_row(cols, wmap))
    note = Style(dim=True)
    if dropped:
        out.append([(f"… {_count(dropped, 'more row')} not shown", note)])
    if cut_groups:
        out.append([(f"… {_count(cut_groups, 'more group')} of columns not shown", note)])
    hidden_cols = all_cols - ncols + table.dropped_cols
    if hidden_cols > 0:
        out.append([(f"… {_count(hidden_cols, 'more column')} not shown", note)])
    return out


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _rule_row(cols: list[int], wmap: dict[int, int]) -> list[Piece]:
    pieces: list[Piece] = []
    for i, c in enumerate(cols):
        if i:
            pieces.append((" " * _GAP, PLAIN))
        pieces.append(("─" * wmap[c], Style(dim=True)))
    return pieces


def _table_row(
    row: list[Cell | None], cols: list[int], wmap: dict[int, int], right: list[bool]
) -> list[list[Piece]]:
    placed: list[tuple[int, list[list[Piece]], str]] = []  # (width, lines, align)
    i = 0
    while i < len(cols):
        c = cols[i]
        start = c
        while start > 0 and row[start] is None:
            start -= 1
        cell = row[start] or Cell([])
        end = start + max(1, cell.colspan)
        span_w = wmap[c]
        j = i + 1
        while j < len(cols) and cols[j] == cols[j - 1] + 1 and cols[j] < end:
            span_w += _GAP + wmap[cols[j]]
            j += 1
        base = Style(bold=True) if cell.header else PLAIN
        lines = wrap_spans(cell.spans, span_w, base) if cell.spans else [[]]
        align = cell.align or ("right" if right[c] and j - i == 1 else "left")
        placed.append((span_w, lines, align))
        i = j
    height = max(len(p[1]) for p in placed)
    out: list[list[Piece]] = []
    for li in range(height):
        line: list[Piece] = []
        for n, (w, lines, align) in enumerate(placed):
            if n:
                line.append((" " * _GAP, PLAIN))
            content = lines[li] if li < len(lines) else []
            pad = w - sum(text_width(t) for t, _ in content)
            if align == "right":
                line.append((" " * pad, PLAIN))
                line.extend(content)
            elif align == "center":
                line.append((" " * (pad // 2), PLAIN))
                line.extend(content)
                line.append((" " * (pad - pad // 2), PLAIN))
            else:
                line.extend(content)
                line.append((" " * pad, PLAIN))
        while line and line[-1][1] == PLAIN and not line[-1][0].strip():
            line.pop()
        out.append(line)
    return out
