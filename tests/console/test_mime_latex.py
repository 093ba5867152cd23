"""LaTeX math to Unicode, and text/latex payloads as IPython and sympy send them."""

from __future__ import annotations

import pytest

from console.mime import MimeOptions, render_bundle
from console.mime.latex import latex_to_unicode
from console.mime.style import strip_ansi


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        (r"E = mc^2", "E = mc²"),
        (r"\alpha + \beta = \gamma", "α + β = γ"),
        (r"\Gamma(n) = (n-1)!", "Γ(n) = (n − 1)!"),
        (r"x_1 + x_{2} + x_{i,j}", "x₁ + x₂ + x_(i,j)"),
        (r"e^{i\pi} + 1 = 0", "e^(iπ) + 1 = 0"),
        (r"a^{n+1}", "aⁿ⁺¹"),
        (r"\frac{1}{2}", "½"),
        (r"\frac{a+b}{c}", "(a + b)/c"),
        (r"\dfrac{x}{y+1}", "x/(y + 1)"),
        (r"\sqrt{2}", "√2"),
        (r"\sqrt{x^2 + y^2}", "√(x² + y²)"),
        (r"\sqrt[3]{8} = 2", "∛8 = 2"),
        (r"\sum_{i=1}^{n} i^2", "∑ᵢ₌₁ⁿ i²"),
        (r"\prod_{k=1}^{N} a_k", "∏ₖ₌₁ᴺ aₖ"),
        (r"\int_0^1 f(x)\,dx", "∫₀¹ f(x) dx"),
        (r"\oint_C \vec{F} \cdot d\vec{r}", "∮_C F⃗ · dr⃗"),
        (r"\lim_{x \to 0} \frac{\sin x}{x} = 1", "lim_(x→0) (sin x)/x = 1"),
        (r"\forall x \in \mathbb{R}, x^2 \geq 0", "∀x ∈ ℝ, x² ≥ 0"),
        (r"a \leq b \neq c \approx d", "a ≤ b ≠ c ≈ d"),
        (
            r"\nabla \times \mathbf{E} = -\frac{\partial \mathbf{B}}{\partial t}",
            "∇ × 𝐄 = −(∂𝐁)/(∂t)",
        ),
        (r"\left( \frac{a}{b} \right)^2", "(a/b)²"),
        (r"\hat{x}", "x̂"),
        (r"\text{if } x > 0", "if x > 0"),
        (r"P(A \mid B) = \frac{P(B \mid A) P(A)}{P(B)}", "P(A ∣ B) = (P(B ∣ A)P(A))/(P(B))"),
        (r"\mathcal{L} = \infty", "ℒ = ∞"),
        (r"f'(x)", "f′(x)"),
    ],
)
def test_formulas(src: str, expected: str) -> None:
    assert latex_to_unicode(src) == expected


def test_matrix_environment() -> None:
    out = latex_to_unicode(r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}")
    assert out == "⎛1  0⎞\n⎝0  1⎠"


def test_aligned_equations_one_per_line() -> None:
    out = latex_to_unicode(r"\begin{aligned} a &= b + c \\ d &= e \end{aligned}")
    assert out == "a = b + c\nd = e"


@pytest.mark.parametrize(
    "src",
    [
        r"\unknowncommand{x}",
        r"\frac{a}",
        "{unbalanced",
        "x}",
        r"\begin{tikzpicture}\end{tikzpicture}",
    ],
)
def test_unsupported_returns_none(src: str) -> None:
    assert latex_to_unicode(src) is None


def latex(payload: str, plain: str | None = "PLAIN", depth: str = "truecolor") -> str:
    bundle = {"text/latex": payload}
    if plain is not None:
        bundle["text/plain"] = plain
    return render_bundle(bundle, {}, MimeOptions(color_depth=depth))


def test_ipython_math_payloads() -> None:
    # IPython.display.Math wraps in $\displaystyle ...$; Latex passes text with $...$ inside
    assert strip_ansi(latex(r"$\displaystyle \frac{1}{2} \alpha^2$")) == "½α²"
    assert strip_ansi(latex(r"$$\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2}$$")).split(
        "\n"
    ) == [
        "                  √π",
        "  ∫₀^∞ e⁻ˣ² dx = ────",
        "                  2",
    ]
    out = latex(r"The area is $\pi r^2$, with $r > 0$.")
    assert strip_ansi(out) == "The area is πr², with r > 0."
    assert "\x1b[38;2;198;120;221mπr²\x1b[0m" in out


def test_display_math_stacks_fractions_and_grows_brackets() -> None:
    out = latex_to_unicode(r"x = \frac{-b \pm \sqrt{b^2-4ac}}{2a}", display=True)
    assert out == "     −b ± √(b² − 4ac)\nx = ──────────────────\n            2a"
    # sympy writes matrices like this
    out = latex_to_unicode(
        r"\left[\begin{matrix}1 & 2\\3 & 4\\5 & 6\end{matrix}\right]", display=True
    )
    assert out == "⎡1  2⎤\n⎢3  4⎥\n⎣5  6⎦"
    out = latex_to_unicode(r"|x| = \begin{cases} x & x \geq 0 \\ -x & \text{otherwise} \end{cases}")
    assert out == "      ⎧x   x ≥ 0\n|x| = ⎩−x  otherwise"
    # inline (script) positions never stack
    assert latex_to_unicode(r"e^{\frac{1}{x}}", display=True) == "e^(1/x)"


def test_display_math_too_wide_falls_back_to_one_line() -> None:
    src = "$$" + r"\frac{" + "a+" * 40 + "b}{c}$$"
    out = strip_ansi(render_bundle({"text/latex": src}, {}, MimeOptions(width=40)))
    assert "\n" not in out and out.endswith("/c")


def test_equation_environment() -> None:
    out = strip_ansi(latex(r"\begin{equation} F = ma \end{equation}"))
    assert out == "  F = ma"


def test_unsupported_latex_uses_text_plain_or_shows_the_source() -> None:
    assert latex(r"$\weird{x}$", plain="x (plain)") == "x (plain)"
    # no other representation: the source is shown (as text/plain would not exist)
    out = strip_ansi(render_bundle({"text/latex": r"$\weird{x}$"}, {}, MimeOptions()))
    assert (
        out == r"$\weird{x}$" + "\n[LaTeX beyond what mycon converts to Unicode: shown as source]"
    )


def test_mono_has_no_colour() -> None:
    out = latex(r"$x^2$", depth="mono")
    assert out == "x²"


def test_math_spans_finds_every_delimiter_kind() -> None:
    from console.mime.latex import math_spans

    text = r"a $x$ b $$y$$ \[z\] \(w\) \begin{align}q\end{align} costs \$5"
    assert [(m.src, m.inline) for m in math_spans(text)] == [
        ("x", True),
        ("y", False),
        ("z", False),
        ("w", True),
        (r"\begin{aligned}q\end{aligned}", False),
    ]


@pytest.mark.parametrize("opener", [r"\[", r"\(", r"\begin{equation}", "$$", "$"])
def test_unclosed_math_delimiters_take_linear_time(opener: str) -> None:
    # A regex rescanning to the end from each unclosed opener took 16 s for 20000 of them.
    out = latex((opener + "a ") * 20000)
    assert out == "PLAIN" or len(out) > 1000


def test_latex_payload_without_math_is_text() -> None:
    assert latex("Hello world, no math here.") == "Hello world, no math here."
    assert strip_ansi(latex(r"\alpha + \beta")) == "α + β"  # bare math still converted
