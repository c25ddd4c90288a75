"""An image from each provider (DALL-E 3 and FLUX through their emulators, and the offline provider)
flows to a stored JPEG: provider bytes → JpegConverter → content-addressed object in the store."""

from __future__ import annotations

import io
import uuid
from typing import Literal

import pytest
from PIL import Image

from icop.connectors.images import ImageProvider, ImageRequest, OfflineImages, make_image_provider
from icop.images import ConvertOptions
from icop.images.service import ConvertJob, StoredJpegConverter
from icop.settings import Settings
from icop.storage import LocalDirStore, S3Store, image_key

# The providers' emulator fixtures (a private emulator process on fresh loopback ports).
from tests.providers.conftest import emu_settings, emulators  # noqa: F401 - fixtures, used by name

TENANT = str(uuid.uuid4())


def _check_stored(store: LocalDirStore | S3Store, outcome, size: tuple[int, int]) -> None:
    assert outcome.ok, outcome
    assert outcome.key == image_key(TENANT, outcome.sha256)
    with Image.open(io.BytesIO(store.get(outcome.key))) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and im.size == size
        assert "exif" not in im.info and "icc_profile" not in im.info


@pytest.mark.parametrize(
    ("provider", "fmt"),
    [("dall-e", "png"), ("flux", "png"), ("flux", "jpeg"), ("offline", "PNG"), ("offline", "WEBP")],
)
async def test_provider_image_becomes_a_stored_jpeg(
    provider: Literal["dall-e", "flux", "offline"],
    fmt: str,
    emu_settings: Settings,  # noqa: F811 - the imported fixture
    local_store: LocalDirStore,
) -> None:
    p: ImageProvider
    if provider == "offline":
        p = OfflineImages(fmt)  # type: ignore[arg-type]  # "PNG" or "WEBP" in the offline cases
    else:
        p = make_image_provider(emu_settings, provider)
        assert not p.offline
        if fmt == "jpeg":
            p.output_format = "jpeg"  # type: ignore[attr-defined]  # FLUX's option: only its case asks for it
    [img] = await p.generate(ImageRequest("a lighthouse at dawn, watercolor", 1024, 1024))
    core = StoredJpegConverter(local_store)
    outcome = core.run(ConvertJob(TENANT, data=img.data))
    _check_stored(local_store, outcome, (img.width, img.height))
    again = core.run(ConvertJob(TENANT, data=img.data))
    assert again.key == outcome.key and again.created is False


async def test_wide_dalle_image_to_instagram_on_s3(emu_settings: Settings, s3_store: S3Store) -> None:  # noqa: F811 - the imported fixture
    p = make_image_provider(emu_settings, "dall-e")
    [img] = await p.generate(ImageRequest("a wide panorama of mountains", 1792, 1024))
    assert (img.width, img.height) == (1792, 1024)
    core = StoredJpegConverter(s3_store, instagram=ConvertOptions.instagram(fit="crop"))
    outcome = core.run(ConvertJob(TENANT, data=img.data, instagram=True))
    _check_stored(s3_store, outcome, (1440, 823))  # 1.75:1 is within 4:5..1.91:1: only scaled to 1440
    assert 0.8 <= outcome.width / outcome.height <= 1.91
