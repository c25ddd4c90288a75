"""ImageGenerator on the session's Ray: prompt → offline provider → stored source → stored JPEG."""

from __future__ import annotations

import io
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from PIL import Image

from icop.settings import Settings
from icop.storage import LocalDirStore, image_key

pytestmark = pytest.mark.slow


async def test_prompt_to_stored_jpeg(ray_session: None, settings: Settings) -> None:
    from ray import serve

    from deployments.handles import run_app
    from deployments.images import build_images_app
    from icop.images.generate import ImageJobRequest

    root = Path(tempfile.mkdtemp(prefix="icop-imggen-test-", dir="/tmp"))
    s = settings.model_copy(update={"storage_backend": "local", "storage_dir": root})
    name = f"images-test-{uuid.uuid4().hex[:8]}"
    tenant = str(uuid.uuid4())
    try:
        handle = run_app(
            build_images_app(s, overrides={"JpegConverterDeployment": {"num_replicas": 1}}), name
        )
        results = await handle.generate.remote(
            ImageJobRequest(
                tenant, "a lighthouse at dawn", width=1200, height=400, n=2, instagram=True, fit="pad"
            )
        )
        assert len(results) == 2
        store = LocalDirStore(root)
        for r in results:
            assert r.source.offline and r.source.key.startswith(f"tenants/{tenant}/sources/")
            assert store.exists(r.source.key)
            assert r.jpeg.ok and r.jpeg.key == image_key(tenant, r.jpeg.sha256)
            with Image.open(io.BytesIO(store.get(r.jpeg.key))) as im:
                assert im.format == "JPEG" and im.size == (1200, 629)  # 3:1 padded to 1.91:1
        assert results[0].jpeg.key != results[1].jpeg.key
    finally:
        serve.delete(name)
        shutil.rmtree(root, ignore_errors=True)
