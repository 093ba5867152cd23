"""A small PNG decoder using only the standard library (zlib).

Decodes every colour type (grey, RGB, palette, grey+alpha, RGBA) at every legal bit depth
(1, 2, 4, 8, 16), the five filter types, tRNS transparency and Adam7 interlacing, to 8-bit RGBA
rows.  Corrupt or truncated files raise :class:`PngError` with a short reason.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 2_500_000
"""Images with more pixels than this are refused: the decoder is pure Python and takes about a
second or two at this size (a 1920×1280 figure); bigger ones go to Pillow when it is installed."""

_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


class PngError(ValueError):
    """The data is not a PNG this decoder can read; the message says why."""


class PngTooLarge(PngError):
    """A valid PNG with more than :data:`MAX_PIXELS` pixels."""


@dataclass(frozen=True)
class Bitmap:
    """Decoded pixels: ``rows[y]`` holds ``4 * width`` bytes of R, G, B, A."""

    width: int
    height: int
    rows: list[bytes]


@dataclass(frozen=True)
class PngHeader:
    """The IHDR fields of a PNG."""

    width: int
    height: int
    bit_depth: int
    color_type: int
    interlace: int


def read_header(data: bytes) -> PngHeader:
    """The image header, checked; cheap (does not decompress anything)."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file (bad signature)")
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise PngError("truncated PNG (no IHDR chunk)")
    w, h, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", data[16:29])
    if w == 0 or h == 0:
        raise PngError(f"PNG has an empty size ({w}×{h})")
    if ctype not in _CHANNELS or depth not in _DEPTHS[ctype]:
        raise PngError(f"PNG colour type {ctype} with bit depth {depth} is not valid")
    if comp != 0 or filt != 0 or inter not in (0, 1):
        raise PngError("PNG uses an unknown compression, filter or interlace method")
    return PngHeader(w, h, depth, ctype, inter)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length or pos + 12 + length > len(data):
            raise PngError(f"truncated PNG (chunk {ctype.decode('latin-1')!r} cut short)")
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(ctype + body) != crc:
            raise PngError(f"corrupt PNG (bad checksum in chunk {ctype.decode('latin-1')!r})")
        out.append((ctype, body))
        if ctype == b"IEND":
            return out
        pos += 12 + length
    raise PngError("truncated PNG (no IEND chunk)")


def check_png(data: bytes) -> None:
    """Check a PNG's header and chunk structure (checksums, IEND) without decompressing."""
    read_header(data)
    if not any(kind == b"IDAT" for kind, _ in _chunks(data)):
        raise PngError("PNG has no image data (no IDAT chunk)")


def _unfilter(raw: bytes, width: int, height: int, bpp: int, rowbytes: int) -> list[bytearray]:
    """Undo the per-row filters of one (sub)image; ``bpp`` is bytes per complete pixel."""
    rows: list[bytearray] = []
    prev = bytearray(rowbytes)
    mask7 = int.from_bytes(b"\x7f" * rowbytes, "big")
    mask8 = int.from_bytes(b"\x80" * rowbytes, "big")
    stride = rowbytes + 1
    for y in range(height):
        ftype = raw[y * stride]
        line = bytearray(raw[y * stride + 1 : (y + 1) * stride])
        if ftype == 0:
            pass
        elif ftype == 1:  # Sub
            for i in range(bpp, rowbytes):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:  # Up: bytewise add without carries, on one big integer
            a = int.from_bytes(line, "big")
            b = int.from_bytes(prev, "big")
            line = bytearray(
                (((a & mask7) + (b & mask7)) ^ ((a ^ b) & mask8)).to_bytes(rowbytes, "big")
            )
        elif ftype == 3:  # Average
            for i in range(min(bpp, rowbytes)):
                line[i] = (line[i] + (prev[i] >> 1)) & 255
            for i in range(bpp, rowbytes):
                line[i] = (line[i] + ((line[i - bpp] + prev[i]) >> 1)) & 255
        elif ftype == 4:  # Paeth
            for i in range(min(bpp, rowbytes)):
                line[i] = (line[i] + prev[i]) & 255
            for i in range(bpp, rowbytes):
                a = line[i - bpp]
                b = prev[i]
                c = prev[i - bpp]
                p = a + b - c
                pa = p - a if p > a else a - p
                pb = p - b if p > b else b - p
                pc = p - c if p > c else c - p
                if pa <= pb and pa <= pc:
                    line[i] = (line[i] + a) & 255
                elif pb <= pc:
                    line[i] = (line[i] + b) & 255
                else:
                    line[i] = (line[i] + c) & 255
        else:
            raise PngError(f"corrupt PNG (unknown filter type {ftype} in row {y})")
        rows.append(line)
        prev = line
    return rows


def _samples(line: bytes | bytearray, depth: int, count: int) -> list[int]:
    """Unpack ``count`` samples of 1, 2 or 4 bits each."""
    per = 8 // depth
    mask = (1 << depth) - 1
    shifts = [8 - depth * (k + 1) for k in range(per)]
    return [(byte >> s) & mask for byte in line for s in shifts][:count]


class _Converter:
    """Turns unfiltered rows of one colour type and depth into RGBA bytes."""

    def __init__(self, hdr: PngHeader, palette: bytes | None, trns: bytes | None) -> None:
        self.hdr = hdr
        self.trns = trns
        self.lut: list[bytes] = []
        if hdr.color_type == 3:
            if palette is None:
                raise PngError("palette PNG without a PLTE chunk")
            n = len(palette) // 3
            alpha = trns or b""
            self.lut = [
                palette[3 * i : 3 * i + 3] + bytes([alpha[i] if i < len(alpha) else 255])
                for i in range(n)
            ]
            self.lut += [b"\x00\x00\x00\xff"] * (256 - n)

    def rgba(self, line: bytes | bytearray, width: int) -> bytes:
        hdr = self.hdr
        ct, depth = hdr.color_type, hdr.bit_depth
        if ct == 3:
            idx = line[:width] if depth == 8 else _samples(line, depth, width)
            lut = self.lut
            return b"".join([lut[i] for i in idx])
        key: tuple[int, ...] | None = None
        if self.trns is not None and ct in (0, 2):
            n = 1 if ct == 0 else 3
            if len(self.trns) >= 2 * n:
                key = struct.unpack(f">{n}H", self.trns[: 2 * n])
        if depth < 8:  # grey only
            maxv = (1 << depth) - 1
            vals = _samples(line, depth, width)
            grey = bytes(v * 255 // maxv for v in vals)
            alpha = (
                bytes(0 if key is not None and v == key[0] else 255 for v in vals) if key else None
            )
            return _interleave_grey(grey, alpha, width)
        if depth == 16:
            if key is not None:
                n = 1 if ct == 0 else 3
                wide = struct.unpack(f">{width * n}H", line[: 2 * width * n])
                opaque = [tuple(wide[i * n : i * n + n]) != key for i in range(width)]
            line = line[0::2]
        elif key is not None:
            n = 1 if ct == 0 else 3
            opaque = [tuple(line[i * n : i * n + n]) != key for i in range(width)]
        alpha = bytes(255 if o else 0 for o in opaque) if key is not None else None
        if ct == 0:
            return _interleave_grey(bytes(line[:width]), alpha, width)
        if ct == 4:
            return _interleave_grey(
                bytes(line[0 : 2 * width : 2]), bytes(line[1 : 2 * width : 2]), width
            )
        out = bytearray(4 * width)
        if ct == 2:
            out[0::4] = line[0 : 3 * width : 3]
            out[1::4] = line[1 : 3 * width : 3]
            out[2::4] = line[2 : 3 * width : 3]
            out[3::4] = alpha if alpha is not None else b"\xff" * width
            return bytes(out)
        return bytes(line[: 4 * width])  # ct == 6


def _interleave_grey(grey: bytes, alpha: bytes | None, width: int) -> bytes:
    out = bytearray(4 * width)
    out[0::4] = grey
    out[1::4] = grey
    out[2::4] = grey
    out[3::4] = alpha if alpha is not None else b"\xff" * width
    return bytes(out)


def decode_png(data: bytes) -> Bitmap:
    """Decode a PNG to 8-bit RGBA rows, or raise :class:`PngError` saying what is wrong."""
    hdr = read_header(data)
    if hdr.width * hdr.height > MAX_PIXELS:
        raise PngTooLarge(
            f"PNG too large for the built-in decoder ({hdr.width}×{hdr.height} pixels)"
        )
    palette: bytes | None = None
    trns: bytes | None = None
    idat: list[bytes] = []
    for ctype, body in _chunks(data):
        if ctype == b"PLTE":
            palette = body
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
    if not idat:
        raise PngError("PNG has no image data (no IDAT chunk)")
    channels = _CHANNELS[hdr.color_type]
    bits_pp = channels * hdr.bit_depth
    bpp = max(1, bits_pp // 8)

    def rowbytes_for(w: int) -> int:
        return (w * bits_pp + 7) // 8

    if hdr.interlace:
        passes = []
        for xs, ys, dx, dy in _ADAM7:
            pw = (hdr.width - xs + dx - 1) // dx
            ph = (hdr.height - ys + dy - 1) // dy
            passes.append((xs, ys, dx, dy, pw, ph))
        expected = sum(ph * (rowbytes_for(pw) + 1) for *_, pw, ph in passes if pw and ph)
    else:
        expected = hdr.height * (rowbytes_for(hdr.width) + 1)
    try:
        dec = zlib.decompressobj()
        raw = dec.decompress(b"".join(idat), expected)
    except zlib.error as e:
        raise PngError(f"corrupt PNG image data ({e})") from e
    if len(raw) < expected:
        raise PngError(f"truncated PNG image data ({len(raw)} of {expected} bytes)")
    conv = _Converter(hdr, palette, trns)
    if not hdr.interlace:
        rows = _unfilter(raw, hdr.width, hdr.height, bpp, rowbytes_for(hdr.width))
        return Bitmap(hdr.width, hdr.height, [conv.rgba(r, hdr.width) for r in rows])
    image = [bytearray(4 * hdr.width) for _ in range(hdr.height)]
    pos = 0
    for xs, ys, dx, dy, pw, ph in passes:
        if not pw or not ph:
            continue
        rb = rowbytes_for(pw)
        rows = _unfilter(raw[pos : pos + ph * (rb + 1)], pw, ph, bpp, rb)
        pos += ph * (rb + 1)
        for j, r in enumerate(rows):
            px = conv.rgba(r, pw)
            target = image[ys + j * dy]
            for i in range(pw):
                x = xs + i * dx
                target[4 * x : 4 * x + 4] = px[4 * i : 4 * i + 4]
    return Bitmap(hdr.width, hdr.height, [bytes(r) for r in image])
