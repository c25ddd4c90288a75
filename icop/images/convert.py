"""Any accepted input image → a baseline sRGB JPEG, with Pillow. Plain Python, no Ray.

The steps, in order: size guards (bytes, then pixels from the header, before any pixel is decoded),
first frame, EXIF orientation, 16-bit and palette modes to 8-bit, embedded ICC profile → sRGB, alpha
flattened onto a background (``paste`` with the alpha as mask: ``convert("RGB")`` would turn
transparent pixels dark), optional longest-side limit and aspect-ratio clamp (Instagram: 4:5 to
1.91:1, by padding or cropping), then a baseline JPEG without any metadata, its quality lowered
stepwise when a byte limit applies.

Every failure to read the input becomes :class:`ImageRejected`; the same bytes always fail the same
way, so callers must not retry.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, cast

from PIL import Image, ImageCms, ImageColor, ImageOps, UnidentifiedImageError

from .errors import ImageRejected

if TYPE_CHECKING:
    from icop.settings import Settings

Fit = Literal["pad", "crop"]
RGB = tuple[int, int, int]

DEFAULT_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert. ``ConvertOptions.instagram()`` gives Instagram's feed-image rules."""

    quality: int = 90
    background: RGB = (255, 255, 255)
    max_pixels: int = 40_000_000
    """Largest accepted input (width × height), checked from the header before decoding."""
    max_input_bytes: int = 50 * 1024 * 1024
    formats: tuple[str, ...] = DEFAULT_FORMATS
    max_side: int | None = None
    """Longest side of the output; larger images are scaled down (never up)."""
    min_aspect: float | None = None
    """Width / height lower bound (Instagram: 0.8, i.e. 4:5)."""
    max_aspect: float | None = None
    """Width / height upper bound (Instagram: 1.91)."""
    fit: Fit = "pad"
    """How an out-of-range aspect ratio is brought in: pad with the background, or centre-crop."""
    max_bytes: int | None = None
    """Largest output file: quality steps down by ``quality_step`` to ``min_quality``, then it shrinks."""
    min_quality: int = 60
    quality_step: int = 5
    optimize: bool = False

    def __post_init__(self) -> None:
        if not (1 <= self.quality <= 95 and 1 <= self.min_quality <= 95):
            raise ValueError("JPEG quality and min_quality must lie in 1..95")
        if self.min_aspect and self.max_aspect and self.min_aspect > self.max_aspect:
            raise ValueError("min_aspect must not exceed max_aspect")

    @classmethod
    def instagram(
        cls,
        fit: Fit = "pad",
        *,
        max_side: int = 1440,
        max_bytes: int = 8 * 1024 * 1024,
        min_aspect: float = 4 / 5,
        max_aspect: float = 1.91,
        quality: int = 90,
        background: RGB = (255, 255, 255),
    ) -> ConvertOptions:
        return cls(
            quality=quality,
            background=background,
            max_side=max_side,
            max_bytes=max_bytes,
            min_aspect=min_aspect,
            max_aspect=max_aspect,
            fit=fit,
        )

    @classmethod
    def from_settings(cls, s: Settings, *, instagram: bool = False, fit: Fit | None = None) -> ConvertOptions:
        base = cls(
            quality=s.image_jpeg_quality,
            background=parse_color(s.image_background),
            max_pixels=s.image_max_pixels,
            max_input_bytes=s.image_max_input_bytes,
        )
        if not instagram:
            return base
        return replace(
            base,
            max_side=s.image_instagram_max_side,
            max_bytes=s.image_instagram_max_bytes,
            min_aspect=s.image_instagram_min_aspect,
            max_aspect=s.image_instagram_max_aspect,
            fit=fit or s.image_instagram_fit,
        )


@dataclass(frozen=True)
class JpegImage:
    data: bytes
    width: int
    height: int
    quality: int
    sha256: str
    source_format: str
    source_mode: str

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def parse_color(value: str | RGB) -> RGB:
    if isinstance(value, tuple):
        return value
    r, g, b = ImageColor.getrgb(value)[:3]
    return (r, g, b)


class JpegConverter:
    """Converts image bytes to JPEG with fixed default options (overridable per call)."""

    def __init__(self, options: ConvertOptions | None = None) -> None:
        self.options = options or ConvertOptions()

    def convert(self, data: bytes, options: ConvertOptions | None = None) -> JpegImage:
        """Convert one image; raises :class:`ImageRejected` for anything it cannot read."""
        opts = options or self.options
        im = _open(data, opts)
        fmt, mode = im.format or "?", im.mode
        try:
            rgb = _to_srgb(_decode(im), opts.background)
        finally:
            im.close()
        rgb = _fit(rgb, opts)
        return _encode(rgb, opts, fmt, mode)

    def convert_many(
        self, items: Iterable[bytes], options: ConvertOptions | None = None
    ) -> list[JpegImage | ImageRejected]:
        """Convert a batch; a rejected input yields its :class:`ImageRejected` in place, the rest go on."""
        out: list[JpegImage | ImageRejected] = []
        for data in items:
            try:
                out.append(self.convert(data, options))
            except ImageRejected as e:
                out.append(e)
        return out


# -- reading ------------------------------------------------------------------------------------------


def _open(data: bytes, opts: ConvertOptions) -> Image.Image:
    if not data:
        raise ImageRejected("corrupt", "The image is empty. Upload the image file again.")
    if len(data) > opts.max_input_bytes:
        raise ImageRejected(
            "too_large",
            f"The image file is {len(data) / 1e6:.1f} MB; the limit is {opts.max_input_bytes / 1e6:.1f} MB. "
            "Upload a smaller file.",
        )
    try:
        # Our own pixel limit below is the guard; Pillow's global MAX_IMAGE_PIXELS may raise earlier.
        im = Image.open(io.BytesIO(data), formats=list(opts.formats))
    except Image.DecompressionBombError as e:
        raise _bomb() from e
    except UnidentifiedImageError as e:
        raise ImageRejected(
            "unsupported",
            f"The file is not an image we can read (accepted: {', '.join(opts.formats)}), or it is corrupt. "
            "Export it again as PNG or JPEG.",
        ) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise _corrupt(e) from e
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise _corrupt(ValueError("zero size"))
    if w * h > opts.max_pixels:
        im.close()
        if w * h > 1000 * len(data):  # a few bytes that claim a huge canvas: a decompression bomb
            raise _bomb(w, h, opts.max_pixels)
        raise ImageRejected(
            "too_many_pixels",
            f"The image is {w}×{h} pixels ({w * h / 1e6:.0f} MP); "
            f"the limit is {opts.max_pixels / 1e6:.0f} MP. "
            "Scale it down and upload it again.",
        )
    return im


def _bomb(w: int | None = None, h: int | None = None, limit: int | None = None) -> ImageRejected:
    size = f" claims {w}×{h} pixels (limit {limit / 1e6:.0f} MP) and" if w and h and limit else ""
    return ImageRejected(
        "bomb",
        f"The image{size} looks like a decompression bomb: it would expand to far more pixels than allowed. "
        "Upload an ordinary image of a reasonable size.",
    )


def _corrupt(e: BaseException) -> ImageRejected:
    text = str(e)
    if "truncated" in text or isinstance(e, EOFError):
        return ImageRejected(
            "truncated",
            "The image file is incomplete (truncated); the upload or download was probably cut off. "
            "Upload the complete file again.",
        )
    return ImageRejected(
        "corrupt",
        f"The image file is corrupt and cannot be decoded ({text[:120]}). Export it again as PNG or JPEG.",
    )


def _decode(im: Image.Image) -> Image.Image:
    """First frame, decoded, with EXIF orientation applied. The result holds no metadata Pillow will write."""
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        im.load()
        keep: dict[str | tuple[int, int], Any] = {
            k: im.info[k] for k in ("icc_profile", "transparency") if im.info.get(k) is not None
        }
        out = ImageOps.exif_transpose(im)  # returns a new image (or a copy) without the orientation tag
    except Image.DecompressionBombError as e:
        raise _bomb() from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise _corrupt(e) from e
    out.info = keep  # only what the colour steps need; nothing else reaches the encoder
    return out


# -- colour -------------------------------------------------------------------------------------------


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey (I;16*, I, F) → L, scaled rather than clipped."""
    mode = im.mode
    if mode.startswith("I;16"):
        return im.convert("I").point(lambda v: v / 256).convert("L")
    if mode in ("I", "F"):
        lo, hi = cast(tuple[float, float], im.getextrema())
        if hi <= 255 and lo >= 0:
            return im.convert("L")
        if mode == "I" and lo >= 0 and hi <= 65535:
            return im.point(lambda v: v / 256).convert("L")
        span = (hi - lo) or 1
        return im.convert("F").point(lambda v: (v - lo) * 255.0 / span).convert("L")
    return im


def _normalise_mode(im: Image.Image) -> Image.Image:
    """To one of L, LA, RGB, RGBA, CMYK (keeping alpha where there is any)."""
    im = _to_8bit(im)
    mode = im.mode
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode in ("La",):
        return im.convert("LA")
    if mode in ("RGBa", "RGBX"):
        return im.convert("RGBA" if mode == "RGBa" else "RGB")
    return im.convert("RGB")  # YCbCr, LAB, HSV and the rest


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Colour part through the embedded profile to sRGB; alpha carried over. Bad profiles are ignored."""
    alpha = im.getchannel("A") if im.mode in ("LA", "RGBA") else None
    colour = im.convert(im.mode[:-1]) if alpha is not None else im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(colour, src, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # an unusable profile: treat the pixels as sRGB rather than refuse the image
    if converted is None:
        return im
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _to_srgb(im: Image.Image, background: RGB) -> Image.Image:
    icc = im.info.get("icc_profile")
    im = _normalise_mode(im)
    if icc:
        im = _icc_to_srgb(im, icc)
    if im.mode in ("LA", "RGBA"):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    out = im.convert("RGB") if im.mode != "RGB" else im
    out.info = {}
    return out


# -- geometry -----------------------------------------------------------------------------------------


def _fit(im: Image.Image, opts: ConvertOptions) -> Image.Image:
    if opts.max_side and max(im.size) > opts.max_side:
        im = _scale_to(im, opts.max_side)
    return _clamp_aspect(im, opts)


def _scale_to(im: Image.Image, longest: int) -> Image.Image:
    w, h = im.size
    scale = longest / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _clamp_aspect(im: Image.Image, opts: ConvertOptions) -> Image.Image:
    """Bring width/height into [min_aspect, max_aspect]; neither way makes the longest side longer."""
    w, h = im.size
    lo, hi = opts.min_aspect, opts.max_aspect
    if lo and w / h < lo:  # too tall
        if opts.fit == "pad":
            return _pad(im, math.ceil(h * lo), h, opts.background)
        new_h = max(1, math.floor(w / lo))
        top = (h - new_h) // 2
        return im.crop((0, top, w, top + new_h))
    if hi and w / h > hi:  # too wide
        if opts.fit == "pad":
            return _pad(im, w, math.ceil(w / hi), opts.background)
        new_w = max(1, math.floor(h * hi))
        left = (w - new_w) // 2
        return im.crop((left, 0, left + new_w, h))
    return im


def _pad(im: Image.Image, w: int, h: int, background: RGB) -> Image.Image:
    canvas = Image.new("RGB", (w, h), background)
    canvas.paste(im, ((w - im.width) // 2, (h - im.height) // 2))
    return canvas


# -- writing ------------------------------------------------------------------------------------------


def _save(im: Image.Image, quality: int, optimize: bool) -> bytes:
    buf = io.BytesIO()
    # No exif/icc_profile/comment arguments and an empty info: nothing but pixels is written.
    im.save(buf, "JPEG", quality=quality, optimize=optimize, progressive=False)
    return buf.getvalue()


def _encode(im: Image.Image, opts: ConvertOptions, fmt: str, mode: str) -> JpegImage:
    im.info = {}
    quality = opts.quality
    data = _save(im, quality, opts.optimize)
    while opts.max_bytes and len(data) > opts.max_bytes:
        if quality - opts.quality_step >= min(opts.min_quality, opts.quality):
            quality -= opts.quality_step
        elif max(im.size) > 64:
            im = _clamp_aspect(_scale_to(im, int(max(im.size) * 0.85)), opts)
        else:
            raise ImageRejected(
                "too_big_output",
                f"The image cannot be made smaller than {opts.max_bytes} bytes as a JPEG. "
                "Use a simpler image.",
            )
        data = _save(im, quality, opts.optimize)
    return JpegImage(
        data=data, width=im.width, height=im.height, quality=quality,
        sha256=hashlib.sha256(data).hexdigest(), source_format=fmt, source_mode=mode,
    )  # fmt: skip


def convert_many(
    items: Sequence[bytes], options: ConvertOptions | None = None
) -> list[JpegImage | ImageRejected]:
    """Module-level shortcut for ``JpegConverter(options).convert_many(items)``."""
    return JpegConverter(options).convert_many(items)
