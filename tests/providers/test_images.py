"""DALL-E 3 (``openai`` SDK) and FLUX (``fal-client`` over TLS) against the emulators, and the
offline procedural provider."""

from __future__ import annotations

import io
import ssl
import time
from typing import Literal, cast

import httpx
import openai
import pytest
from PIL import Image

from emulators.client import EmulatorAdmin
from emulators.synthesis import OFFLINE_MARK
from icop.connectors.errors import ProviderError
from icop.connectors.images import DalleImages, FluxImages, ImageRequest, OfflineImages, make_image_provider
from icop.connectors.placeholder import IMAGE_SOFTWARE
from icop.connectors.usage import Metering, UsageRecorder
from icop.settings import Settings

from .conftest import emulator_settings, new_tenant, usage_rows


def _settings(base: Settings, **kw: object) -> Settings:
    from cluster.emulators import EmulatorsComponent

    return emulator_settings(EmulatorsComponent(base), **kw)


def flux(s: Settings, **kw: object) -> FluxImages:
    p = make_image_provider(s, "flux")
    assert isinstance(p, FluxImages)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


# ---- DALL-E 3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("w", "h", "size"), [(1024, 1024, "1024x1024"), (1600, 900, "1792x1024"), (800, 1200, "1024x1792")]
)
async def test_dalle3_b64_json(
    w: int, h: int, size: str, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    p = make_image_provider(emu_settings, "dall-e")
    assert isinstance(p, DalleImages) and not p.offline
    [img] = await p.generate(ImageRequest("a watercolor lighthouse at dawn", w, h))
    assert (
        img.content_type == "image/png" and img.revised_prompt and img.revised_prompt.startswith(OFFLINE_MARK)
    )
    with Image.open(io.BytesIO(img.data)) as im:
        assert f"{im.width}x{im.height}" == size
    [entry] = admin.requests("images")
    assert entry["path"] == "/openai/v1/images/generations"
    assert entry["body"] == {
        "model": "dall-e-3",
        "prompt": "a watercolor lighthouse at dawn",
        "n": 1,
        "size": size,
        "quality": "standard",
        "response_format": "b64_json",
    }


async def test_dalle3_url_is_downloaded_from_where_the_service_says(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    p = make_image_provider(emu_settings, "dall-e")
    assert isinstance(p, DalleImages)
    p.response_format = "url"
    [img] = await p.generate(ImageRequest("a red bicycle", 1024, 1024, n=1, quality="hd"))
    assert emu_settings.openai_base_url is not None
    assert img.source_url and img.source_url.startswith(
        emu_settings.openai_base_url.split("/openai")[0] + "/files/"
    )
    assert img.data.startswith(b"\x89PNG")


async def test_dalle3_errors(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    p = make_image_provider(emu_settings, "dall-e")
    with pytest.raises(ProviderError) as info:
        await p.generate(ImageRequest("forbidden-content please"))
    assert (info.value.kind, info.value.status, info.value.retryable) == ("content_policy", 400, False)
    client = openai.AsyncOpenAI(api_key="k", base_url=emu_settings.openai_base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        await client.images.generate(model="dall-e-3", prompt="x", size="512x512")
    assert bad.value.code == "invalid_value" and bad.value.param == "size"
    with pytest.raises(openai.BadRequestError) as bad_n:
        await client.images.generate(model="dall-e-3", prompt="x", n=2)
    assert "n=1" in bad_n.value.message
    admin.knobs("images", error_kind="429", error_count=1, retry_after_s=1)
    t0 = time.monotonic()
    assert len(await p.generate(ImageRequest("a kite"))) == 1
    assert time.monotonic() - t0 >= 1.0
    admin.knobs("images", error_kind="500", error_count=5)
    with pytest.raises(ProviderError) as server:
        await make_image_provider(_settings(emu_settings, provider_max_attempts=2), "dall-e").generate(
            ImageRequest("x")
        )
    assert (server.value.kind, server.value.retryable) == ("server_error", True)
    assert [e["status"] for e in admin.requests("images")][-2:] == [500, 500]


# ---- FLUX via fal-client ------------------------------------------------------------------------


async def test_flux_queue_submit_status_result(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("fal", job_queue_ms=80, job_run_ms=120)
    p = flux(emu_settings)
    images = await p.generate(ImageRequest("a fox in the snow, cinematic", 1024, 768, n=2))
    assert len(images) == 2
    for img in images:
        assert img.content_type == "image/png" and (img.width, img.height) == (1024, 768)
        with Image.open(io.BytesIO(img.data)) as im:
            assert im.size == (1024, 768) and im.format == "PNG"
        assert img.source_url and img.source_url.startswith(f"https://{emu_settings.fal_host}/files/")
    log = admin.requests("fal")
    submit = log[0]
    assert submit["method"] == "POST" and submit["path"] == "/fal-ai/flux/schnell"
    assert submit["body"]["image_size"] == "landscape_4_3" and submit["body"]["num_images"] == 2
    assert submit["key"] == "-key"  # "Authorization: Key <FAL_KEY>"
    statuses = [e["meta"].get("status") for e in log if e["path"].split("?")[0].endswith("/status")]
    assert "IN_QUEUE" in statuses and statuses[-1] == "COMPLETED"
    assert log[-1]["method"] == "GET" and log[-1]["path"].endswith(submit["meta"]["request_id"])


async def test_flux_custom_size_jpeg(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    p = flux(emu_settings, output_format="jpeg")
    [img] = await p.generate(ImageRequest("mountains", 800, 1000))
    assert img.content_type == "image/jpeg" and img.data.startswith(b"\xff\xd8")
    assert admin.requests("fal")[0]["body"]["image_size"] == {"width": 800, "height": 1000}


async def test_flux_cancel_and_client_timeout(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    import fal_client

    admin.knobs("fal", job_queue_ms=60000)
    client = fal_client.AsyncClient(key="emulator-key")
    handle = await client.submit("fal-ai/flux/dev", arguments={"prompt": "x"})
    assert isinstance(await handle.status(), fal_client.Queued)
    await handle.cancel()
    done = await handle.status(with_logs=True)
    assert isinstance(done, fal_client.Completed) and done.error_type == "request_cancelled"
    # The connector gives up after its timeout and cancels the job it leaves behind.
    p = flux(_settings(emu_settings, provider_max_attempts=1), timeout=0.5)
    with pytest.raises(ProviderError) as info:
        await p.generate(ImageRequest("y"))
    assert info.value.kind == "timeout" and info.value.retryable
    assert any(
        e["method"] == "PUT" and e["path"].endswith("/cancel") and e["status"] == 202
        for e in admin.requests("fal")
    )


async def test_flux_errors(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    once = _settings(emu_settings, provider_max_attempts=1)
    admin.knobs("fal", error_kind="500", error_count=1)
    with pytest.raises(ProviderError) as info:
        await flux(once).generate(ImageRequest("x"))
    assert (info.value.kind, info.value.status, info.value.retryable) == ("server_error", 500, True)
    admin.knobs("fal", revoked_keys=["emulator-key"])
    with pytest.raises(ProviderError) as auth:
        await flux(once).generate(ImageRequest("x"))
    assert (auth.value.kind, auth.value.retryable) == ("auth", False)
    admin.knobs("fal", revoked_keys=[], error_kind="503", error_count=1, retry_after_s=1)
    t0 = time.monotonic()
    assert len(await flux(emu_settings).generate(ImageRequest("x"))) == 1  # ours retried after Retry-After
    assert time.monotonic() - t0 >= 1.0
    # fal-client itself retries 429 (its RETRY_CODES); the request succeeds after the emulator's refusal.
    admin.knobs("fal", error_kind="429", error_count=1)
    assert len(await flux(once).generate(ImageRequest("x"))) == 1
    import fal_client

    with pytest.raises(fal_client.client.FalClientHTTPError) as bad:
        await fal_client.AsyncClient(key="k").submit(
            "fal-ai/flux/schnell", arguments={"prompt": "x", "num_images": 9}
        )
    assert bad.value.status_code == 422 and bad.value.error_type == "validation_error"


async def test_fal_emulator_is_real_tls(emu_settings: Settings, cert_dir) -> None:
    url = f"https://{emu_settings.fal_host}/_admin/health"
    async with httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=str(emu_settings.fal_ca_bundle))
    ) as ok:
        assert (await ok.get(url)).status_code == 200
    import certifi

    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=certifi.where())) as strict:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await strict.get(url)
    assert emu_settings.fal_ca_bundle is not None
    bundle = emu_settings.fal_ca_bundle.read_text()
    assert bundle.count("BEGIN CERTIFICATE") > 10, "the bundle keeps the system CAs"


# ---- offline --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_offline_images_are_labelled_and_need_conversion(
    fmt: Literal["PNG", "WEBP"], emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    bare = Settings(state_dir=emu_settings.state_dir)
    names: tuple[Literal["dall-e", "flux"], ...] = ("dall-e", "flux")
    for name in names:
        p = make_image_provider(bare, name, offline_format=fmt)
        assert isinstance(p, OfflineImages) and p.offline
        [a] = await p.generate(ImageRequest("a lighthouse", 640, 480))
        [b] = await p.generate(ImageRequest("a lighthouse", 640, 480))
        assert a.data == b.data and a.offline and a.content_type == f"image/{fmt.lower()}"
        with Image.open(io.BytesIO(a.data)) as im:
            assert im.format == fmt and im.size == (640, 480)
            if fmt == "PNG":
                bands = cast("tuple[tuple[int, int], ...]", im.getextrema())  # RGBA: (min, max) per band
                assert im.mode == "RGBA" and bands[3][0] == 0  # transparent pixels: JPEG must flatten
                assert im.info.get("Software") == IMAGE_SOFTWARE
            else:
                assert im.getexif().get(0x0131) == IMAGE_SOFTWARE
    assert admin.requests() == []


async def test_image_usage_is_recorded(emu_settings: Settings, admin: EmulatorAdmin, app_pool) -> None:
    tenant = await new_tenant(app_pool, "images")
    m = Metering(UsageRecorder(app_pool), tenant)
    await make_image_provider(emu_settings, "dall-e", m).generate(ImageRequest("a"))
    await flux(emu_settings, metering=m).generate(ImageRequest("b", n=2))
    await make_image_provider(Settings(state_dir=emu_settings.state_dir), "flux", m).generate(
        ImageRequest("c")
    )
    rows = await usage_rows(app_pool, tenant, "kind, provider, model, images")
    assert [tuple(r) for r in rows] == [
        ("image", "dall-e", "dall-e-3", 1),
        ("image", "flux", "fal-ai/flux/schnell", 2),
        ("image", "offline", "procedural-png", 1),
    ]
