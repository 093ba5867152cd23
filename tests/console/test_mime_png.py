"""The standard-library PNG decoder against PNGs from real tools and from an encoder written here.

The encoder below writes every colour type and bit depth with any of the five filters and with
Adam7 interlacing; where Pillow is installed it reads the same files, proving the encoder (and so
the test) right independently of our decoder.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest

from console.mime.png import Bitmap, PngError, decode_png, read_header

DATA = Path(__file__).parent / "data"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is optional
    Image = None  # type: ignore[assignment]


# ---------------------------------------------------------------- a small independent encoder


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _pack(samples: list[int], depth: int) -> bytes:
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out = bytearray()
    per = 8 // depth
    for i in range(0, len(samples), per):
        byte = 0
        group = samples[i : i + per]
        for k, s in enumerate(group):
            byte |= s << (8 - depth * (k + 1))
        out.append(byte)
    return bytes(out)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filter(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out.append((x - pred) & 255)
    return bytes([kind]) + bytes(out)


def encode(
    rows: list[list[int]],
    width: int,
    color_type: int,
    depth: int,
    filters: list[int] | None = None,
    interlace: bool = False,
    palette: bytes = b"",
    trns: bytes | None = None,
) -> bytes:
    """A PNG of ``rows`` (each ``width * channels`` samples) with the given filters per row."""
    ch = CHANNELS[color_type]
    bpp = max(1, ch * depth // 8)
    counter = iter(range(10**9))

    def image_data(sub: list[list[int]]) -> bytes:
        out = b""
        prev = bytes(len(_pack(sub[0], depth))) if sub else b""
        for r in sub:
            raw = _pack(r, depth)
            kind = filters[next(counter) % len(filters)] if filters else 0
            out += _filter(kind, raw, prev, bpp)
            prev = raw
        return out

    if interlace:
        raw = b""
        for xs, ys, dx, dy in ADAM7:
            sub = [
                [s for x in range(xs, width, dx) for s in row[x * ch : x * ch + ch]]
                for row in rows[ys::dy]
            ]
            if sub and sub[0]:
                raw += image_data(sub)
    else:
        raw = image_data(rows)
    ihdr = struct.pack(">IIBBBBB", width, len(rows), depth, color_type, 0, 0, 1 if interlace else 0)
    body = _chunk(b"IHDR", ihdr)
    if palette:
        body += _chunk(b"PLTE", palette)
    if trns is not None:
        body += _chunk(b"tRNS", trns)
    z = zlib.compress(raw, 9)
    # split the data over two IDAT chunks, as real encoders do for big images
    body += _chunk(b"IDAT", z[: len(z) // 2]) + _chunk(b"IDAT", z[len(z) // 2 :])
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def expected_rgba(
    rows: list[list[int]],
    width: int,
    color_type: int,
    depth: int,
    palette: bytes = b"",
    trns: bytes | None = None,
) -> list[bytes]:
    """What the decoder should produce, computed the slow obvious way."""
    ch = CHANNELS[color_type]
    maxv = (1 << depth) - 1
    out = []
    key = None
    if trns is not None and color_type in (0, 2):
        key = struct.unpack(f">{1 if color_type == 0 else 3}H", trns)

    def to8(v: int) -> int:
        return v >> 8 if depth == 16 else v * 255 // maxv

    for row in rows:
        line = bytearray()
        for x in range(width):
            px = row[x * ch : x * ch + ch]
            if color_type == 3:
                i = px[0]
                a = trns[i] if trns is not None and i < len(trns) else 255
                line += palette[3 * i : 3 * i + 3] + bytes([a])
            elif color_type == 0:
                g = to8(px[0])
                line += bytes([g, g, g, 0 if key is not None and (px[0],) == key else 255])
            elif color_type == 4:
                g = to8(px[0])
                line += bytes([g, g, g, to8(px[1])])
            elif color_type == 2:
                line += bytes([to8(v) for v in px]) + bytes(
                    [0 if key is not None and tuple(px) == key else 255]
                )
            else:
                line += bytes([to8(v) for v in px])
        out.append(bytes(line))
    return out


def _random_rows(rng: random.Random, w: int, h: int, ch: int, maxv: int) -> list[list[int]]:
    # smooth-ish content so that every filter has real work, plus some noise
    return [
        [
            min(
                maxv,
                (x * 7 + y * 13 + k * 31) % (maxv + 1)
                if rng.random() < 0.7
                else rng.randint(0, maxv),
            )
            for x in range(w)
            for k in range(ch)
        ]
        for y in range(h)
    ]


CASES = [
    (ct, d)
    for ct, depths in {
        0: (1, 2, 4, 8, 16),
        2: (8, 16),
        3: (1, 2, 4, 8),
        4: (8, 16),
        6: (8, 16),
    }.items()
    for d in depths
]


@pytest.mark.parametrize("interlace", [False, True], ids=["plain", "adam7"])
@pytest.mark.parametrize(("color_type", "depth"), CASES, ids=[f"ct{c}-{d}bit" for c, d in CASES])
def test_every_colour_type_depth_and_filter(color_type: int, depth: int, interlace: bool) -> None:
    rng = random.Random(color_type * 100 + depth)
    w, h = 13, 11  # odd sizes: partial bytes at low depths, empty Adam7 passes at small sizes
    maxv = (1 << depth) - 1
    palette = b""
    if color_type == 3:
        palette = bytes(rng.randint(0, 255) for _ in range(3 * (maxv + 1)))
    rows = _random_rows(rng, w, h, CHANNELS[color_type], maxv)
    data = encode(
        rows, w, color_type, depth, filters=[0, 1, 2, 3, 4], interlace=interlace, palette=palette
    )
    bmp = decode_png(data)
    assert (bmp.width, bmp.height) == (w, h)
    assert bmp.rows == expected_rgba(rows, w, color_type, depth, palette)
    if Image is not None and depth == 8:
        ref = Image.open(io.BytesIO(data)).convert("RGBA").tobytes()
        assert b"".join(bmp.rows) == ref


@pytest.mark.parametrize("filt", [0, 1, 2, 3, 4], ids=["none", "sub", "up", "average", "paeth"])
def test_each_filter_alone_on_rgba(filt: int) -> None:
    rng = random.Random(filt)
    rows = _random_rows(rng, 17, 9, 4, 255)
    bmp = decode_png(encode(rows, 17, 6, 8, filters=[filt]))
    assert bmp.rows == expected_rgba(rows, 17, 6, 8)


@pytest.mark.parametrize(
    ("color_type", "depth", "trns", "sample"),
    [
        (0, 8, struct.pack(">H", 7), [7]),
        (2, 8, struct.pack(">3H", 1, 2, 3), [1, 2, 3]),
        (2, 16, struct.pack(">3H", 500, 600, 700), [500, 600, 700]),
    ],
)
def test_trns_colour_key_makes_pixels_transparent(
    color_type: int, depth: int, trns: bytes, sample: list[int]
) -> None:
    other = [9] * len(sample)
    rows = [sample + other, other + sample]
    bmp = decode_png(encode(rows, 2, color_type, depth, trns=trns))
    assert bmp.rows == expected_rgba(rows, 2, color_type, depth, trns=trns)
    assert bmp.rows[0][3] == 0 and bmp.rows[0][7] == 255


def test_palette_alpha_from_trns() -> None:
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])
    rows = [[0, 1, 2]]
    bmp = decode_png(encode(rows, 3, 3, 8, palette=palette, trns=bytes([0, 128])))
    assert bmp.rows[0] == bytes([255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255])


@pytest.mark.parametrize(
    "name",
    [
        "mpl_plot.png",
        "pillow_palette.png",
        "pillow_gray.png",
        "pillow_1bit.png",
        "pillow_gray16.png",
    ],
)
def test_files_written_by_real_tools(name: str) -> None:
    data = (DATA / name).read_bytes()
    bmp = decode_png(data)
    assert (bmp.width, bmp.height) == (100, 75)
    assert all(len(r) == 400 for r in bmp.rows)
    if Image is not None and name != "pillow_gray16.png":
        assert b"".join(bmp.rows) == Image.open(io.BytesIO(data)).convert("RGBA").tobytes()
    if name == "pillow_gray16.png":
        hdr = read_header(data)
        assert (hdr.bit_depth, hdr.color_type) == (16, 0)


def test_a_fresh_matplotlib_figure_matches_pillow() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
    ax.plot([1, 3, 2, 4])
    ax.set_title("decoder")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    bmp = decode_png(buf.getvalue())
    assert (bmp.width, bmp.height) == (180, 120)
    if Image is not None:
        assert (
            b"".join(bmp.rows) == Image.open(io.BytesIO(buf.getvalue())).convert("RGBA").tobytes()
        )


def test_matplotlib_interlaced_via_pillow_reencode() -> None:
    data = (DATA / "mpl_plot.png").read_bytes()
    plain = decode_png(data)
    rows = [list(r) for r in plain.rows]
    again = decode_png(encode(rows, plain.width, 6, 8, filters=[4, 1, 2], interlace=True))
    assert again.rows == plain.rows


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda d: d[: len(d) // 2], "truncated"),
        (lambda d: d[:40], "truncated"),
        (lambda d: b"GIF89a" + d[6:], "signature"),
        (lambda d: d[:50] + bytes([d[50] ^ 0xFF]) + d[51:], "checksum"),
        (lambda d: d[:8], "IHDR"),
        (lambda d: b"", "signature"),
    ],
    ids=["half", "header-only", "not-png", "bit-flip", "signature-only", "empty"],
)
def test_bad_files_raise_png_error_with_reason(mangle: object, words: str) -> None:
    data = (DATA / "mpl_plot.png").read_bytes()
    with pytest.raises(PngError, match=words):
        decode_png(mangle(data))  # type: ignore[operator]


def test_idat_that_decompresses_short_is_reported() -> None:
    rows = [[1, 2, 3] * 4 for _ in range(4)]
    short = encode(rows[:2], 4, 2, 8)  # 2 rows of data...
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))  # ...under a 4-row header
    forged = short[:8] + ihdr + short[8 + len(ihdr) :]
    with pytest.raises(PngError, match="truncated"):
        decode_png(forged)
    assert decode_png(encode(rows, 4, 2, 8)).height == 4


def test_bitmap_is_plain_data() -> None:
    bmp = Bitmap(1, 1, [b"\x01\x02\x03\x04"])
    assert bmp.rows[0][3] == 4
