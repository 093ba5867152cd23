"""Images in the terminal: kitty graphics, iTerm2 inline images, sixel, or Unicode half blocks.

Every image is followed by a one-line caption (type, pixel size).  PNG is decoded by our own
:mod:`.png`; JPEG and GIF (first frame) need Pillow for the modes that need pixels, and SVG needs
cairosvg; without them the caption says what would be shown.  Pure: returns strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import struct
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .png import Bitmap, PngError, PngTooLarge, check_png, decode_png, read_header
from .style import RESET, dim_line, rgb_to_16, rgb_to_256

GRAPHICS_MODES: tuple[str, ...] = ("kitty", "iterm", "sixel", "blocks", "none", "auto")
CELL_PX = 10
"""Assumed pixel width of one terminal cell, to size kitty/iTerm/sixel images in columns."""
MAX_BLOCK_ROWS = 32
"""Half-block images are at most this many rows tall (narrower if need be), so a figure fits on
the screen of a common terminal instead of scrolling its top away."""
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}


class ImageError(Exception):
    """An image cannot be shown; the message says why.  ``quiet``: fall back without a note."""

    def __init__(self, reason: str, quiet: bool = False) -> None:
        super().__init__(reason)
        self.quiet = quiet


class DecoderMissing(ImageError):
    """The image looks fine but an optional decoder (Pillow, cairosvg) is not installed."""


# ---------------------------------------------------------------- payloads


def image_bytes(value: Any, mime: str) -> bytes:
    """The raw bytes of an image payload (base64 text for raster types, XML text for SVG)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "".join(value)
    if not isinstance(value, str):
        raise ImageError(f"payload is {type(value).__name__}, not base64 text")
    if mime == "image/svg+xml":
        return value.encode("utf-8")
    try:
        return base64.b64decode(value.strip(), validate=False)
    except (binascii.Error, ValueError) as e:
        raise ImageError(f"payload is not valid base64 ({e})") from e


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """Pixel size read from the file header (no decoding), or None when unknown."""
    try:
        if data.startswith(b"\x89PNG"):
            hdr = read_header(data)
            return hdr.width, hdr.height
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return w, h
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if mime == "image/svg+xml":
            return _svg_size(data)
    except (PngError, struct.error):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return (w, h) if w and h else None
        (seg,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + seg
    return None


def _svg_size(data: bytes) -> tuple[int, int] | None:
    head = data[:4000].decode("utf-8", "replace")
    tag = re.search(r"<svg\b[^>]*>", head)
    if not tag:
        return None
    attrs = tag.group(0)
    w = re.search(r'\bwidth="\s*([\d.]+)\s*(px|pt)?\s*"', attrs)
    h = re.search(r'\bheight="\s*([\d.]+)\s*(px|pt)?\s*"', attrs)
    if w and h:
        return round(float(w.group(1))), round(float(h.group(1)))
    vb = re.search(r'\bviewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"', attrs)
    if vb:
        return round(float(vb.group(1))), round(float(vb.group(2)))
    return None


def caption(mime: str, size: tuple[int, int] | None, extra: str = "") -> str:
    """The one-line caption under an image: type and pixel size, plus a remark."""
    dims = f", {size[0]}×{size[1]} px" if size else ""
    return f"[{mime}{dims}{'; ' + extra if extra else ''}]"


# ---------------------------------------------------------------- optional decoders


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _cairosvg() -> Any:
    try:
        import cairosvg  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except (ImportError, OSError):  # OSError: the cairo C library is missing
        return None
    return cairosvg


def decode(data: bytes, mime: str, max_width: int | None = None) -> Bitmap:
    """Pixels of an image: our own PNG decoder, Pillow for the rest (first frame of a GIF).

    PNGs too big for the pure-Python decoder go to Pillow too; Pillow shrinks images wider than
    ``max_width`` while decoding, so a huge photo never becomes a huge pixel buffer.
    """
    too_large = ""
    if data.startswith(b"\x89PNG"):
        try:
            return decode_png(data)
        except PngTooLarge as e:
            too_large = str(e)
        except PngError as e:
            raise ImageError(str(e)) from e
    pil = _pillow()
    if pil is None:
        if too_large:
            raise DecoderMissing(f"{too_large}; install Pillow (pip install pillow)")
        raise DecoderMissing(f"decoding {mime} needs Pillow (pip install pillow)")
    try:
        with pil.open(io.BytesIO(data)) as im:
            im.seek(0)
            if max_width and im.width > max_width:
                im.draft("RGB", (max_width, max(1, im.height * max_width // im.width)))  # JPEG
                im.thumbnail((max_width, max(1, im.height * max_width // im.width)))
            rgba = im.convert("RGBA")
            w, h = rgba.size
            raw = rgba.tobytes()
    except Exception as e:  # Pillow raises many kinds for bad files
        raise ImageError(f"cannot decode {mime} ({type(e).__name__}: {e})") from e
    return Bitmap(w, h, [raw[4 * w * y : 4 * w * (y + 1)] for y in range(h)])


def to_png(data: bytes, mime: str) -> bytes:
    """The image as PNG bytes (kitty shows PNG only): as is, or converted with Pillow."""
    if data.startswith(b"\x89PNG"):
        return data
    pil = _pillow()
    if pil is None:
        raise DecoderMissing(
            f"showing {mime} with kitty graphics needs Pillow (pip install pillow)"
        )
    try:
        with pil.open(io.BytesIO(data)) as im:
            im.seek(0)
            buf = io.BytesIO()
            im.convert("RGBA").save(buf, "PNG")
    except Exception as e:
        raise ImageError(f"cannot decode {mime} ({type(e).__name__}: {e})") from e
    return buf.getvalue()


# ---------------------------------------------------------------- encoders


def _columns(px_width: int, width: int) -> int:
    return max(1, min(width, math.ceil(px_width / CELL_PX)))


def kitty_image(png: bytes, columns: int) -> str:
    """Kitty graphics protocol: transmit and show a PNG, ``columns`` cells wide, no reply asked."""
    payload = base64.standard_b64encode(png).decode("ascii")
    chunks = [payload[i : i + 4096] for i in range(0, len(payload), 4096)] or [""]
    out = []
    for n, chunk in enumerate(chunks):
        more = 1 if n < len(chunks) - 1 else 0
        head = f"a=T,f=100,q=2,c={columns},m={more}" if n == 0 else f"m={more}"
        out.append(f"\x1b_G{head};{chunk}\x1b\\")
    return "".join(out)


def iterm_image(data: bytes, columns: int, name: str = "") -> str:
    """iTerm2 inline image (OSC 1337 File=): any format the terminal decodes itself."""
    payload = base64.standard_b64encode(data).decode("ascii")
    fname = f"name={base64.b64encode(name.encode()).decode()};" if name else ""
    return f"\x1b]1337;File={fname}inline=1;size={len(data)};width={columns};preserveAspectRatio=1:{payload}\x07"


def resample(bmp: Bitmap, tw: int, th: int) -> list[list[tuple[int, int, int, int]]]:
    """Pixels scaled to ``tw``×``th`` by averaging up to 4×4 samples of each target box."""
    tw, th = max(1, tw), max(1, th)
    sx, sy = bmp.width / tw, bmp.height / th
    nx = 1 if sx <= 1 else min(4, int(sx))
    ny = 1 if sy <= 1 else min(4, int(sy))
    xs_for = [
        [min(bmp.width - 1, int((x + (k + 0.5) / nx) * sx)) * 4 for k in range(nx)]
        for x in range(tw)
    ]
    out: list[list[tuple[int, int, int, int]]] = []
    for y in range(th):
        rows = [bmp.rows[min(bmp.height - 1, int((y + (k + 0.5) / ny) * sy))] for k in range(ny)]
        line = []
        n = nx * ny
        for xs in xs_for:
            r = g = b = a = 0
            for row in rows:
                for x in xs:
                    pa = row[x + 3]
                    r += row[x] * pa
                    g += row[x + 1] * pa
                    b += row[x + 2] * pa
                    a += pa
            if a:
                line.append((r // a, g // a, b // a, a // n))
            else:
                line.append((0, 0, 0, 0))
        out.append(line)
    return out


def _color(rgb: tuple[int, int, int], depth: str, bg: bool) -> str:
    if depth == "truecolor":
        return f"{48 if bg else 38};2;{rgb[0]};{rgb[1]};{rgb[2]}"
    if depth == "256":
        return f"{48 if bg else 38};5;{rgb_to_256(rgb)}"
    i = rgb_to_16(rgb)
    return str((40 if bg else 30) + i if i < 8 else (100 if bg else 90) + i - 8)


_SHADES = " ░▒▓█"


def blocks_image(bmp: Bitmap, columns: int, depth: str, aspect: float | None = None) -> list[str]:
    """Unicode half-block rendering: each cell shows two vertical pixels (fg top, bg bottom).

    ``columns`` wide; ``aspect`` (height/width, default the bitmap's) sets the number of rows.
    """
    columns = max(1, columns)
    aspect = bmp.height / bmp.width if aspect is None else aspect
    rows_px = max(2, round(aspect * columns))
    rows_px += rows_px % 2
    px = resample(bmp, columns, rows_px)
    lines: list[str] = []
    for y in range(0, rows_px, 2):
        top, bot = px[y], px[y + 1]
        parts: list[str] = []
        last = ""
        for (tr, tg, tb, ta), (br, bg_, bb, ba) in zip(top, bot, strict=True):
            if depth == "mono":
                lum = 0
                count = 0
                for r, g, b, a in ((tr, tg, tb, ta), (br, bg_, bb, ba)):
                    if a >= 128:
                        lum += (299 * r + 587 * g + 114 * b) // 1000
                        count += 1
                parts.append(_SHADES[min(4, (lum // count) * 5 // 256)] if count else " ")
                continue
            t_on, b_on = ta >= 128, ba >= 128
            if t_on and b_on:
                code = f"\x1b[{_color((tr, tg, tb), depth, False)};{_color((br, bg_, bb), depth, True)}m"
                ch = "▀"
            elif t_on:
                code = f"\x1b[0;{_color((tr, tg, tb), depth, False)}m"
                ch = "▀"
            elif b_on:
                code = f"\x1b[0;{_color((br, bg_, bb), depth, False)}m"
                ch = "▄"
            else:
                code = "\x1b[0m"
                ch = " "
            if code != last:
                parts.append(code)
                last = code
            parts.append(ch)
        lines.append("".join(parts) + (RESET if depth != "mono" else ""))
    return lines


_LEVEL = bytes((v * 5 + 127) // 255 for v in range(256))
_R36 = bytes(36 * _LEVEL[v] for v in range(256))
_G6 = bytes(6 * _LEVEL[v] for v in range(256))
_OPAQUE = bytes(0 if v >= 128 else 255 for v in range(256))
_SIXEL_CHARS = bytes(range(63, 127)) + bytes(192)
_RUN_RE = re.compile(r"(.)\1{3,}")
_TRANSPARENT = 255


def _quantize_row(row: bytes, step: int, width: int) -> bytes:
    """One row as 6×6×6 colour-cube indices (255 = transparent), every ``step``-th pixel.

    Works on whole byte strings: per-channel ``translate`` then carry-free big-integer sums.
    """
    r = row[0 :: 4 * step][:width].translate(_R36)
    g = row[1 :: 4 * step][:width].translate(_G6)
    b = row[2 :: 4 * step][:width].translate(_LEVEL)
    a = row[3 :: 4 * step][:width].translate(_OPAQUE)
    n = len(r)
    idx = int.from_bytes(r, "big") + int.from_bytes(g, "big") + int.from_bytes(b, "big")
    return (idx | int.from_bytes(a, "big")).to_bytes(n, "big")


_BIT_TABLES: dict[tuple[int, int], bytes] = {}


def _bit_table(colour: int, k: int) -> bytes:
    table = _BIT_TABLES.get((colour, k))
    if table is None:
        t = bytearray(256)
        t[colour] = 1 << k
        table = _BIT_TABLES[(colour, k)] = bytes(t)
    return table


def sixel_image(bmp: Bitmap, max_px_width: int) -> str:
    """Sixel graphics (DEC): a 216-colour cube palette, transparent where alpha < 50%.

    Images wider than ``max_px_width`` are shrunk by an integer factor (every n-th pixel).
    """
    step = max(1, math.ceil(bmp.width / max(1, max_px_width)))
    tw = math.ceil(bmp.width / step)
    rows = [_quantize_row(row, step, tw) for row in bmp.rows[::step]]
    th = len(rows)
    used: set[int] = set()
    body: list[str] = []
    for y0 in range(0, th, 6):
        band = rows[y0 : y0 + 6]
        colours = set(b"".join(band))
        colours.discard(_TRANSPARENT)
        used.update(colours)
        for colour in sorted(colours):
            bits = 0
            for k, row in enumerate(band):
                bits += int.from_bytes(
                    row.translate(_bit_table(colour, k)), "big"
                )  # no carries: < 64
            chars = bits.to_bytes(tw, "big").translate(_SIXEL_CHARS).decode("ascii")
            body.append(
                f"#{colour}" + _RUN_RE.sub(lambda m: f"!{len(m.group(0))}{m.group(1)}", chars) + "$"
            )
        body.append("-")
    palette = [f"#{i};2;{(i // 36) * 20};{(i // 6) % 6 * 20};{i % 6 * 20}" for i in sorted(used)]
    return f'\x1bP0;1;0q"1;1;{tw};{th}' + "".join(palette) + "".join(body) + "\x1b\\"


# ---------------------------------------------------------------- entry point


def _display_size(meta: Mapping[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    """Pixel size to show at: metadata width/height (as IPython's Image(width=...) sets) win."""
    w, h = size

    def num(key: str) -> int | None:
        v = meta.get(key)
        try:
            return int(float(v)) if v is not None and float(v) > 0 else None
        except (TypeError, ValueError):
            return None

    mw, mh = num("width"), num("height")
    if mw and mh:
        return mw, mh
    if mw:
        return mw, max(1, round(h * mw / w))
    if mh:
        return max(1, round(w * mh / h)), mh
    return w, h


def render_image(
    value: Any, mime: str, meta: Mapping[str, Any], width: int, graphics: str, depth: str
) -> str:
    """An image payload as terminal text in the given graphics mode, ending with its caption."""
    data = image_bytes(value, mime)
    if not data:
        raise ImageError("the image payload is empty")
    if mime == "image/svg+xml":
        if graphics == "none":
            return dim_line(caption(mime, image_size(data, mime), "graphics off"), depth)
        cairo = _cairosvg()
        if cairo is None:
            raise ImageError("no SVG renderer installed (pip install cairosvg)")
        try:
            data = cairo.svg2png(bytestring=data)
        except Exception as e:
            raise ImageError(f"cannot render SVG ({type(e).__name__}: {e})") from e
    size = image_size(data, mime)
    if size is None:
        bmp = decode(data, mime)  # raises with the reason
        size = (bmp.width, bmp.height)
    else:
        bmp = None
    disp_w, disp_h = _display_size(meta, size)
    cap = caption(mime, size)
    if graphics == "none":
        return dim_line(caption(mime, size, "graphics off"), depth)
    cols = _columns(disp_w, width)
    if data.startswith(b"\x89PNG") and graphics in ("kitty", "iterm"):
        try:
            check_png(data)  # the terminal would show a broken picture; say why instead
        except PngError as e:
            raise ImageError(str(e)) from e
    try:
        if graphics == "kitty":
            return kitty_image(to_png(data, mime), cols) + "\n" + dim_line(cap, depth)
        if graphics == "iterm":
            return iterm_image(data, cols) + "\n" + dim_line(cap, depth)
        bmp = bmp or decode(
            data, mime, max_width=cols * CELL_PX if graphics == "sixel" else 4 * width
        )
        if graphics == "sixel":
            return sixel_image(bmp, cols * CELL_PX) + "\n" + dim_line(cap, depth)
        aspect = disp_h / disp_w
        cols = min(width, disp_w, max(1, int(2 * MAX_BLOCK_ROWS / aspect)))
        lines = blocks_image(bmp, cols, depth, aspect)
        return "\n".join([*lines, dim_line(cap, depth)])
    except DecoderMissing as e:
        return dim_line(caption(mime, size, f"not shown: {e}"), depth)


# ---------------------------------------------------------------- saving and viewing


def save_image(data: Any, mime: str, directory: str | Path) -> Path:
    """Write an image payload to ``directory`` (created if needed) and return the file's path.

    The name is ``mycon-<hash>.<ext>``, so saving the same image twice gives the same file.
    Raises :class:`ImageError` (bad payload, unknown type) or ``OSError`` (cannot write).
    """
    ext = _EXT.get(mime)
    if ext is None:
        raise ImageError(f"{mime} is not an image type mycon saves")
    raw = image_bytes(data, mime)
    if not raw:
        raise ImageError("the image payload is empty")
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mycon-{hashlib.sha256(raw).hexdigest()[:12]}.{ext}"
    path.write_bytes(raw)
    return path


def viewer_command(path: str | Path, platform: str = sys.platform) -> list[str]:
    """The command that opens ``path`` in the system's image viewer."""
    if platform == "darwin":
        return ["open", str(path)]
    if platform.startswith("win"):
        return ["cmd", "/c", "start", "", str(path)]
    return ["xdg-open", str(path)]
