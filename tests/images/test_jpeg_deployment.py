"""The Ray Serve JpegConverter on the session's real Ray head: keys in, stored JPEG keys and URLs out."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from icop.images import ImageRejected
from icop.settings import Settings
from icop.storage import LocalDirStore, image_key

from .samples import encode, gradient, half_transparent

pytestmark = pytest.mark.slow  # the session stack (~15 s) plus a Serve app deploy (~5 s)

TENANT = str(uuid.uuid4())


@pytest.fixture(scope="module")
def objects_dir() -> Iterator[Path]:
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="icop-jpeg-test-", dir="/tmp"))  # replicas run on this machine
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def jpeg_app_name(ray_session: None, settings: Settings, objects_dir: Path) -> Iterator[str]:
    from ray import serve

    from deployments.handles import run_app
    from deployments.jpeg import build_jpeg_app

    s = settings.model_copy(update={"storage_backend": "local", "storage_dir": objects_dir,
                                    "storage_public_base_url": "http://127.0.0.1:8088/media"})  # fmt: skip
    name = f"jpeg-test-{uuid.uuid4().hex[:8]}"
    fixed = {"num_replicas": 2, "ray_actor_options": {"num_cpus": 0.25}}  # two replicas to route between
    run_app(build_jpeg_app(s, max_batch_size=4, overrides=fixed), name)
    try:
        yield name
    finally:
        serve.delete(name)


@pytest.fixture(scope="module")
async def jpeg_handle(jpeg_app_name: str) -> object:
    """Made on the tests' event loop, as a worker makes its own (throughput mode routes on that loop)."""
    from deployments.handles import app_handle

    return app_handle(jpeg_app_name).options(method_name="convert")


async def test_keys_in_stored_jpegs_out(jpeg_handle, objects_dir: Path) -> None:
    from deployments.jpeg import JpegRequest

    store = LocalDirStore(objects_dir)
    inputs = {
        "png": encode(half_transparent((400, 300)), "PNG"),
        "webp": encode(gradient(size=(500, 250)), "WEBP"),
        "junk": b"definitely not an image" * 10,
    }
    for name, data in inputs.items():
        store.put(f"tenants/{TENANT}/uploads/{name}", data, "application/octet-stream")
    keys = [f"tenants/{TENANT}/uploads/{n}" for n in ("png", "webp", "junk", "png")]
    outcomes = await asyncio.gather(*(jpeg_handle.remote(JpegRequest(TENANT, source_key=k)) for k in keys))

    png, webp, junk, png_again = outcomes
    for o, size in ((png, (400, 300)), (webp, (500, 250))):
        assert o.ok, o
        assert o.key == image_key(TENANT, o.sha256)
        assert o.url == f"http://127.0.0.1:8088/media/{o.key}"
        im = Image.open(io.BytesIO(store.get(o.key)))
        assert im.format == "JPEG" and im.mode == "RGB" and im.size == size == (o.width, o.height)
    assert png_again.ok and png_again.key == png.key
    assert sorted([png.created, png_again.created]) == [False, True]  # the same image stored once
    assert len(list((objects_dir / f"tenants/{TENANT}/images").iterdir())) == 2

    assert not junk.ok and junk.retryable is False and junk.error_reason == "unsupported"
    with pytest.raises(ImageRejected):
        junk.raise_for_error()


async def test_bytes_ref_and_instagram_rules(jpeg_handle, objects_dir: Path) -> None:
    import ray

    from deployments.jpeg import JpegRequest

    tall = ray.put(encode(gradient(size=(600, 1200)), "PNG"))
    padded, cropped, missing = await asyncio.gather(
        jpeg_handle.remote(JpegRequest(TENANT, source_ref=tall, instagram=True, fit="pad")),
        jpeg_handle.remote(JpegRequest(TENANT, source_ref=tall, instagram=True, fit="crop")),
        jpeg_handle.remote(JpegRequest(TENANT, source_key=f"tenants/{TENANT}/uploads/nothing-here")),
    )
    assert padded.ok and (padded.width, padded.height) == (960, 1200)
    assert cropped.ok and (cropped.width, cropped.height) == (600, 750)
    assert padded.key != cropped.key
    assert not missing.ok and missing.error_reason == "not_found" and not missing.retryable
