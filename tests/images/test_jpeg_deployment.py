"""The Ray Serve JpegConverter on the session's real Ray head: keys in, stored JPEG keys and URLs out."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
def serve_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop that runs for the whole module, as a worker's runs for its process. Serve binds a
    handle's router to the loop it is first used on (throughput mode), and a router that gets a controller
    update while that loop is stopped disables itself for good; pytest-asyncio's loop stops between a
    fixture and a test, and between tests (CI: both tests hung until their timeouts)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="serve-loop", daemon=True)
    thread.start()
    yield loop

    async def cancel_the_rest() -> None:  # the routers' own tasks
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


async def convert(loop: asyncio.AbstractEventLoop, app_name: str, *requests: object) -> list[Any]:
    """The JpegConverter's answers to ``requests``, sent at once by a handle made and used on ``loop``."""
    from deployments.handles import app_handle

    async def calls() -> list[Any]:
        handle = app_handle(app_name).options(method_name="convert")
        return list(await asyncio.gather(*(handle.remote(r) for r in requests)))

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(calls(), loop))


async def test_keys_in_stored_jpegs_out(
    serve_loop: asyncio.AbstractEventLoop, jpeg_app_name: str, objects_dir: Path
) -> None:
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
    outcomes = await convert(serve_loop, jpeg_app_name, *(JpegRequest(TENANT, source_key=k) for k in keys))

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


async def test_bytes_ref_and_instagram_rules(
    serve_loop: asyncio.AbstractEventLoop, jpeg_app_name: str, objects_dir: Path
) -> None:
    import ray

    from deployments.jpeg import JpegRequest

    tall = ray.put(encode(gradient(size=(600, 1200)), "PNG"))
    padded, cropped, missing = await convert(
        serve_loop,
        jpeg_app_name,
        JpegRequest(TENANT, source_ref=tall, instagram=True, fit="pad"),
        JpegRequest(TENANT, source_ref=tall, instagram=True, fit="crop"),
        JpegRequest(TENANT, source_key=f"tenants/{TENANT}/uploads/nothing-here"),
    )
    assert padded.ok and (padded.width, padded.height) == (960, 1200)
    assert cropped.ok and (cropped.width, cropped.height) == (600, 750)
    assert padded.key != cropped.key
    assert not missing.ok and missing.error_reason == "not_found" and not missing.retryable
