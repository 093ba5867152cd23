"""Images through render_bundle: every graphics mode, colour depth, caption, saving, bad data."""

from __future__ import annotations

import base64
import functools
import io
import re
from pathlib import Path

import pytest

from console.mime import MimeOptions, render_bundle, save_image, viewer_command
from console.mime import images as images_mod
from console.mime.images import ImageError, image_size
from console.mime.style import strip_ansi, text_width

DATA = Path(__file__).parent / "data"


def b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode()


def matplotlib_png() -> bytes:
    """A real 640×480 matplotlib figure (made once per run)."""
    pytest.importorskip("matplotlib")
    return _matplotlib_png()


@functools.lru_cache(maxsize=1)
def _matplotlib_png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.plot([1, 3, 2, 4], color="tab:blue")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def visible_lines(out: str) -> list[str]:
    return strip_ansi(out).split("\n")


@pytest.mark.parametrize("depth", ["truecolor", "256", "16", "mono"])
@pytest.mark.parametrize("width", [20, 80, 200])
def test_matplotlib_png_as_blocks_fits_width_with_caption(depth: str, width: int) -> None:
    png = matplotlib_png()
    bundle = {
        "image/png": base64.b64encode(png).decode(),
        "text/plain": "<Figure size 640x480 with 1 Axes>",
    }
    out = render_bundle(bundle, {}, MimeOptions(width=width, graphics="blocks", color_depth=depth))
    lines = visible_lines(out)
    assert lines[-1] == "[image/png, 640×480 px]"
    body = lines[:-1]
    cols = min(width, 85)  # at most 32 rows: 64 pixel rows of a 4:3 figure are 85 wide
    assert len(body) == round(480 * cols / 640 / 2)  # two pixels per row: square pixels
    assert all(text_width(ln) == cols for ln in body)
    assert not out.endswith("\n")
    if depth == "truecolor":
        assert "\x1b[38;2;" in out and "▀" in out
    elif depth == "256":
        assert "\x1b[38;5;" in out and "38;2;" not in out
    elif depth == "16":
        assert re.search(r"\x1b\[(3|9)\d;(4|10)\dm", out) and "38;5" not in out
    else:
        assert "\x1b[" not in out.rsplit("\n", 1)[0]  # shading characters only
        assert set("".join(body)) <= set(" ░▒▓█")


def test_blocks_keep_the_colours_of_the_picture() -> None:
    out = render_bundle(
        {"image/png": b64("mpl_plot.png")}, {}, MimeOptions(width=100, graphics="blocks")
    )
    # the plot line is drawn in matplotlib's tab:red (214, 39, 40): some cell must be reddish
    colours = [tuple(map(int, m)) for m in re.findall(r"[34]8;2;(\d+);(\d+);(\d+)", out)]
    assert any(r > 150 and g < 120 and b < 120 for r, g, b in colours)
    assert (255, 255, 255) in colours  # the white figure background


def test_small_image_is_not_blown_up() -> None:
    out = render_bundle(
        {"image/png": b64("mpl_plot.png")}, {}, MimeOptions(width=300, graphics="blocks")
    )
    assert max(text_width(ln) for ln in visible_lines(out)[:-1]) == 85  # ≤ 100 px, ≤ 32 rows


def test_tall_images_are_capped_in_rows() -> None:
    meta = {"image/png": {"width": 50, "height": 500}}
    out = render_bundle(
        {"image/png": b64("mpl_plot.png")}, meta, MimeOptions(width=300, graphics="blocks")
    )
    lines = visible_lines(out)[:-1]
    assert len(lines) == 30  # 6 columns (64 pixel rows at 10:1, rounded down) × 60 pixel rows
    assert all(text_width(ln) == 6 for ln in lines)


def test_metadata_width_scales_the_display() -> None:
    out = render_bundle(
        {"image/png": b64("mpl_plot.png")},
        {"image/png": {"width": 40}},
        MimeOptions(width=80, graphics="blocks"),
    )
    lines = visible_lines(out)
    assert all(text_width(ln) == 40 for ln in lines[:-1])
    assert len(lines) - 1 == 15  # 40 columns × (75/100) / 2


def test_kitty_protocol_chunks_png_and_asks_for_no_reply() -> None:
    png = matplotlib_png()
    out = render_bundle(
        {"image/png": base64.b64encode(png).decode()}, {}, MimeOptions(width=50, graphics="kitty")
    )
    chunks = re.findall(r"\x1b_G([^;]*);([^\x1b]*)\x1b\\", out)
    assert chunks[0][0] == "a=T,f=100,q=2,c=50,m=1"
    assert all(c[0] == "m=1" for c in chunks[1:-1]) and chunks[-1][0] == "m=0"
    assert all(len(c[1]) <= 4096 for c in chunks)
    assert base64.b64decode("".join(c[1] for c in chunks)) == png
    assert strip_ansi(out).strip() == "[image/png, 640×480 px]"


def test_kitty_converts_jpeg_to_png_with_pillow() -> None:
    pytest.importorskip("PIL")
    out = render_bundle({"image/jpeg": b64("pillow.jpg")}, {}, MimeOptions(graphics="kitty"))
    payload = "".join(re.findall(r"\x1b_G[^;]*;([^\x1b]*)\x1b\\", out))
    assert base64.b64decode(payload).startswith(b"\x89PNG")
    assert strip_ansi(out).strip() == "[image/jpeg, 100×75 px]"


def test_iterm_inline_image_carries_the_original_file() -> None:
    out = render_bundle(
        {"image/jpeg": b64("pillow.jpg")}, {}, MimeOptions(width=80, graphics="iterm")
    )
    m = re.match(
        r"\x1b\]1337;File=inline=1;size=(\d+);width=(\d+);preserveAspectRatio=1:([A-Za-z0-9+/=]+)\x07",
        out,
    )
    assert m, repr(out[:80])
    raw = (DATA / "pillow.jpg").read_bytes()
    assert int(m.group(1)) == len(raw) and base64.b64decode(m.group(3)) == raw
    assert int(m.group(2)) == 10  # 100 px at about 10 px per cell


def test_sixel_output_is_well_formed() -> None:
    out = render_bundle(
        {"image/png": b64("mpl_plot.png")}, {}, MimeOptions(width=80, graphics="sixel")
    )
    m = re.match(r'\x1bP0;1;0q"1;1;(\d+);(\d+)((?:#\d+;2;\d+;\d+;\d+)+)(.*?)\x1b\\', out, re.S)
    assert m
    assert (int(m.group(1)), int(m.group(2))) == (100, 75)
    data = m.group(4)
    assert data.count("-") == (75 + 5) // 6  # one graphics new line per band of six pixel rows
    assert re.fullmatch(r"(?:#\d+[?-~!\d]*\$)*-(?:(?:#\d+[?-~!\d]*\$)*-)*", data)
    for n in re.findall(r"#(\d+);2;(\d+);(\d+);(\d+)", m.group(3)):
        assert all(0 <= int(v) <= 100 for v in n[1:])
    assert strip_ansi(out).endswith("[image/png, 100×75 px]")


def test_graphics_none_shows_only_the_caption() -> None:
    out = render_bundle(
        {"image/png": b64("mpl_plot.png"), "text/plain": "<Figure>"},
        {},
        MimeOptions(graphics="none"),
    )
    assert strip_ansi(out) == "[image/png, 100×75 px; graphics off]"


def test_gif_first_frame_and_jpeg_with_pillow() -> None:
    pytest.importorskip("PIL")
    for mime, name in (("image/gif", "pillow.gif"), ("image/jpeg", "pillow.jpg")):
        out = render_bundle({mime: b64(name)}, {}, MimeOptions(width=50, graphics="blocks"))
        lines = visible_lines(out)
        assert lines[-1] == f"[{mime}, 100×75 px]"
        assert len(lines) - 1 == 19 and all(text_width(ln) == 50 for ln in lines[:-1])


def test_without_pillow_jpeg_says_what_it_would_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images_mod, "_pillow", lambda: None)
    out = render_bundle(
        {"image/jpeg": b64("pillow.jpg"), "text/plain": "<JPEG>"},
        {},
        MimeOptions(graphics="blocks"),
    )
    assert (
        strip_ansi(out)
        == "[image/jpeg, 100×75 px; not shown: decoding image/jpeg needs Pillow (pip install pillow)]"
    )
    # PNG never needs Pillow
    out = render_bundle({"image/png": b64("mpl_plot.png")}, {}, MimeOptions(graphics="blocks"))
    assert "▀" in out


def test_svg_without_renderer_falls_back_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images_mod, "_cairosvg", lambda: None)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><circle cx="40" cy="40" r="30"/></svg>'
    out = render_bundle(
        {"image/svg+xml": svg, "text/plain": "<IPython.core.display.SVG object>"}, {}, MimeOptions()
    )
    lines = visible_lines(out)
    assert lines[0] == "<IPython.core.display.SVG object>"
    assert (
        lines[1]
        == "[could not show image/svg+xml: no SVG renderer installed (pip install cairosvg)]"
    )
    assert image_size(svg.encode(), "image/svg+xml") == (120, 80)


@pytest.mark.parametrize(
    "payload",
    [
        "not base64 at all!!",
        base64.b64encode((DATA / "mpl_plot.png").read_bytes()[:1500]).decode(),  # truncated PNG
        base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode(),
        "",
        12345,
        ["iVBOR", "w0KGgo="],
    ],
    ids=["garbage", "truncated", "bad-ihdr", "empty", "number", "list"],
)
@pytest.mark.parametrize("graphics", ["blocks", "sixel", "kitty", "iterm"])
def test_bad_image_data_never_raises_and_falls_back(payload: object, graphics: str) -> None:
    out = render_bundle(
        {"image/png": payload, "text/plain": "<Figure>"}, {}, MimeOptions(graphics=graphics)
    )
    text = strip_ansi(out)
    assert isinstance(out, str) and not out.endswith("\n")
    assert text.startswith("<Figure>\n[could not show image/png: ")
    assert "\n" not in text[len("<Figure>\n") :]


def test_truncated_png_explains_itself() -> None:
    data = base64.b64encode((DATA / "mpl_plot.png").read_bytes()[:1500]).decode()
    out = strip_ansi(
        render_bundle(
            {"image/png": data, "text/plain": "<Figure>"}, {}, MimeOptions(graphics="blocks")
        )
    )
    assert out == "<Figure>\n[could not show image/png: truncated PNG (chunk 'IDAT' cut short)]"


def test_save_image_writes_the_file_once(tmp_path: Path) -> None:
    raw = (DATA / "mpl_plot.png").read_bytes()
    p1 = save_image(base64.b64encode(raw).decode(), "image/png", tmp_path / "imgs")
    p2 = save_image(raw, "image/png", tmp_path / "imgs")
    assert p1 == p2 and p1.suffix == ".png" and p1.read_bytes() == raw
    svg = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert save_image(svg, "image/svg+xml", tmp_path).read_text() == svg
    with pytest.raises(ImageError):
        save_image("", "image/png", tmp_path)
    with pytest.raises(ImageError):
        save_image("abc", "text/html", tmp_path)


def test_viewer_command_per_platform() -> None:
    assert viewer_command("/x.png", "linux") == ["xdg-open", "/x.png"]
    assert viewer_command("/x.png", "darwin") == ["open", "/x.png"]
    assert viewer_command("C:\\x.png", "win32")[:3] == ["cmd", "/c", "start"]


def test_image_size_from_headers_without_decoding() -> None:
    assert image_size((DATA / "pillow.jpg").read_bytes(), "image/jpeg") == (100, 75)
    assert image_size((DATA / "pillow.gif").read_bytes(), "image/gif") == (100, 75)
    assert image_size(b"junk", "image/png") is None


def decode_sixel(seq: str) -> dict[tuple[int, int], tuple[int, int, int]]:
    """A small sixel reader: pixel -> colour register's RGB in percent."""
    body = seq[seq.index("q") + 1 : seq.rindex("\x1b\\")]
    palette: dict[int, tuple[int, int, int]] = {}
    pixels: dict[tuple[int, int], tuple[int, int, int]] = {}
    x = y = 0
    colour = 0
    for tok in re.finditer(
        r'"[\d;]+|#(\d+);2;(\d+);(\d+);(\d+)|#(\d+)|!(\d+)([?-~])|([?-~])|(\$)|(-)', body
    ):
        if tok.group(1):
            palette[int(tok.group(1))] = (int(tok.group(2)), int(tok.group(3)), int(tok.group(4)))
        elif tok.group(5):
            colour = int(tok.group(5))
        elif tok.group(6) or tok.group(8):
            count = int(tok.group(6)) if tok.group(6) else 1
            bits = ord(tok.group(7) or tok.group(8)) - 63
            for _ in range(count):
                for k in range(6):
                    if bits >> k & 1:
                        pixels[(x, y + k)] = palette[colour]
                x += 1
        elif tok.group(9):
            x = 0
        elif tok.group(10):
            x, y = 0, y + 6
    return pixels


def test_sixel_pixels_round_trip() -> None:
    from console.mime.images import sixel_image
    from console.mime.png import Bitmap

    w, h = 23, 14  # not a multiple of six rows
    colours = [(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255), (250, 250, 250, 0)]
    rows = [b"".join(bytes(colours[(x // 6 + y // 5) % 4]) for x in range(w)) for y in range(h)]
    pixels = decode_sixel(sixel_image(Bitmap(w, h, rows), 1000))
    pct = {
        (255, 0, 0, 255): (100, 0, 0),
        (0, 255, 0, 255): (0, 100, 0),
        (0, 0, 255, 255): (0, 0, 100),
    }
    for y in range(h):
        for x in range(w):
            c = colours[(x // 6 + y // 5) % 4]
            assert pixels.get((x, y)) == pct.get(c), (x, y)


def test_sixel_shrinks_wide_images_by_whole_steps() -> None:
    from console.mime.images import sixel_image
    from console.mime.png import Bitmap

    bmp = Bitmap(300, 12, [bytes([200, 100, 0, 255]) * 300 for _ in range(12)])
    out = sixel_image(bmp, 100)
    assert '"1;1;100;4' in out  # every third pixel and row


def test_svg_goes_through_a_renderer_when_one_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeCairo:
        """Stands in for cairosvg: returns a real PNG for any SVG."""

        calls: list[bytes] = []

        @staticmethod
        def svg2png(bytestring: bytes) -> bytes:
            FakeCairo.calls.append(bytestring)
            return (DATA / "mpl_plot.png").read_bytes()

    monkeypatch.setattr(images_mod, "_cairosvg", lambda: FakeCairo)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 75"><rect width="9" height="9"/></svg>'
    out = render_bundle({"image/svg+xml": svg}, {}, MimeOptions(width=50, graphics="blocks"))
    assert FakeCairo.calls == [svg.encode()]
    lines = visible_lines(out)
    assert lines[-1] == "[image/svg+xml, 100×75 px]" and "▀" in lines[0]


def test_png_too_big_for_builtin_decoder_goes_to_pillow_or_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.mime import png as png_mod

    monkeypatch.setattr(png_mod, "MAX_PIXELS", 1000)  # the 100×75 fixture is now "too big"
    bundle = {"image/png": b64("mpl_plot.png"), "text/plain": "<Figure>"}
    if images_mod._pillow() is not None:
        out = render_bundle(bundle, {}, MimeOptions(width=40, graphics="blocks"))
        assert "▀" in out and strip_ansi(out).endswith("[image/png, 100×75 px]")
    monkeypatch.setattr(images_mod, "_pillow", lambda: None)
    out = strip_ansi(render_bundle(bundle, {}, MimeOptions(width=40, graphics="blocks")))
    assert out == (
        "[image/png, 100×75 px; not shown: PNG too large for the built-in decoder (100×75 pixels);"
        " install Pillow (pip install pillow)]"
    )
    # kitty and iTerm2 pass the file to the terminal: no decoding, no limit
    out = render_bundle(bundle, {}, MimeOptions(graphics="kitty"))
    assert out.startswith("\x1b_G")


def test_pillow_shrinks_big_images_while_decoding() -> None:
    pytest.importorskip("PIL")
    from console.mime.images import decode

    bmp = decode((DATA / "pillow.jpg").read_bytes(), "image/jpeg", max_width=40)
    assert bmp.width <= 40 and len(bmp.rows) == bmp.height and bmp.height <= 31
