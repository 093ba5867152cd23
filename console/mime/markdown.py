"""A small Markdown reader producing the document model of :mod:`.doc`.

Covers what notebooks and ``IPython.display.Markdown`` use: ATX and setext headings, paragraphs,
emphasis (``*``, ``_``, ``**``, ``__``, ``~~``), inline code, links, autolinks, images (alt text),
block quotes, nested ordered/unordered/task lists, fenced and indented code blocks (highlighted
later with pygments), pipe tables with alignment, rules, ``$...$``/``$$...$$`` math (through
:mod:`.latex`) and blocks of raw HTML (through :mod:`.html`).  Never raises on odd input.
"""

from __future__ import annotations

import re

from .doc import Block, Cell, Code, Heading, ListBlock, Para, Quote, Rule, Span, Table
from .latex import latex_to_unicode

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}> ?")
_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)")
_TABLE_SEP = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_HTML_BLOCK = re.compile(
    r"^ {0,3}<(/?)(div|table|p|ul|ol|details|pre|h[1-6]|blockquote|center|section|img|br|hr|dl)\b",
    re.I,
)
_MATH_BLOCK = re.compile(r"^ {0,3}\$\$")
_PICTURE = re.compile(r"!\[([^\]]*)\]\((data:image/[^)\s]+)\)")
_LINK_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+[\"'(].*[\"')])?\s*$")


def _is_block_start(line: str) -> bool:
    return bool(
        _FENCE.match(line)
        or _ATX.match(line)
        or _HR.match(line)
        or _QUOTE.match(line)
        or _ITEM.match(line)
        or _MATH_BLOCK.match(line)
        or _HTML_BLOCK.match(line)
    )


class _BlockParser:
    """Splits lines into blocks; list items and quotes recurse on their own lines."""

    def __init__(self, refs: dict[str, str]) -> None:
        self.refs = refs

    def parse(self, lines: list[str]) -> list[Block]:
        blocks: list[Block] = []
        i = 0
        n = len(lines)
        while i < n:
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            m = _FENCE.match(line)
            if m:
                fence, lang = m.group(2), m.group(3)
                indent = len(m.group(1))
                body = []
                i += 1
                while i < n and not (
                    lines[i].strip().startswith(fence[0] * len(fence))
                    and not lines[i].strip().strip(fence[0])
                ):
                    ln = lines[i]
                    body.append(ln[min(indent, _indent(ln)) :])
                    i += 1
                i += 1
                blocks.append(Code("\n".join(body), lang))
                continue
            if _MATH_BLOCK.match(line):
                rest = line.strip()[2:]
                body = []
                if rest.rstrip().endswith("$$") and len(rest.strip()) > 2:
                    body.append(rest.rstrip()[:-2])
                    i += 1
                else:
                    if rest.strip():
                        body.append(rest)
                    i += 1
                    while i < n and "$$" not in lines[i]:
                        body.append(lines[i])
                        i += 1
                    if i < n:
                        body.append(lines[i].split("$$")[0])
                        i += 1
                src = "\n".join(body).strip()
                conv = latex_to_unicode(src, display=True)
                blocks.append(Code(src, "latex") if conv is None else Code(conv, "math"))
                continue
            m = _ATX.match(line)
            if m:
                blocks.append(Heading(len(m.group(1)), self.inline(m.group(2) or "")))
                i += 1
                continue
            if _HR.match(line):
                blocks.append(Rule())
                i += 1
                continue
            if _QUOTE.match(line):
                body = []
                while i < n and lines[i].strip() and (_QUOTE.match(lines[i]) or body):
                    q = _QUOTE.match(lines[i])
                    body.append(lines[i][q.end() :] if q else lines[i])
                    i += 1
                blocks.append(Quote(self.parse(body)))
                continue
            if _ITEM.match(line):
                i = self.list_block(lines, i, blocks)
                continue
            if line.startswith(("    ", "\t")):
                body = []
                while i < n and (lines[i].startswith(("    ", "\t")) or not lines[i].strip()):
                    body.append(lines[i][4:] if lines[i].startswith("    ") else lines[i][1:])
                    i += 1
                blocks.append(Code("\n".join(body).strip("\n"), ""))
                continue
            if _HTML_BLOCK.match(line):
                from .html import html_to_blocks

                body = []
                while i < n and lines[i].strip():
                    body.append(lines[i])
                    i += 1
                blocks.extend(html_to_blocks("\n".join(body)))
                continue
            if "|" in line and i + 1 < n and _TABLE_SEP.match(lines[i + 1]) and "-" in lines[i + 1]:
                i = self.table(lines, i, blocks)
                continue
            m = _LINK_DEF.match(line)
            if m:
                i += 1
                continue
            # paragraph
            para = [line.strip()]
            i += 1
            while i < n and lines[i].strip():
                if _SETEXT.match(lines[i]):
                    level = 1 if lines[i].strip()[0] == "=" else 2
                    blocks.append(Heading(level, self.inline("\n".join(para))))
                    para = []
                    i += 1
                    break
                if _is_block_start(lines[i]) or (
                    "|" in lines[i] and i + 1 < n and _TABLE_SEP.match(lines[i + 1])
                ):
                    break
                para.append(lines[i].rstrip("\n"))
                i += 1
            if para:
                text = _join_para(para)
                pic = _PICTURE.fullmatch(text.strip())
                if pic:  # a paragraph that is just an inline image
                    from .html import _data_uri_picture

                    picture = _data_uri_picture(pic.group(2), pic.group(1) or "image")
                    if picture is not None:
                        blocks.append(picture)
                        continue
                blocks.append(Para(self.inline(text)))
        return blocks

    def list_block(self, lines: list[str], i: int, blocks: list[Block]) -> int:
        first = _ITEM.match(lines[i])
        assert first is not None
        ordered = first.group(2)[0].isdigit()
        start = int(first.group(2)[:-1]) if ordered else 1
        base = len(first.group(1))
        items: list[list[Block]] = []
        n = len(lines)
        while i < n:
            m = _ITEM.match(lines[i])
            if not m or len(m.group(1)) != base or m.group(2)[0].isdigit() != ordered:
                break
            content_indent = m.end() if m.group(3) else m.end() + 1
            body = [lines[i][m.end() :]]
            i += 1
            while i < n:
                ln = lines[i]
                if not ln.strip():
                    # a blank line continues the item only if indented content follows
                    if (
                        i + 1 < n
                        and _indent(lines[i + 1]) >= content_indent
                        and lines[i + 1].strip()
                    ):
                        body.append("")
                        i += 1
                        continue
                    break
                if _indent(ln) >= content_indent:
                    body.append(ln[content_indent:])
                elif _ITEM.match(ln) and _indent(ln) <= base:
                    break
                elif _is_block_start(ln) and not _ITEM.match(ln):
                    break
                elif _ITEM.match(ln):
                    body.append(
                        ln.lstrip() if _indent(ln) < content_indent else ln[content_indent:]
                    )
                else:
                    body.append(ln.strip())  # lazy continuation
                i += 1
            text0 = body[0]
            task = re.match(r"^\[([ xX])\][ \t]+", text0)
            if task:
                body[0] = ("☑ " if task.group(1) in "xX" else "☐ ") + text0[task.end() :]
            items.append(self.parse(body))
            if i < n and not lines[i].strip():
                j = i
                while j < n and not lines[j].strip():
                    j += 1
                m2 = _ITEM.match(lines[j]) if j < n else None
                if m2 and len(m2.group(1)) == base:
                    i = j
                    continue
                break
        blocks.append(ListBlock(ordered, items, start))
        return i

    def table(self, lines: list[str], i: int, blocks: list[Block]) -> int:
        header = _split_row(lines[i])
        aligns = []
        for spec in _split_row(lines[i + 1]):
            spec = spec.strip()
            if spec.startswith(":") and spec.endswith(":"):
                aligns.append("center")
            elif spec.endswith(":"):
                aligns.append("right")
            elif spec.startswith(":"):
                aligns.append("left")
            else:
                aligns.append("")
        ncols = len(header)
        aligns = (aligns + [""] * ncols)[:ncols]
        rows = [[Cell(self.inline(h), True, 1, aligns[k]) for k, h in enumerate(header)]]
        i += 2
        while i < len(lines) and lines[i].strip() and "|" in lines[i]:
            cells = (_split_row(lines[i]) + [""] * ncols)[:ncols]
            rows.append([Cell(self.inline(c), False, 1, aligns[k]) for k, c in enumerate(cells)])
            i += 1
        blocks.append(Table(rows, 1))
        return i

    def inline(self, text: str) -> list[Span]:
        return parse_inline(text, frozenset(), self.refs)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _join_para(lines: list[str]) -> str:
    out = []
    for k, ln in enumerate(lines):
        last = k == len(lines) - 1
        if not last and (ln.endswith("  ") or ln.endswith("\\")):
            out.append(ln.rstrip(" ").rstrip("\\") + "\n")
        else:
            out.append(ln.strip() + ("" if last else " "))
    return "".join(out)


def _split_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells = re.split(r"(?<!\\)\|", s)
    return [c.strip().replace("\\|", "|") for c in cells]


# ---------------------------------------------------------------- inline

# Every open-ended part is bounded ({0,N}), and the long ones are matched "atomically" (a
# lookahead captures, a back-reference consumes: no backtracking into them), so text full of
# unmatched delimiters ("**a **a ...", "[a](![a](...") costs linear time, not quadratic.
_INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<codetext>.{1,2000}?)(?P=ticks))"
    r"|(?P<dataimage>!\[(?P<dalt>[^\]]{0,300})\]\(data:[\w/+.-]{1,100};base64,"
    r"(?=(?P<b64>[A-Za-z0-9+/=]*))(?P=b64)\))"
    r"|(?P<image>!\[(?P<alt>[^\]]{0,300})\]\((?=(?P<src>[^)\s]{0,2000}))(?P=src)"
    r"(?:\s+\"[^\"]{0,300}\")?\))"
    r"|(?P<link>\[(?=(?P<ltext>(?:[^\[\]]|\[[^\]]{0,300}\]){0,300}))(?P=ltext)\]"
    r"\((?=(?P<href>[^)\s]{0,2000}))(?P=href)(?:\s+\"[^\"]{0,300}\")?\))"
    r"|(?P<ref>\[(?P<rtext>[^\]]{1,300})\]\[(?P<rname>[^\]]{0,300})\])"
    r"|(?P<auto><(?P<aurl>(?:https?|ftp|mailto):[^>\s]{1,2000})>)"
    r"|(?P<strong>\*\*(?=\S)(?P<stext>.{1,300}?)(?<=\S)\*\*|__(?=\S)(?P<stext2>.{1,300}?)(?<=\S)__(?!\w))"
    r"|(?P<strike>~~(?=\S)(?P<xtext>.{1,300}?)(?<=\S)~~)"
    r"|(?P<em>\*(?=[^\s*])(?P<etext>.{1,300}?)(?<=[^\s*])\*"
    r"|(?<![\w\\])_(?=\S)(?P<etext2>.{1,300}?)(?<=\S)_(?!\w))"
    r"|(?P<math>(?<![\\$])\$(?=[^\s$])(?P<mtext>[^$\n]{1,500}?)(?<=\S)\$(?!\d))"
    r"|(?P<escape>\\(?P<echar>[!-/:-@\[-`{-~]))"
    r"|(?P<bare>\bhttps?://[^\s<>()]+[^\s<>().,;:!?'\"])"
    r"|(?P<tag></?(?:b|i|em|strong|code|span|kbd|sup|sub|u|br)\b[^>]{0,200}>)",
    re.S,
)
_TAG_MARKS = {"b": "b", "strong": "b", "i": "i", "em": "i", "code": "code", "kbd": "code", "u": "u"}


def parse_inline(
    text: str, marks: frozenset[str], refs: dict[str, str] | None = None
) -> list[Span]:
    """Inline Markdown to spans carrying ``marks`` plus their own."""
    refs = refs or {}
    out: list[Span] = []
    pos = 0
    tag_marks: list[str] = []
    cur = marks
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(Span(text[pos : m.start()], cur))
        pos = m.end()
        kind = m.lastgroup
        if m.group("code") is not None:
            code = m.group("codetext")
            if code.startswith(" ") and code.endswith(" ") and code.strip():
                code = code[1:-1]
            out.append(Span(code.replace("\n", " "), cur | {"code"}))
        elif m.group("dataimage") is not None:
            out.append(Span(f"[{m.group('dalt') or 'image'}]", cur | {"i"}))
        elif m.group("image") is not None:
            out.append(Span(f"[{m.group('alt') or 'image'}]", cur | {"i"}))
        elif m.group("link") is not None:
            href = m.group("href")
            out.extend(parse_inline(m.group("ltext"), cur | {"link"}, refs))
            if href and href != m.group("ltext"):
                out.append(Span(f" <{href}>", cur | {"url"}))
        elif m.group("ref") is not None:
            name = (m.group("rname") or m.group("rtext")).lower()
            out.extend(parse_inline(m.group("rtext"), cur | {"link"}, refs))
            if name in refs:
                out.append(Span(f" <{refs[name]}>", cur | {"url"}))
        elif m.group("auto") is not None:
            out.append(Span(m.group("aurl"), cur | {"link"}))
        elif m.group("strong") is not None:
            out.extend(parse_inline(m.group("stext") or m.group("stext2"), cur | {"b"}, refs))
        elif m.group("strike") is not None:
            out.extend(parse_inline(m.group("xtext"), cur | {"s"}, refs))
        elif m.group("em") is not None:
            out.extend(parse_inline(m.group("etext") or m.group("etext2"), cur | {"i"}, refs))
        elif m.group("math") is not None:
            src = m.group("mtext")
            conv = latex_to_unicode(src)
            out.append(Span(conv if conv is not None else f"${src}$", cur | {"math"}))
        elif m.group("escape") is not None:
            out.append(Span(m.group("echar"), cur))
        elif m.group("bare") is not None:
            out.append(Span(m.group("bare"), cur | {"link"}))
        elif kind == "tag":
            tag = m.group("tag")
            name = re.match(r"</?(\w+)", tag)
            tname = name.group(1).lower() if name else ""
            if tname == "br":
                out.append(Span("\n", cur))
            elif tname in _TAG_MARKS:
                if tag.startswith("</"):
                    if _TAG_MARKS[tname] in tag_marks:
                        tag_marks.remove(_TAG_MARKS[tname])
                else:
                    tag_marks.append(_TAG_MARKS[tname])
                cur = marks | frozenset(tag_marks)
    if pos < len(text):
        out.append(Span(text[pos:], cur))
    return out


def markdown_to_blocks(text: str) -> list[Block]:
    """Parse Markdown into blocks; never raises."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    refs = {}
    for ln in lines:
        m = _LINK_DEF.match(ln)
        if m:
            refs[m.group(1).lower()] = m.group(2)
    return _BlockParser(refs).parse(lines)
