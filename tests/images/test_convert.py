"""JpegConverter: every accepted input becomes a clean baseline sRGB JPEG; bad inputs are refused clearly."""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable

import pytest
from PIL import Image

from icop.images import ConvertOptions, ImageRejected, JpegConverter, JpegImage, convert_many
from icop.images.convert import Fit
from icop.settings import Settings

from .samples import encode, gradient, half_transparent, png_with_forged_size, swapped_rgb_icc


def open_jpeg(result: JpegImage) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    assert im.format == "JPEG"
    assert im.mode == "RGB"
    assert im.size == (result.width, result.height)
    assert "progressive" not in im.info and "progression" not in im.info  # baseline
    assert "exif" not in im.info and len(im.getexif()) == 0
    assert "icc_profile" not in im.info
    assert "xmp" not in im.info and "comment" not in im.info
    im.load()
    return im


def pixel(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    p = im.getpixel(xy)
    assert isinstance(p, tuple), p  # the JPEGs here are RGB
    return p


def near(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _i16() -> bytes:
    im = Image.new("I;16", (256, 100))
    im.putdata([x * 256 + 255 for _y in range(100) for x in range(256)])
    return encode(im, "PNG")


def _i32() -> bytes:
    im = Image.new("I", (256, 100))
    im.putdata([x * 256 for _y in range(100) for x in range(256)])
    return encode(im, "TIFF")


def _palette_transparent() -> bytes:
    return encode(half_transparent(), "GIF")  # Pillow writes a palette with a transparent index


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (120, 80), c) for c in ((0, 200, 0), (0, 0, 200))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


INPUTS: dict[str, tuple[Callable[[], bytes], str, tuple[int, int]]] = {
    # name: (make input bytes, Pillow mode as opened, expected output size)
    "png-rgb": (lambda: encode(gradient(), "PNG"), "RGB", (320, 200)),
    "png-rgba": (lambda: encode(half_transparent(), "PNG"), "RGBA", (200, 100)),
    "png-la": (lambda: encode(half_transparent().convert("LA"), "PNG"), "LA", (200, 100)),
    "png-l": (lambda: encode(gradient("L"), "PNG"), "L", (320, 200)),
    "png-1bit": (lambda: encode(gradient("1"), "PNG"), "1", (320, 200)),
    "png-palette": (
        lambda: encode(gradient().convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "P",
        (320, 200),
    ),
    "png-palette-transparent": (
        lambda: encode(
            half_transparent()
            .convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
            .convert("RGBA")
            .convert("P"),
            "PNG",
            transparency=0,
        ),
        "P",
        (200, 100),
    ),  # fmt: skip
    "png-16bit": (_i16, "I;16", (256, 100)),
    "tiff-32bit-int": (_i32, "I", (256, 100)),
    "webp-rgb": (lambda: encode(gradient(), "WEBP", quality=90), "RGB", (320, 200)),
    "webp-rgba": (lambda: encode(half_transparent(), "WEBP", lossless=True), "RGBA", (200, 100)),
    "gif-palette": (lambda: encode(gradient(), "GIF"), "P", (320, 200)),
    "gif-transparent": (_palette_transparent, "P", (200, 100)),
    "gif-animated": (_animated_gif, "P", (120, 80)),
    "jpeg-cmyk": (lambda: encode(gradient("CMYK"), "JPEG"), "CMYK", (320, 200)),
    "tiff-cmyk": (lambda: encode(gradient("CMYK"), "TIFF"), "CMYK", (320, 200)),
    "jpeg-rgb": (lambda: encode(gradient(), "JPEG", quality=95), "RGB", (320, 200)),
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_every_input_mode_converts(name: str) -> None:
    make, mode, size = INPUTS[name]
    data = make()
    assert Image.open(io.BytesIO(data)).mode == mode  # the sample really is that mode
    result = JpegConverter().convert(data)
    im = open_jpeg(result)
    assert im.size == size
    assert result.source_mode == mode
    assert result.quality == 90
    assert result.size_bytes == len(result.data) > 0
    assert len(result.sha256) == 64


def test_alpha_is_flattened_onto_the_configured_background() -> None:
    data = encode(half_transparent(), "PNG")
    white = open_jpeg(JpegConverter().convert(data))
    assert near(pixel(white, (10, 50)), (255, 0, 0))
    assert near(pixel(white, (190, 50)), (255, 255, 255))  # convert("RGB") would give black here
    blue = open_jpeg(JpegConverter(ConvertOptions(background=(0, 128, 255))).convert(data))
    assert near(pixel(blue, (190, 50)), (0, 128, 255))
    # LA and transparent palettes too
    la = open_jpeg(JpegConverter().convert(encode(half_transparent().convert("LA"), "PNG")))
    assert near(pixel(la, (190, 50)), (255, 255, 255))
    gif = open_jpeg(JpegConverter().convert(_palette_transparent()))
    assert near(pixel(gif, (190, 50)), (255, 255, 255)) and near(pixel(gif, (10, 50)), (255, 0, 0))


def test_16bit_is_scaled_not_clipped() -> None:
    im = open_jpeg(JpegConverter().convert(_i16()))
    # input value x*256+255 → x: a left-to-right ramp 0..255, not a saturated white image
    assert pixel(im, (2, 50))[0] < 20
    assert 110 < pixel(im, (128, 50))[0] < 146
    assert pixel(im, (253, 50))[0] > 235


def test_exif_orientation_applied_then_metadata_stripped() -> None:
    src = Image.new("RGB", (300, 200), (0, 0, 255))
    src.paste((255, 0, 0), (0, 0, 150, 200))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (37.0, 30.0, 0.0)}  # GPS latitude: must not survive
    data = encode(src, "JPEG", exif=exif, quality=95, comment=b"secret")
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6

    im = open_jpeg(JpegConverter().convert(data))
    assert im.size == (200, 300)  # portrait now
    assert near(pixel(im, (100, 20)), (255, 0, 0), 30)  # what was left is now on top
    assert near(pixel(im, (100, 280)), (0, 0, 255), 30)
    assert b"CameraMaker" not in JpegConverter().convert(data).data
    assert b"secret" not in JpegConverter().convert(data).data


def test_icc_profile_is_converted_to_srgb_and_not_embedded() -> None:
    icc = swapped_rgb_icc()
    red_in_swapped_space = Image.new("RGB", (64, 64), (255, 0, 0))
    for data in (encode(red_in_swapped_space, "PNG", icc_profile=icc),
                 encode(red_in_swapped_space, "JPEG", icc_profile=icc, quality=95)):  # fmt: skip
        result = JpegConverter().convert(data)
        im = open_jpeg(result)
        assert near(pixel(im, (32, 32)), (0, 0, 255), 20)  # ignoring the profile would leave it red
        assert icc not in result.data
    # with alpha: profile applied to the colour, alpha still flattened
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), (32, 0, 64, 64))
    im = open_jpeg(JpegConverter().convert(encode(rgba, "PNG", icc_profile=icc)))
    assert near(pixel(im, (10, 32)), (0, 0, 255), 20) and near(pixel(im, (54, 32)), (255, 255, 255))


def test_broken_icc_profile_does_not_reject_the_image() -> None:
    data = encode(gradient(), "PNG", icc_profile=b"not a profile at all")
    open_jpeg(JpegConverter().convert(data))


def test_quality_is_configurable() -> None:
    data = encode(gradient(size=(400, 400)), "PNG")
    low, high = JpegConverter(ConvertOptions(quality=40)).convert(data), JpegConverter().convert(data)
    assert (low.quality, high.quality) == (40, 90)
    assert low.size_bytes < high.size_bytes


@pytest.mark.parametrize(
    ("size", "fit", "expected"),
    [
        ((500, 1000), "pad", (800, 1000)),  # 1:2 → 4:5 by widening
        ((500, 1000), "crop", (500, 625)),  # 1:2 → 4:5 by cutting height
        ((2000, 500), "pad", (1440, 754)),  # 4:1, scaled to 1440 wide then heightened to 1.91:1
        ((2000, 500), "crop", (687, 360)),  # scaled to 1440×360, then cut to 1.91:1
        ((1792, 1024), "pad", (1440, 823)),  # already within range: only scaled
        ((1024, 1024), "crop", (1024, 1024)),  # within range and size: untouched
        ((3000, 4000), "pad", (1152, 1440)),  # 3:4 is taller than 4:5: scaled to 1080×1440, then widened
        ((1000, 1250), "crop", (1000, 1250)),  # exactly 4:5: untouched
    ],
)
def test_instagram_aspect_and_size(size: tuple[int, int], fit: Fit, expected: tuple[int, int]) -> None:
    data = encode(gradient(size=size), "PNG")
    result = JpegConverter(ConvertOptions.instagram(fit=fit)).convert(data)
    im = open_jpeg(result)
    assert im.size == expected
    assert 0.8 <= im.width / im.height <= 1.91
    assert max(im.size) <= 1440


def test_instagram_padding_uses_background() -> None:
    data = encode(Image.new("RGB", (500, 1000), (255, 0, 0)), "PNG")
    opts = ConvertOptions.instagram(fit="pad", background=(0, 255, 0))
    im = open_jpeg(JpegConverter(opts).convert(data))
    assert near(pixel(im, (5, 500)), (0, 255, 0)) and near(pixel(im, (400, 500)), (255, 0, 0))


def test_byte_limit_lowers_quality_stepwise_then_scales() -> None:
    noise = Image.effect_noise((1000, 1000), 80).convert("RGB")
    data = encode(noise, "PNG")
    free = JpegConverter().convert(data)
    limit = free.size_bytes // 2
    capped = JpegConverter(ConvertOptions(max_bytes=limit)).convert(data)
    open_jpeg(capped)
    assert capped.size_bytes <= limit
    assert capped.quality < 90 and (90 - capped.quality) % 5 == 0
    tiny = JpegConverter(ConvertOptions(max_bytes=20_000, min_quality=80)).convert(data)
    assert tiny.size_bytes <= 20_000 and tiny.width < 1000  # quality floor reached: it had to shrink
    assert tiny.quality == 80


# -- refusals -----------------------------------------------------------------------------------------


def _truncated_png() -> bytes:
    data = encode(Image.effect_noise((300, 300), 60).convert("RGB"), "PNG")
    return data[: len(data) // 2]


def _truncated_jpeg() -> bytes:
    data = encode(Image.effect_noise((300, 300), 60).convert("RGB"), "JPEG")
    return data[: len(data) // 3]


def _corrupt_png() -> bytes:
    data = bytearray(encode(gradient(), "PNG"))
    i = data.find(b"IDAT")
    data[i + 40 : i + 60] = b"\xff" * 20  # compressed pixel data damaged, length intact
    return bytes(data)


def _corrupt_png_header() -> bytes:
    data = bytearray(encode(gradient(), "PNG"))
    data[18] ^= 0x5A  # IHDR no longer matches its CRC
    return bytes(data)


BAD: dict[str, tuple[Callable[[], bytes], ConvertOptions, str, str]] = {
    # name: (bytes, options, reason, words the message must contain)
    "empty": (lambda: b"", ConvertOptions(), "corrupt", "empty"),
    "not-an-image": (lambda: b"<html>hello</html>" * 20, ConvertOptions(), "unsupported", "PNG or JPEG"),
    "format-not-accepted": (lambda: encode(gradient(), "PPM"), ConvertOptions(), "unsupported", "accepted"),
    "corrupt-png": (_corrupt_png, ConvertOptions(), "corrupt", "corrupt"),
    "corrupt-png-header": (_corrupt_png_header, ConvertOptions(), "unsupported", "corrupt"),
    "truncated-png": (_truncated_png, ConvertOptions(), "truncated", "incomplete"),
    "truncated-jpeg": (_truncated_jpeg, ConvertOptions(), "truncated", "incomplete"),
    "too-many-pixels": (
        lambda: encode(gradient(size=(400, 300)), "PNG"),
        ConvertOptions(max_pixels=100_000),
        "too_many_pixels",
        "Scale it down",
    ),  # fmt: skip
    "too-many-bytes": (
        lambda: encode(gradient(), "PNG"),
        ConvertOptions(max_input_bytes=1000),
        "too_large",
        "smaller file",
    ),  # fmt: skip
    "bomb-under-pillow-limit": (
        lambda: png_with_forged_size(9000, 9000),
        ConvertOptions(),
        "bomb",
        "decompression bomb",
    ),  # fmt: skip
    "bomb-over-pillow-limit": (
        lambda: png_with_forged_size(100_000, 100_000),
        ConvertOptions(),
        "bomb",
        "decompression bomb",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_inputs_are_rejected_clearly(name: str) -> None:
    make, opts, reason, words = BAD[name]
    with pytest.raises(ImageRejected) as info:
        JpegConverter(opts).convert(make())
    err = info.value
    assert err.reason == reason, err
    assert words in err.message
    assert err.retryable is False and err.status == 422
    assert str(err) == err.message
    again = pickle.loads(pickle.dumps(err))  # crosses Ray and Temporal boundaries intact
    assert (again.reason, again.message) == (err.reason, err.message)


def test_pixel_guard_does_not_depend_on_pillows_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone switched Pillow's own guard off
    with pytest.raises(ImageRejected) as info:
        JpegConverter().convert(png_with_forged_size(100_000, 100_000))
    assert info.value.reason == "bomb"
    with pytest.raises(ImageRejected):
        JpegConverter(ConvertOptions(max_pixels=10_000)).convert(encode(gradient(), "PNG"))


def test_convert_many_keeps_going_past_a_bad_input() -> None:
    good = encode(gradient(), "PNG")
    results = JpegConverter().convert_many([good, b"junk", encode(half_transparent(), "WEBP")])
    assert isinstance(results[0], JpegImage) and isinstance(results[2], JpegImage)
    assert isinstance(results[1], ImageRejected)
    assert [type(r) for r in convert_many([good])] == [JpegImage]


def test_options_from_settings() -> None:
    s = Settings(image_jpeg_quality=80, image_background="#000000", image_instagram_fit="crop")
    plain = ConvertOptions.from_settings(s)
    assert (plain.quality, plain.background, plain.max_side, plain.min_aspect) == (80, (0, 0, 0), None, None)
    ig = ConvertOptions.from_settings(s, instagram=True)
    assert (ig.fit, ig.max_side, ig.min_aspect, ig.max_aspect, ig.max_bytes) == (
        "crop",
        1440,
        0.8,
        1.91,
        8388608,
    )
    assert ConvertOptions.from_settings(s, instagram=True, fit="pad").fit == "pad"
