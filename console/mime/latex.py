"""Common LaTeX math as Unicode text: Greek letters, sub/superscripts, fractions, roots, operators.

:func:`latex_to_unicode` converts one formula, or returns None when it meets something it does
not know (the caller then shows the source or another representation).  :func:`latex_document`
handles a whole ``text/latex`` payload: text with ``$...$``, ``$$...$$``, ``\\[...\\]``,
``\\(...\\)`` or ``equation``/``align`` environments.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .style import Style, paint, text_width

GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "omicron": "ο",
    "pi": "π",
    "varpi": "ϖ",
    "rho": "ρ",
    "varrho": "ϱ",
    "sigma": "σ",
    "varsigma": "ς",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "ϕ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Upsilon": "Υ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
}
SYMBOLS = {
    # operators
    "times": "×",
    "div": "÷",
    "cdot": "·",
    "pm": "±",
    "mp": "∓",
    "ast": "∗",
    "star": "⋆",
    "circ": "∘",
    "bullet": "∙",
    "oplus": "⊕",
    "ominus": "⊖",
    "otimes": "⊗",
    "odot": "⊙",
    "cap": "∩",
    "cup": "∪",
    "wedge": "∧",
    "land": "∧",
    "vee": "∨",
    "lor": "∨",
    "neg": "¬",
    "lnot": "¬",
    "setminus": "∖",
    "dagger": "†",
    # relations
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "equiv": "≡",
    "sim": "∼",
    "simeq": "≃",
    "cong": "≅",
    "propto": "∝",
    "ll": "≪",
    "gg": "≫",
    "in": "∈",
    "notin": "∉",
    "ni": "∋",
    "subset": "⊂",
    "supset": "⊃",
    "subseteq": "⊆",
    "supseteq": "⊇",
    "perp": "⊥",
    "parallel": "∥",
    "mid": "∣",
    "vdash": "⊢",
    "models": "⊨",
    "prec": "≺",
    "succ": "≻",
    "leqslant": "⩽",
    "geqslant": "⩾",
    "doteq": "≐",
    # arrows
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "gets": "←",
    "leftrightarrow": "↔",
    "Rightarrow": "⇒",
    "Leftarrow": "⇐",
    "Leftrightarrow": "⇔",
    "implies": "⟹",
    "iff": "⟺",
    "mapsto": "↦",
    "uparrow": "↑",
    "downarrow": "↓",
    "longrightarrow": "⟶",
    "longleftarrow": "⟵",
    "Longrightarrow": "⟹",
    "hookrightarrow": "↪",
    "nearrow": "↗",
    "searrow": "↘",
    # big operators and misc
    "sum": "∑",
    "prod": "∏",
    "coprod": "∐",
    "int": "∫",
    "iint": "∬",
    "iiint": "∭",
    "oint": "∮",
    "bigcup": "⋃",
    "bigcap": "⋂",
    "bigoplus": "⨁",
    "bigotimes": "⨂",
    "bigvee": "⋁",
    "bigwedge": "⋀",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "forall": "∀",
    "exists": "∃",
    "nexists": "∄",
    "emptyset": "∅",
    "varnothing": "∅",
    "aleph": "ℵ",
    "hbar": "ℏ",
    "ell": "ℓ",
    "Re": "ℜ",
    "Im": "ℑ",
    "wp": "℘",
    "angle": "∠",
    "triangle": "△",
    "prime": "′",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "vdots": "⋮",
    "ddots": "⋱",
    "therefore": "∴",
    "because": "∵",
    "degree": "°",
    "top": "⊤",
    "bot": "⊥",
    "checkmark": "✓",
    "square": "□",
    "langle": "⟨",
    "rangle": "⟩",
    "lceil": "⌈",
    "rceil": "⌉",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "vert": "|",
    "Vert": "‖",
    "|": "‖",
    "{": "{",
    "}": "}",
    "%": "%",
    "$": "$",
    "&": "&",
    "#": "#",
    "_": "_",
    "backslash": "\\",
    "lvert": "|",
    "rvert": "|",
    "lVert": "‖",
    "rVert": "‖",
}
FUNCTIONS = {
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "log",
    "ln",
    "lg",
    "exp",
    "lim",
    "liminf",
    "limsup",
    "max",
    "min",
    "sup",
    "inf",
    "det",
    "dim",
    "ker",
    "deg",
    "gcd",
    "arg",
    "Pr",
    "hom",
    "mod",
    "bmod",
    "argmax",
    "argmin",
}
SPACES = {
    ",": " ",
    ":": " ",
    ";": " ",
    "!": "",
    " ": " ",
    "quad": "  ",
    "qquad": "    ",
    "enspace": " ",
    "thinspace": " ",
    "medspace": " ",
    "thickspace": " ",
}
IGNORED = {
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "limits",
    "nolimits",
    "nonumber",
    "notag",
    "middle",
    "label",
    "tag",
}
ACCENTS = {
    "hat": "\u0302",
    "widehat": "\u0302",
    "bar": "\u0304",
    "overline": "\u0305",
    "vec": "\u20d7",
    "dot": "\u0307",
    "ddot": "\u0308",
    "tilde": "\u0303",
    "widetilde": "\u0303",
    "check": "\u030c",
    "breve": "\u0306",
    "acute": "\u0301",
    "grave": "\u0300",
    "underline": "\u0332",
}

_SUP = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφχ′*·",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᵡ′*˙",
        strict=True,
    )
)
_SUB = dict(
    zip(
        "0123456789+-−=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)

_SUP_CHARS = set(_SUP.values())

_SUB_CHARS = set(_SUB.values())


def _alphabet(upper_start: int, lower_start: int, exceptions: dict[str, str]) -> dict[str, str]:
    out = {}
    for k in range(26):
        up, low = chr(65 + k), chr(97 + k)
        out[up] = exceptions.get(up, chr(upper_start + k))
        if lower_start:
            out[low] = exceptions.get(low, chr(lower_start + k))
    return out


# Unicode's script letters: the mathematical block leaves holes for the older letterlike ones.
_SCRIPT = _alphabet(
    0x1D49C,
    0x1D4B6,
    {
        "B": "ℬ",
        "E": "ℰ",
        "F": "ℱ",
        "H": "ℋ",
        "I": "ℐ",
        "L": "ℒ",
        "M": "ℳ",
        "R": "ℛ",
        "e": "ℯ",
        "g": "ℊ",
        "o": "ℴ",
    },
)

FONTS: dict[str, dict[str, str]] = {
    "mathbb": {
        **_alphabet(
            0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
        ),
        **{str(d): chr(0x1D7D8 + d) for d in range(10)},
    },
    "mathbf": {**_alphabet(0x1D400, 0x1D41A, {}), **{str(d): chr(0x1D7CE + d) for d in range(10)}},
    "boldsymbol": _alphabet(0x1D400, 0x1D41A, {}),
    "mathcal": _SCRIPT,
    "mathscr": _SCRIPT,
    "mathfrak": _alphabet(0x1D504, 0x1D51E, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}),
    "mathit": {},
    "mathrm": {},
    "mathsf": {},
    "mathtt": {},
}
TEXT_COMMANDS = {
    "text",
    "textrm",
    "textit",
    "textbf",
    "mathrm",
    "operatorname",
    "mbox",
    "textsf",
    "texttt",
    "mathit",
    "mathsf",
    "mathtt",
    "hbox",
    "textnormal",
}

_TOKEN = re.compile(r"\\([a-zA-Z]+)\*?|\\(.)|(\s+)|(.)", re.S)


_CELL_END = frozenset({("char", "&"), ("cmd", "\\"), ("cmd", "end")})


class Unsupported(Exception):
    """The formula uses something this converter does not handle."""


class _Parser:
    """Recursive descent over LaTeX tokens, producing a Unicode string."""

    def __init__(self, src: str, display: bool = False) -> None:
        self.display = display
        self.toks: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(src):
            if m.group(1):
                self.toks.append(("cmd", m.group(1)))
            elif m.group(2) is not None:
                self.toks.append(("cmd", m.group(2)))
            elif m.group(3):
                self.toks.append(("space", " "))
            else:
                self.toks.append(("char", m.group(4)))
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def next(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise Unsupported("unexpected end")
        self.pos += 1
        return tok

    def skip_spaces(self) -> None:
        while (t := self.peek()) is not None and t[0] == "space":
            self.pos += 1

    def expr(self, stop: str = "", stops: frozenset[tuple[str, str]] = frozenset()) -> str:
        """Convert tokens until ``stop`` (a closing char) or the end.

        Source spaces are dropped, as TeX does in math; relations and binary operators get a
        space on each side (a minus after an operator or an opening bracket stays unary).
        """
        out: list[str] = []
        while (tok := self.peek()) is not None:
            if (tok == ("char", stop) and stop) or tok in stops:
                break
            if tok == ("char", "}") and not stop:
                raise Unsupported("unbalanced }")
            if tok[0] == "cmd" and tok[1] == "end" and stop == "":
                break
            if tok[1] in ("^", "_") and tok[0] == "char":
                self.pos += 1
                arg = self.inline_argument().replace(" ", "")
                base = out.pop() if out else ""
                out.append(base + (sup(arg) if tok[1] == "^" else sub(arg)))
                nxt = self.peek_solid()
                if base.startswith(BIG_OPERATORS) and not (
                    nxt and nxt[0] == "char" and nxt[1] in "^_"
                ):
                    out.append(" ")
                continue
            if tok == ("char", "'"):
                self.pos += 1
                out.append("′")
                continue
            atom = self.atom()
            if atom in RELATIONS or (atom in BINARY and not _unary_context(out)):
                out.append(f" {atom} ")
            elif atom == ",":
                out.append(", ")
            else:
                out.append(atom)
        # "\\\\" line breaks split rows; each row's parts are set side by side on a baseline
        rows: list[list[str]] = [[]]
        for part in out:
            if part == "\n":
                rows.append([])
            else:
                rows[-1].append(part)
        joined = [hjoin(r) for r in rows]
        return joined[0] if len(joined) == 1 else "\n".join(joined)

    def inline_argument(self) -> str:
        """An argument in script style: never stacked (sub/superscripts stay on one line)."""
        display, self.display = self.display, False
        try:
            arg = self.argument()
        finally:
            self.display = display
        if "\n" in arg:
            raise Unsupported("a multi-line script")
        return arg

    def peek_solid(self) -> tuple[str, str] | None:
        """The next token that is not a space."""
        k = self.pos
        while k < len(self.toks) and self.toks[k][0] == "space":
            k += 1
        return self.toks[k] if k < len(self.toks) else None

    def group_text(self) -> str:
        """The raw text of a {...} group (for \\text)."""
        self.skip_spaces()
        tok = self.next()
        if tok != ("char", "{"):
            return tok[1]
        depth = 1
        out: list[str] = []
        while True:
            t = self.next()
            if t == ("char", "{"):
                depth += 1
            elif t == ("char", "}"):
                depth -= 1
                if depth == 0:
                    return "".join(out)
            out.append(t[1] if t[0] != "cmd" or len(t[1]) == 1 else "\\" + t[1])

    def argument(self) -> str:
        """One argument: a {group}, or a single token."""
        self.skip_spaces()
        tok = self.peek()
        if tok == ("char", "{"):
            self.pos += 1
            inner = self.expr("}")
            self.next()
            return inner
        return self.atom()

    def optional(self) -> str | None:
        self.skip_spaces()
        if self.peek() == ("char", "["):
            self.pos += 1
            inner = self.expr("]")
            self.next()
            return inner
        return None

    def atom(self) -> str:
        kind, val = self.next()
        if kind == "space":
            return ""
        if kind == "char":
            if val == "{":
                inner = self.expr("}")
                self.next()
                return inner
            if val == "~":
                return " "
            if val == "&":
                return " "
            if val == "-":
                return "−"
            if val == "*":
                return "∗"
            return val
        return self.command(val)

    def command(self, name: str) -> str:
        if name in GREEK:
            return GREEK[name]
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in SPACES:
            return SPACES[name]
        if name == "\\":
            self.optional()
            return "\n"
        if name == "left":
            return self.left_right()
        if name in IGNORED:
            if name in ("label", "tag"):
                self.group_text()
                return ""
            if name in (
                "left",
                "right",
                "middle",
                "big",
                "Big",
                "bigg",
                "Bigg",
                "bigl",
                "bigr",
                "Bigl",
                "Bigr",
            ):
                self.skip_spaces()
                tok = self.peek()
                if tok == ("char", "."):
                    self.pos += 1
                    return ""
            return ""
        if name in FUNCTIONS:
            nxt = self.peek_solid()
            if nxt is not None and (
                nxt[0] == "cmd"
                and nxt[1] not in ("left", "right")
                or nxt[0] == "char"
                and nxt[1].isalnum()
            ):
                return name + " "
            return name
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            num, den = self.argument(), self.argument()
            if self.display and name != "tfrac" and (num, den) not in VULGAR:
                return stacked(num, den)
            return frac(num, den)
        if name == "binom":
            n, k = self.argument(), self.argument()
            return f"C({n}, {k})"
        if name == "sqrt":
            index = self.optional()
            body = self.argument()
            root = {None: "√", "2": "√", "3": "∛", "4": "∜"}.get(index)
            if root is None:
                root = sup(index or "") + "√"
            return root + (body if _simple(body) else f"({body})")
        if name in TEXT_COMMANDS:
            inner = (
                self.group_text()
                if name not in ("mathrm", "operatorname", "mathit", "mathsf", "mathtt")
                else self.argument()
            )
            return inner
        if name in FONTS:
            inner = self.argument()
            table = FONTS[name]
            return "".join(table.get(c, c) for c in inner)
        if name in ACCENTS:
            inner = self.argument()
            mark = ACCENTS[name]
            if name in ("overline", "underline", "widehat", "widetilde"):
                return "".join(c + mark for c in inner)
            return inner + mark if len(inner) == 1 else f"{inner}{mark}"
        if name == "begin":
            return self.environment()
        if name in ("mathop", "mathbin", "mathrel", "mathord"):
            return self.argument()
        if name in ("overset", "stackrel"):
            top, base = self.argument(), self.argument()
            return base + sup(top)
        if name == "underset":
            bottom, base = self.argument(), self.argument()
            return base + sub(bottom)
        if name in ("not",):
            return self.argument() + "\u0338"
        if name == "pmod":
            return f" (mod {self.argument()})"
        raise Unsupported(f"\\{name}")

    def delimiter(self) -> str:
        """The delimiter after \\left, \\right, \\big...: "" for ".", else its character."""
        self.skip_spaces()
        kind, val = self.next()
        if kind == "char":
            return "" if val == "." else val
        return SYMBOLS.get(val, "")

    def left_right(self) -> str:
        """\\left X ... \\right Y: delimiters as tall as what they enclose."""
        left = self.delimiter()
        inner = self.expr(stops=frozenset({("cmd", "right")}))
        right = ""
        if self.peek() == ("cmd", "right"):
            self.pos += 1
            right = self.delimiter()
        return fence(left, inner, right)

    def environment(self) -> str:
        env = self.group_text().strip().rstrip("*")
        if env in ("array", "tabular"):
            self.group_text()
        rows: list[list[str]] = [[]]
        while True:
            rows[-1].append(self.expr(stops=_CELL_END).strip())
            tok = self.peek()
            if tok is None:
                raise Unsupported(f"environment {env} not closed")
            self.pos += 1
            if tok == ("cmd", "\\"):
                self.optional()
                rows.append([])
            elif tok == ("cmd", "end"):
                self.group_text()
                break
        rows = [r for r in rows if any(c for c in r)]
        if env in (
            "matrix",
            "pmatrix",
            "bmatrix",
            "Bmatrix",
            "vmatrix",
            "Vmatrix",
            "smallmatrix",
            "array",
            "cases",
        ):
            ncols = max((len(r) for r in rows), default=0)
            widths = [max((len(r[c]) for r in rows if c < len(r)), default=0) for c in range(ncols)]
            lines = [
                "\0\0".join(c.ljust(widths[k], "\0") for k, c in enumerate(r)).rstrip("\0")
                for r in rows
            ]
            left, right = {
                "pmatrix": ("(", ")"),
                "bmatrix": ("[", "]"),
                "Bmatrix": ("{", "}"),
                "vmatrix": ("|", "|"),
                "Vmatrix": ("‖", "‖"),
                "cases": ("{", ""),
            }.get(env, ("", ""))
            return fence(left, Box(lines, len(lines) // 2), right)
        if env in (
            "equation",
            "align",
            "aligned",
            "gather",
            "gathered",
            "eqnarray",
            "multline",
            "split",
            "alignat",
            "flalign",
            "displaymath",
            "math",
        ):
            return "\n".join(" ".join(c for c in r if c) for r in rows)
        raise Unsupported(f"environment {env}")


RELATIONS = {
    "=",
    "<",
    ">",
    "≤",
    "≥",
    "≠",
    "≈",
    "≡",
    "∼",
    "≃",
    "≅",
    "∝",
    "≪",
    "≫",
    "∈",
    "∉",
    "∋",
    "⊂",
    "⊃",
    "⊆",
    "⊇",
    "⊥",
    "∥",
    "∣",
    "⊢",
    "⊨",
    "≺",
    "≻",
    "⩽",
    "⩾",
    "≐",
    "→",
    "←",
    "↔",
    "⇒",
    "⇐",
    "⇔",
    "⟹",
    "⟺",
    "↦",
    "⟶",
    "⟵",
    "↪",
    ":=",
}
BINARY = {
    "+",
    "−",
    "×",
    "÷",
    "·",
    "±",
    "∓",
    "∘",
    "⊕",
    "⊖",
    "⊗",
    "⊙",
    "∩",
    "∪",
    "∧",
    "∨",
    "∖",
    "∗",
    "⋆",
}
BIG_OPERATORS = (
    "∑",
    "∏",
    "∐",
    "∫",
    "∬",
    "∭",
    "∮",
    "⋃",
    "⋂",
    "⨁",
    "⨂",
    "⋁",
    "⋀",
    "lim",
    "max",
    "min",
    "sup",
    "inf",
    "argmax",
    "argmin",
)


def _unary_context(out: list[str]) -> bool:
    """Whether an operator here would be a sign (start, after an operator or an opening bracket)."""
    prev = "".join(out[-2:]).rstrip()
    return not prev or prev[-1] in "([{,=<>+−×·±∓≤≥≠≈∈→⇒|∣" or prev.endswith(tuple(RELATIONS))


def _simple(s: str) -> bool:
    return len(s) == 1 or bool(re.fullmatch(r"[√∛∜]?[\w.′∞⁰¹²³⁴⁵⁶⁷⁸⁹]+", s))


class Box(str):
    """Multi-line math: the text of its rows, and which row is the baseline."""

    baseline: int

    def __new__(cls, rows: list[str], baseline: int) -> Box:
        box = super().__new__(cls, "\n".join(rows))
        box.baseline = baseline
        return box


def _cells(text: str) -> int:
    return text_width(text.replace("\0", " "))


def _rows(part: str) -> tuple[list[str], int]:
    rows = part.split("\n")
    return rows, getattr(part, "baseline", len(rows) // 2)


def hjoin(parts: list[str]) -> str:
    """Parts set side by side, multi-line ones aligned on their baselines (padding is \\0)."""
    if not any("\n" in p for p in parts):
        return "".join(parts)
    boxes = [_rows(p) for p in parts]
    above = max(b for _, b in boxes)
    below = max(len(r) - b for r, b in boxes)
    out = [""] * (above + below)
    for rows, base in boxes:
        w = max(_cells(r) for r in rows)
        top = above - base
        for i in range(above + below):
            seg = rows[i - top] if 0 <= i - top < len(rows) else ""
            out[i] += seg + "\0" * (w - _cells(seg))
    return Box(out, above)


_TALL = {
    "(": "⎛⎜⎝",
    ")": "⎞⎟⎠",
    "[": "⎡⎢⎣",
    "]": "⎤⎥⎦",
    "{": "⎧⎪⎩",
    "}": "⎫⎪⎭",
    "|": "│││",
    "‖": "‖‖‖",
    "⌈": "⎡⎢⎢",
    "⌉": "⎤⎥⎥",
    "⌊": "⎢⎢⎣",
    "⌋": "⎥⎥⎦",
}


def _tall(delim: str, height: int, baseline: int) -> str:
    if not delim or height == 1:
        return delim
    chars = _TALL.get(delim, delim * 3)
    top, mid, bottom = chars[0], chars[1], chars[2]
    rows = [top] + [mid] * (height - 2) + [bottom]
    if delim in "{}" and height >= 3:
        rows[height // 2] = "⎨" if delim == "{" else "⎬"
    return Box(rows, baseline)


def fence(left: str, inner: str, right: str) -> str:
    """``inner`` between delimiters grown to its height."""
    rows, base = _rows(inner)
    return hjoin([_tall(left, len(rows), base), inner, _tall(right, len(rows), base)])


def stacked(num: str, den: str) -> str:
    """A display fraction: numerator over a rule over the denominator, centred."""
    nrows, _ = _rows(num)
    drows, _ = _rows(den)
    w = max(max(_cells(r) for r in nrows), max(_cells(r) for r in drows)) + 2

    def centre(r: str) -> str:
        pad = w - _cells(r)
        return "\0" * (pad // 2) + r + "\0" * (pad - pad // 2)

    return Box([*map(centre, nrows), "─" * w, *map(centre, drows)], len(nrows))


VULGAR = {
    ("1", "2"): "½",
    ("1", "3"): "⅓",
    ("2", "3"): "⅔",
    ("1", "4"): "¼",
    ("3", "4"): "¾",
    ("1", "5"): "⅕",
    ("1", "6"): "⅙",
    ("1", "8"): "⅛",
}


def frac(num: str, den: str) -> str:
    """A fraction on one line: vulgar fraction characters where they exist, else a/b."""
    vulgar = {
        ("1", "2"): "½",
        ("1", "3"): "⅓",
        ("2", "3"): "⅔",
        ("1", "4"): "¼",
        ("3", "4"): "¾",
        ("1", "5"): "⅕",
        ("1", "6"): "⅙",
        ("1", "8"): "⅛",
    }
    if (num, den) in vulgar:
        return vulgar[(num, den)]
    n = num if _simple(num) else f"({num})"
    d = den if _simple(den) else f"({den})"
    return f"{n}/{d}"


def sup(s: str) -> str:
    """Superscript: Unicode superscript characters when all exist, else ^(...)."""
    if s and all(c in _SUP or c in _SUP_CHARS for c in s):
        return "".join(_SUP.get(c, c) for c in s)
    return f"^{s}" if len(s) == 1 else f"^({s})"


def sub(s: str) -> str:
    """Subscript: Unicode subscript characters when all exist, else _(...)."""
    if s and all(c in _SUB or c in _SUB_CHARS for c in s):
        return "".join(_SUB.get(c, c) for c in s)
    return f"_{s}" if len(s) == 1 else f"_({s})"


def latex_to_unicode(src: str, display: bool = False) -> str | None:
    """One formula (without $ delimiters) as Unicode text, or None if not convertible.

    ``display``: fractions stacked over a rule, on several lines (for formulas shown alone).
    """
    try:
        p = _Parser(src.strip(), display)
        out = p.expr()
        if p.peek() is not None:
            return None
    except (Unsupported, RecursionError, IndexError):
        return None
    out = re.sub(r"(?<=\S)  +(?=\S)", " ", out)  # operator padding next to explicit spaces
    lines = [ln.strip(" ").replace("\0", " ").rstrip() for ln in out.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > 1:  # keep the rows' alignment: remove only the indent they share
        indent = min(len(ln) - len(ln.lstrip(" ")) for ln in lines if ln)
        lines = [ln[indent:] for ln in lines]
    return "\n".join(lines)


_ENV_OPEN = re.compile(r"\\begin\{(equation|align|gather|multline|eqnarray|displaymath)(\*?)\}")


class MathSpan(NamedTuple):
    """One formula found in a text/latex payload."""

    start: int
    end: int
    src: str
    inline: bool


def math_spans(text: str) -> list[MathSpan]:
    """Formulas in ``text``: ``$$..$$``, ``\\[..\\]``, environments, ``$..$``, ``\\(..\\)``.

    Scans with ``str.find``; a delimiter kind whose closer is missing is given up for the rest
    of the text, so unclosed openers cost linear time (a regex rescans to the end from each).
    """
    kinds: dict[str, tuple[str, bool]] = {
        "$$": ("$$", False),
        "\\[": ("\\]", False),
        "\\(": ("\\)", True),
        "$": ("$", True),
    }
    spans: list[MathSpan] = []
    live = set(kinds) | {"env"}
    nxt: dict[str, int] = {}
    env_m: re.Match[str] | None = None
    pos = 0
    while live:
        for kind in list(live):  # next opener of each kind at or after pos
            if nxt.get(kind, -1) >= pos:
                continue
            if kind == "env":
                env_m = _ENV_OPEN.search(text, pos)
                at = env_m.start() if env_m else -1
            else:
                at = text.find(kind, pos)
                while (
                    kind == "$"
                    and at >= 0
                    and (text.startswith("$$", at) or (at and text[at - 1] == "\\"))
                ):
                    at = text.find("$", at + (2 if text.startswith("$$", at) else 1))
            if at < 0:
                live.discard(kind)
            else:
                nxt[kind] = at
        if not live:
            break
        kind = min(live, key=lambda k: (nxt[k], -len(k)))
        start = nxt[kind]
        if kind == "env":
            assert env_m is not None and env_m.start() == start
            closer = f"\\end{{{env_m.group(1)}{env_m.group(2)}}}"
            body_start, inline = env_m.end(), False
        else:
            closer, inline = kinds[kind]
            body_start = start + len(kind)
        close_at = text.find(closer, body_start)
        if close_at < 0:
            live.discard(kind)  # no closer anywhere after: no later opener of this kind closes
            continue
        src = text[body_start:close_at]
        if kind == "env":
            src = f"\\begin{{aligned}}{src}\\end{{aligned}}"
        spans.append(MathSpan(start, close_at + len(closer), src, inline))
        pos = close_at + len(closer)
    return spans


_MATH_STYLE = Style(fg=(198, 120, 221))


def _convert(src: str, display: bool, room: int) -> str | None:
    """Display math stacked when it fits in ``room`` columns, else on one line."""
    if display:
        tall = latex_to_unicode(src, display=True)
        if tall is None or max(text_width(ln) for ln in tall.split("\n")) <= room:
            return tall
    return latex_to_unicode(src)


def latex_document(text: str, width: int, depth: str) -> str | None:
    """A text/latex payload as terminal text (math converted and coloured), or None.

    Text outside math is kept as is; display math (``$$``, ``\\[``, environments, or a formula
    that is the whole payload, as IPython's ``Math`` sends) goes on its own lines, fractions
    stacked when they fit the width.
    """
    text = text.strip()
    matches = math_spans(text)
    if not matches:
        if not re.search(r"[\\^_]", text):
            return text  # no delimiters and nothing mathematical: it is plain text
        conv = _convert(text, True, width)  # bare math without delimiters
        return None if conv is None else _paint_math(conv, "", depth)
    alone = len(matches) == 1 and (matches[0].start, matches[0].end) == (0, len(text))
    pieces: list[str] = []
    pos = 0
    for m in matches:
        before = text[pos : m.start]
        pos = m.end
        inline, src = m.inline, m.src
        if alone:
            conv = _convert(src, True, width)
            return None if conv is None else _paint_math(conv, "" if inline else "  ", depth)
        conv = _convert(src, not inline, width - 2)
        if conv is None:
            return None
        if inline:
            pieces.append(before + _paint_math(conv, "", depth))
            continue
        if before.strip():
            pieces.append(before.rstrip() + "\n")
        elif pieces:
            pieces.append("\n")
        pieces.append(_paint_math(conv, "  ", depth) + "\n")
    pieces.append(text[pos:])
    return "".join(pieces).strip("\n")


def _paint_math(conv: str, indent: str, depth: str) -> str:
    return "\n".join(indent + paint(ln, _MATH_STYLE, depth) for ln in conv.split("\n"))
