"""Common LaTeX math as Unicode text: Greek letters, sub/superscripts, fractions, roots, operators.

:func:`latex_to_unicode` converts one formula, or returns None when it meets something it does
not know (the caller then shows the source or another representation).  :func:`latex_document`
handles a whole ``text/latex`` payload: text with ``$...$``, ``$$...$$``, ``\\[...\\]``,
``\\(...\\)`` or ``equation``/``align`` environments.
"""

from __future__ import annotations

import re

from .style import Style, paint

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


FONTS: dict[str, dict[str, str]] = {
    "mathbb": {
        **_alphabet(
            0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
        ),
        **{str(d): chr(0x1D7D8 + d) for d in range(10)},
    },
    "mathbf": {**_alphabet(0x1D400, 0x1D41A, {}), **{str(d): chr(0x1D7CE + d) for d in range(10)}},
    "boldsymbol": _alphabet(0x1D400, 0x1D41A, {}),
    "mathcal": _alphabet(
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
    ),
    "mathscr": _alphabet(
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
    ),
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

    def __init__(self, src: str) -> None:
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
                arg = self.argument().replace(" ", "")
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
        return "".join(out)

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
            if len(lines) == 1:
                return f"{left}{lines[0]}{right}"
            w = max(len(ln) for ln in lines)
            return "\n".join(
                f"{left}{ln.ljust(w, chr(0))}{right}" if right else f"{left}{ln}" for ln in lines
            )
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


def latex_to_unicode(src: str) -> str | None:
    """One formula (without $ delimiters) as Unicode text, or None if not convertible."""
    try:
        p = _Parser(src.strip())
        out = p.expr()
        if p.peek() is not None:
            return None
    except (Unsupported, RecursionError, IndexError):
        return None
    out = re.sub(r"(?<=\S)  +(?=\S)", " ", out).replace("\0", " ")  # \0: matrix padding
    return "\n".join(ln.strip() for ln in out.split("\n")).strip("\n")


_MATH = re.compile(
    r"\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\]|\\begin\{(?P<env>equation|align|gather|multline|eqnarray|displaymath)(?P<star>\*?)\}(?P<d3>.+?)\\end\{(?P=env)(?P=star)\}"
    r"|(?<!\\)\$(?P<i1>[^$]+?)\$|\\\((?P<i2>.+?)\\\)",
    re.S,
)
_MATH_STYLE = Style(fg=(198, 120, 221))


def latex_document(text: str, width: int, depth: str) -> str | None:
    """A text/latex payload as terminal text (math converted and coloured), or None.

    Text outside math is kept as is; display math goes on its own indented lines.
    """
    text = text.strip()
    pieces: list[str] = []
    pos = 0
    found = False
    for m in _MATH.finditer(text):
        found = True
        before = text[pos : m.start()]
        pos = m.end()
        display = m.group("i1") is None and m.group("i2") is None
        src = next(
            g
            for g in (m.group("d1"), m.group("d2"), m.group("d3"), m.group("i1"), m.group("i2"))
            if g is not None
        )
        if m.group("d3") is not None:
            src = f"\\begin{{aligned}}{src}\\end{{aligned}}"
        conv = latex_to_unicode(src)
        if conv is None:
            return None
        if display:
            if before.strip():
                pieces.append(before.rstrip() + "\n")
            elif pieces:
                pieces.append("\n")
            pieces.append(
                "\n".join("  " + paint(ln, _MATH_STYLE, depth) for ln in conv.split("\n")) + "\n"
            )
        else:
            pieces.append(before + paint(conv, _MATH_STYLE, depth))
    rest = text[pos:]
    if not found:
        conv = latex_to_unicode(text)  # bare math without delimiters
        if conv is None:
            return None
        return "\n".join(paint(ln, _MATH_STYLE, depth) for ln in conv.split("\n"))
    pieces.append(rest)
    return "".join(pieces).strip("\n")
