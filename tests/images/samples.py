"""Test inputs made with Pillow on the spot: every mode the converter accepts, and broken files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def gradient(mode: str = "RGB", size: tuple[int, int] = (320, 200)) -> Image.Image:
    """Colourful content (not flat) so that scaling and cropping show up in the pixels."""
    w, h = size
    r = Image.linear_gradient("L").resize(size)
    g = Image.linear_gradient("L").rotate(90).resize(size)
    b = Image.radial_gradient("L").resize(size)
    return Image.merge("RGB", (r, g, b)).convert(mode) if mode != "RGB" else Image.merge("RGB", (r, g, b))


def half_transparent(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """Left half opaque red, right half fully transparent (its colour channels black)."""
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
    return im


def png_with_forged_size(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width``×``height`` pixels (a decompression bomb)."""
    real = encode(Image.new("L", (1, 1)), "PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    forged = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    # signature (8) + the original IHDR chunk (4 + 4 + 13 + 4 = 25) replaced
    return real[:8] + forged + real[8 + 25 :]


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    a = text.encode("ascii") + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(a)) + a + b"\0" * 8 + b"\0\0" + b"\0" + b"\0" * 67


def swapped_rgb_icc() -> bytes:
    """An ICC v2 RGB matrix/TRC profile whose red and blue primaries are sRGB's blue and red.

    Pixels tagged with it and converted properly to sRGB swap red and blue: a test can see whether the
    converter applied the profile or ignored it.
    """
    srgb_r, srgb_g, srgb_b = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, int(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", _desc("swapped RGB")),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*srgb_b)),
        (b"gXYZ", _xyz(*srgb_g)),
        (b"bXYZ", _xyz(*srgb_r)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        while len(data) % 4:
            data += b"\0"
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
        + _xyz(0.9642, 1.0, 0.8249)[8:] + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    )  # fmt: skip
    assert len(header) == 128, len(header)
    return header + struct.pack(">I", len(tags)) + table + body
