"""HTML to the document model of :mod:`.doc`, with the standard library's ``html.parser``.

Keeps what reads well in a terminal: headings, paragraphs, bold/italic/underline/strike, code and
pre blocks, links (text followed by the URL), lists, block quotes, rules, images (alt text) and
tables (with colspan/rowspan, as pandas writes them).  Scripts, styles, heads, SVG and forms'
internals are dropped.  Broken HTML never raises: unclosed tags are closed at the end.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from .doc import (
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    Block,
    Cell,
    Code,
    Heading,
    ListBlock,
    Note,
    Para,
    Picture,
    Quote,
    Rule,
    Span,
    Table,
)

_DROP = {
    "script",
    "style",
    "head",
    "title",
    "svg",
    "math",
    "template",
    "noscript",
    "iframe",
    "object",
    "canvas",
    "select",
}
_VOID = {
    "br",
    "hr",
    "img",
    "input",
    "meta",
    "link",
    "area",
    "base",
    "col",
    "embed",
    "param",
    "source",
    "track",
    "wbr",
}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
    "figure",
    "figcaption",
    "details",
    "summary",
    "form",
    "fieldset",
    "center",
    "address",
    "dl",
    "dt",
    "dd",
}
_INLINE_MARKS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "cite": "i",
    "var": "i",
    "dfn": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "tt": "code",
    "mark": "b",
}
_SUP = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SUB = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_WS = re.compile(r"[ \t\r\n\f]+")


class _TableState:
    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.in_head = False
        self.head_rows = 0
        self.body_started = False
        self.caption: list[Span] = []
        self.in_caption = False
        self.rowspans: dict[int, int] = {}  # column -> rows still covered
        self.dropped_rows = 0
        self.dropped_cols = 0
        self.overflow = 0  # cells of the current row beyond MAX_TABLE_COLS


class _Converter(HTMLParser):
    """Collects blocks while parsing; one instance per document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Block] = []
        self.containers: list[list[Block]] = [self.root]
        self.lists: list[ListBlock] = []
        self.quotes: list[Quote] = []
        self.inline: list[Span] = []
        self.marks: list[str] = []
        self.links: list[str | None] = []
        self.heading: int = 0
        self.drop = 0
        self.pre = 0
        self.pre_text: list[str] = []
        self.pre_lang = ""
        self.tables: list[_TableState] = []
        self.script: str = ""  # "sup" / "sub" while inside one

    # -- helpers
    @property
    def target(self) -> list[Block]:
        return self.containers[-1]

    def flush(self) -> None:
        """End the current run of inline text as a paragraph (or heading)."""
        if self.tables and self.tables[-1].cell is not None:
            return  # inside a cell, inline text belongs to the cell
        spans = _trim(self.inline)
        self.inline = []
        if not spans:
            return
        if self.heading:
            self.target.append(Heading(self.heading, spans))
        else:
            self.target.append(Para(spans))

    def add_text(self, text: str) -> None:
        if self.drop:
            return
        if self.pre:
            self.pre_text.append(text)
            return
        text = _WS.sub(" ", text)
        if not text:
            return
        if self.script == "sup":
            text = (
                text.translate(_SUP)
                if text.translate(_SUP) != text or text.isspace()
                else "^" + text
            )
        elif self.script == "sub":
            text = (
                text.translate(_SUB)
                if text.translate(_SUB) != text or text.isspace()
                else "_" + text
            )
        span = Span(text, frozenset(self.marks))
        t = self.tables[-1] if self.tables else None
        if t is not None and t.in_caption:
            t.caption.append(span)
        elif t is not None and t.cell is not None:
            t.cell.spans.append(span)
        elif t is not None:
            return  # stray text between table rows (whitespace)
        else:
            self.inline.append(span)

    def add_break(self) -> None:
        t = self.tables[-1] if self.tables else None
        if t is not None and t.cell is not None:
            t.cell.spans.append(Span("\n"))
        elif self.pre:
            self.pre_text.append("\n")
        else:
            self.inline.append(Span("\n"))

    # -- parser callbacks
    def handle_data(self, data: str) -> None:
        self.add_text(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag in _DROP:
            if tag not in _VOID:
                self.drop += 1
            return
        if self.drop:
            return
        if tag in _INLINE_MARKS:
            self.marks.append(_INLINE_MARKS[tag])
        elif tag == "a":
            href = a.get("href", "")
            self.links.append(href if href and not href.startswith(("#", "javascript:")) else None)
            self.marks.append("link")
        elif tag in ("sup", "sub"):
            self.script = tag
        elif tag == "br":
            self.add_break()
        elif tag == "img":
            alt = a.get("alt") or a.get("title") or "image"
            picture = _data_uri_picture(a.get("src", ""), alt)
            in_cell = bool(self.tables) and self.tables[-1].cell is not None
            if picture is not None and not in_cell and not self.drop:
                self.flush()
                self.target.append(picture)
            else:
                self.add_text(f"[{alt}]")
        elif tag == "pre":
            self.flush()
            self.pre += 1
            if self.pre == 1:
                self.pre_text = []
                self.pre_lang = _lang_of(a.get("class", ""))
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.flush()
            self.heading = int(tag[1])
        elif tag in ("ul", "ol", "menu"):
            self.flush()
            try:
                start = int(a.get("start", "1"))
            except ValueError:
                start = 1
            lb = ListBlock(tag == "ol", [], start)
            self.target.append(lb)
            self.lists.append(lb)
        elif tag == "li":
            self.flush()
            if not self.lists:  # stray <li>: make a list for it
                lb = ListBlock(False, [])
                self.target.append(lb)
                self.lists.append(lb)
            self._close_item()
            item: list[Block] = []
            self.lists[-1].items.append(item)
            self.containers.append(item)
        elif tag == "blockquote":
            self.flush()
            q = Quote([])
            self.target.append(q)
            self.quotes.append(q)
            self.containers.append(q.blocks)
        elif tag == "hr":
            self.flush()
            self.target.append(Rule())
        elif tag == "table":
            self.flush()
            self.tables.append(_TableState())
        elif self.tables:
            self._table_start(tag, a)
        elif tag in _BLOCK:
            self.flush()
            if tag == "dt":
                self.marks.append("b")

    def _table_start(self, tag: str, a: dict[str, str]) -> None:
        t = self.tables[-1]
        if tag == "thead":
            t.in_head = True
        elif tag in ("tbody", "tfoot"):
            t.in_head = False
            t.body_started = True
        elif tag == "caption":
            t.in_caption = True
        elif tag == "tr":
            self._end_row(t)
            t.row = []
            t.overflow = 0
            self._fill_rowspans(t)
        elif tag in ("td", "th"):
            if t.row is None:
                t.row = []
                self._fill_rowspans(t)
            self._end_cell(t)
            cell = Cell([], header=tag == "th", colspan=_int(a.get("colspan"), 1, 100))
            if len(t.row) < MAX_TABLE_COLS:
                t.row.append(cell)
            else:  # past the limit a cell still swallows its text, but is only counted
                t.overflow += 1
                t.dropped_cols = max(t.dropped_cols, t.overflow)
            t.cell = cell
            rowspan = _int(a.get("rowspan"), 1, MAX_TABLE_ROWS)
            if rowspan > 1:
                col = sum(c.colspan for c in t.row) - cell.colspan
                for k in range(cell.colspan):
                    t.rowspans[col + k] = rowspan - 1
        elif tag in ("p", "div", "li") and t.cell is not None and t.cell.spans:
            t.cell.spans.append(Span("\n"))

    def _fill_rowspans(self, t: _TableState) -> None:
        """Insert empty cells for columns covered by a rowspan from a row above."""
        if t.row is None:
            return
        col = sum(c.colspan for c in t.row)
        while t.rowspans.get(col, 0) > 0 and col < MAX_TABLE_COLS:
            t.rowspans[col] -= 1
            t.row.append(Cell([], header=True))
            col += 1

    def _end_cell(self, t: _TableState) -> None:
        if t.cell is not None:
            t.cell.spans = _trim(t.cell.spans)
            t.cell = None
            if t.row is not None:
                self._fill_rowspans(t)

    def _end_row(self, t: _TableState) -> None:
        self._end_cell(t)
        if t.row is not None:
            if t.row and len(t.rows) >= MAX_TABLE_ROWS:
                t.dropped_rows += 1  # counted, not kept: a huge table stays cheap
            elif t.row:
                t.rows.append(t.row)
                if t.in_head or (
                    not t.body_started
                    and all(c.header for c in t.row)
                    and len(t.rows) == t.head_rows + 1
                ):
                    t.head_rows = len(t.rows)
            t.row = None

    def _close_item(self) -> None:
        if self.lists and self.lists[-1].items and self.containers[-1] is self.lists[-1].items[-1]:
            self.flush()
            self.containers.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.drop = max(0, self.drop - 1)
            return
        if self.drop:
            return
        if tag in _INLINE_MARKS:
            _remove_last(self.marks, _INLINE_MARKS[tag])
        elif tag == "a":
            if "link" in self.marks:
                _remove_last(self.marks, "link")
                href = self.links.pop() if self.links else None
                if href:
                    self._append_url(href)
        elif tag in ("sup", "sub"):
            self.script = ""
        elif tag == "pre" and self.pre:
            self.pre -= 1
            if self.pre == 0:
                code = "".join(self.pre_text).strip("\n")
                self.pre_text = []
                if self.tables and self.tables[-1].cell is not None:
                    self.tables[-1].cell.spans.append(Span(code, frozenset({"code"})))
                else:
                    self.target.append(Code(code, self.pre_lang))
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.flush()
            self.heading = 0
        elif tag in ("ul", "ol", "menu"):
            if self.lists:
                self._close_item()
                self.lists.pop()
        elif tag == "li":
            self._close_item()
        elif tag == "blockquote":
            self.flush()
            if (
                self.quotes
                and len(self.containers) > 1
                and self.containers[-1] is self.quotes[-1].blocks
            ):
                self.containers.pop()
                self.quotes.pop()
        elif tag == "table":
            if self.tables:
                self._finish_table()
        elif self.tables:
            t = self.tables[-1]
            if tag in ("td", "th"):
                self._end_cell(t)
            elif tag == "tr":
                self._end_row(t)
            elif tag == "thead":
                self._end_row(t)
                t.in_head = False
            elif tag == "caption":
                t.in_caption = False
        elif tag in _BLOCK:
            if tag == "dt":
                _remove_last(self.marks, "b")
            self.flush()

    def _append_url(self, href: str) -> None:
        """After a link's text, its URL in dim brackets (unless the text already is the URL)."""
        t = self.tables[-1] if self.tables else None
        spans = t.cell.spans if t is not None and t.cell is not None else self.inline
        text = "".join(s.text for s in spans[-8:]).strip()
        if text.endswith(href) or text.endswith(href.removeprefix("mailto:")):
            return
        spans.append(Span(f" <{href}>", frozenset({"url"})))

    def _finish_table(self) -> None:
        t = self.tables.pop()
        self._end_row(t)
        table = Table(t.rows, t.head_rows, _trim(t.caption), t.dropped_rows, t.dropped_cols)
        if self.tables and self.tables[-1].cell is not None:
            # a table nested in a cell: keep its text, row by row
            outer = self.tables[-1].cell
            for row in t.rows:
                outer.spans.extend(
                    [Span(" ".join(" ".join(s.text for s in c.spans) for c in row)), Span("\n")]
                )
            return
        if any(span.text.strip() for row in t.rows for c in row for span in c.spans):
            self.target.append(table)  # a table without any text (an empty DataFrame) is left out

    def close_all(self) -> list[Block]:
        """Finish the document: close whatever the HTML left open."""
        self.close()
        while self.tables:
            self._finish_table()
        if self.pre:
            self.pre = 1
            self.handle_endtag("pre")
        self.flush()
        return self.root


_DATA_URI = re.compile(r"data:(image/(?:png|jpeg|gif|svg\+xml));base64,([A-Za-z0-9+/=\s]+)$", re.S)


def _data_uri_picture(src: str, alt: str) -> Picture | None:
    """An ``<img>`` whose image is inline (a base64 data: URI), or None."""
    m = _DATA_URI.match(src.strip())
    if not m:
        return None
    mime, payload = m.group(1), m.group(2)
    if mime == "image/svg+xml":
        try:
            payload = base64.b64decode(payload).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    return Picture(mime, payload, alt)


def _int(value: str | None, default: int, limit: int) -> int:
    try:
        return max(1, min(limit, int(value))) if value else default
    except ValueError:
        return default


def _remove_last(stack: list[str], item: str) -> None:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] == item:
            del stack[i]
            return


def _lang_of(classes: str) -> str:
    for c in classes.split():
        for prefix in ("language-", "lang-", "highlight-"):
            if c.startswith(prefix):
                return c[len(prefix) :]
    return ""


def _trim(spans: list[Span]) -> list[Span]:
    """Drop leading/trailing blanks and collapse doubled spaces across span boundaries."""
    out: list[Span] = []
    prev_space = True
    for s in spans:
        text = s.text
        if "code" not in s.marks or "\n" not in text:
            if prev_space and text.startswith(" "):
                text = text.lstrip(" ")
        if not text:
            continue
        out.append(Span(text, s.marks))
        prev_space = text.endswith((" ", "\n"))
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        last = out[-1]
        out[-1] = Span(last.text.rstrip(" "), last.marks)
    while out and out[0].text == "\n":
        out.pop(0)
    return out


_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")


def defuse(html: str) -> str:
    """Escape each ``<`` that cannot start a tag (another ``<`` or the end comes before a ``>``).

    ``html.parser`` rescans from every such ``<`` to the end of the input, which makes text like
    ``<b <b <b ...`` take minutes; escaped, it is plain text, as a browser would show it.
    """
    return _STRAY_LT.sub("&lt;", html)


def html_to_blocks(html: str) -> list[Block]:
    """Parse HTML into blocks; never raises (bad markup gives a note at worst)."""
    conv = _Converter()
    try:
        conv.feed(defuse(html))
        return conv.close_all()
    except Exception as e:  # html.parser is lenient; this is a last resort
        blocks = conv.root
        blocks.append(Note(f"[HTML parsing stopped early: {type(e).__name__}]"))
        return blocks
