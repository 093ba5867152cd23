"""Syntax highlighting with pygments, as styled pieces (so colour depth and wrapping stay ours)."""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import (
    Comment,
    Error,
    Generic,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)
from pygments.util import ClassNotFound

from .style import PLAIN, Piece, Style

# One palette readable on dark and light backgrounds (medium saturation).
_TOKEN_STYLES: tuple[tuple[_TokenType, Style], ...] = (
    (Comment, Style(fg=(127, 132, 142), italic=True)),
    (Keyword.Constant, Style(fg=(209, 154, 102))),
    (Keyword, Style(fg=(198, 120, 221))),
    (Name.Tag, Style(fg=(224, 108, 117))),
    (Name.Function, Style(fg=(97, 175, 239))),
    (Name.Class, Style(fg=(229, 192, 123), bold=True)),
    (Name.Builtin, Style(fg=(86, 182, 194))),
    (Name.Decorator, Style(fg=(97, 175, 239))),
    (Name.Exception, Style(fg=(229, 192, 123))),
    (String, Style(fg=(152, 195, 121))),
    (Number, Style(fg=(209, 154, 102))),
    (Literal, Style(fg=(209, 154, 102))),
    (Operator.Word, Style(fg=(198, 120, 221))),
    (Operator, Style(fg=(86, 182, 194))),
    (Generic.Heading, Style(bold=True)),
    (Generic.Deleted, Style(fg=(224, 108, 117))),
    (Generic.Inserted, Style(fg=(152, 195, 121))),
    (Error, Style(fg=(224, 108, 117))),
)

_ALIASES = {
    "py": "python",
    "py3": "python",
    "ipython": "python",
    "ipython3": "python",
    "sh": "bash",
    "shell": "bash",
    "console": "bash",
    "js": "javascript",
    "": "text",
}


@lru_cache(maxsize=512)
def token_style(ttype: _TokenType) -> Style:
    """The style of a pygments token type (the closest listed ancestor wins)."""
    for base, style in _TOKEN_STYLES:
        if ttype in base:
            return style
    return PLAIN


@lru_cache(maxsize=64)
def _lexer(lang: str) -> Lexer | None:
    name = _ALIASES.get(lang.lower().strip(), lang.lower().strip())
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except (ClassNotFound, ValueError):
        return None


def highlight_lines(code: str, lang: str) -> list[list[Piece]]:
    """Lines of styled pieces for ``code`` in language ``lang`` (plain when unknown)."""
    lexer = _lexer(lang)
    if lexer is None or lang.lower() in ("text", "plain", "none"):
        return [[(ln, PLAIN)] for ln in code.split("\n")]
    lines: list[list[Piece]] = [[]]
    for ttype, value in lexer.get_tokens(code):
        style = token_style(ttype)
        parts = value.split("\n")
        for n, part in enumerate(parts):
            if n:
                lines.append([])
            if part:
                lines[-1].append((part, style))
    return lines
