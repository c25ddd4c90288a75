"""What the offline providers make when a provider has no key: placeholders that say what they are.

Text is a labelled placeholder, not a draft: its first line starts with ``OFFLINE_MARK`` and repeats the
request's first line, the next says that no model wrote it (in Korean when the request has Hangul).
Pictures are procedural, with a visible label and ``IMAGE_SOFTWARE`` in their metadata. Pure functions
(Pillow only).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from .tokens import count_tokens, message_text

OFFLINE_MARK = "[offline]"
IMAGE_SOFTWARE = "icop offline procedural image"

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NOTE = {
    "en": "(offline placeholder: no language model wrote this)",
    "ko": "(오프라인 자리 표시: 언어 모델 없이 만든 글입니다)",
}


def placeholder_text(
    messages: Iterable[Mapping[str, Any]], *, max_tokens: int | None = None, stop: list[str] | None = None
) -> str:
    """The placeholder for a chat request, cut at ``stop`` and ``max_tokens``."""
    msgs = list(messages)
    asked = "\n".join(message_text(m.get("content")) for m in msgs if m.get("role") == "user")
    asked = asked or "\n".join(message_text(m.get("content")) for m in msgs)
    subject = next((line.strip() for line in asked.splitlines() if line.strip()), "")[:100]
    text = f"{OFFLINE_MARK} {subject}\n\n{_NOTE['ko' if _HANGUL.search(asked) else 'en']}"
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    while max_tokens is not None and count_tokens(text) > max_tokens and " " in text:
        text = text.rsplit(" ", 1)[0]
    return text


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


ImageFormat = Literal["PNG", "WEBP", "JPEG"]


def procedural_image(
    prompt: str, width: int = 1024, height: int = 1024, fmt: ImageFormat = "PNG", seed: int = 0
) -> bytes:
    """A deterministic abstract picture for ``prompt``, labelled as made offline.

    PNG keeps an alpha channel (a translucent band), so a JPEG conversion must flatten it.
    """
    from PIL import Image, ImageDraw, PngImagePlugin

    h = _seed(prompt, str(seed))
    hue = (h % 360) / 360
    c1 = tuple(int(255 * v) for v in colorsys.hsv_to_rgb(hue, 0.55, 0.95))
    c2 = tuple(int(255 * v) for v in colorsys.hsv_to_rgb((hue + 0.33) % 1, 0.65, 0.55))
    grad = Image.linear_gradient("L").rotate((h >> 9) % 360).resize((width, height))
    img = Image.composite(Image.new("RGB", (width, height), c1), Image.new("RGB", (width, height), c2), grad)
    img = img.convert("RGBA")
    draw = ImageDraw.Draw(img, "RGBA")
    for i in range(6):
        r = ((h >> (i * 5)) % 97 + 40) * min(width, height) // 512
        x = (h >> (i * 7)) % max(1, width)
        y = (h >> (i * 11)) % max(1, height)
        col = tuple(int(255 * v) for v in colorsys.hsv_to_rgb((hue + i / 6) % 1, 0.5, 0.9)) + (150,)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
    band = max(24, height // 12)
    if fmt == "PNG":  # a truly transparent band: converters must flatten alpha
        alpha = Image.new("L", (width, height), 255)
        ImageDraw.Draw(alpha).rectangle((0, height - band, width, height), fill=0)
        img.putalpha(alpha)
    draw.rectangle((0, 0, width, band), fill=(0, 0, 0, 120))
    draw.text((band // 3, band // 4), "OFFLINE IMAGE - procedural, no model", fill=(255, 255, 255, 255))
    buf = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", IMAGE_SOFTWARE)
        info.add_text("Description", prompt[:500])
        img.save(buf, "PNG", pnginfo=info, compress_level=1)
    elif fmt == "WEBP":
        exif = Image.Exif()
        exif[0x0131] = IMAGE_SOFTWARE  # Software
        img.save(buf, "WEBP", quality=80, exif=exif.tobytes())
    else:
        exif = Image.Exif()
        exif[0x0131] = IMAGE_SOFTWARE
        img.convert("RGB").save(buf, "JPEG", quality=85, exif=exif.tobytes())
    return buf.getvalue()
