"""Image connectors: DALL-E 3 (``openai`` SDK), FLUX (``fal-client`` queue API) and the offline
procedural provider (PNG or WEBP, so that JPEG conversion downstream is exercised)."""

from __future__ import annotations

import asyncio
import base64
import functools
import os
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from uuid import UUID

import httpx
import openai

from icop.settings import Settings

from .config import dalle_endpoint, fal_endpoint, retry_policy
from .errors import ProviderError, RetryPolicy, call_with_retries, kind_for_status, parse_retry_after
from .llm import classify_openai_error
from .placeholder import procedural_image
from .usage import Metering, UsageEvent


@dataclass(frozen=True)
class ImageRequest:
    prompt: str  # English, from the Visual Director
    width: int = 1024
    height: int = 1024
    n: int = 1
    quality: Literal["standard", "hd"] = "standard"
    tenant_id: UUID | str | None = None
    article_id: UUID | None = None


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str  # image/png, image/webp, image/jpeg
    width: int
    height: int
    provider: str
    model: str
    offline: bool = False
    revised_prompt: str | None = None
    source_url: str | None = None


class ImageProvider(Protocol):
    name: str
    model: str
    offline: bool

    async def generate(self, req: ImageRequest) -> list[GeneratedImage]: ...


def sniff_content_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "application/octet-stream"


def classify_http_error(provider: str, exc: BaseException) -> ProviderError | None:
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return ProviderError(provider, "timeout", "the request timed out; the provider may still have acted")
    if isinstance(exc, httpx.TransportError):
        return ProviderError(provider, "connection", str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.HTTPStatusError):
        r = exc.response
        return ProviderError(
            provider,
            kind_for_status(r.status_code),
            r.text[:300],
            status=r.status_code,
            retry_after=parse_retry_after(dict(r.headers)),
        )
    return None


async def _download(http: httpx.AsyncClient, url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    r = await http.get(url)
    r.raise_for_status()
    return r.content


class DalleImages:
    """DALL-E 3 through ``images.generate``; sizes snap to the three the model accepts."""

    offline = False
    SIZES = {"square": "1024x1024", "landscape": "1792x1024", "portrait": "1024x1792"}

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str = "dall-e-3",
        *,
        response_format: Literal["b64_json", "url"] = "b64_json",
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        metering: Metering | None = None,
    ) -> None:
        self.name, self.model, self.response_format = "dall-e", model, response_format
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self.http = httpx.AsyncClient(timeout=timeout)
        self.policy = policy or RetryPolicy()
        self.metering = metering or Metering()

    def size_for(self, width: int, height: int) -> str:
        ratio = width / max(height, 1)
        return self.SIZES["landscape" if ratio > 1.2 else "portrait" if ratio < 0.83 else "square"]

    def _classify(self, exc: BaseException) -> ProviderError | None:
        return classify_openai_error(self.name, exc) or classify_http_error(self.name, exc)

    async def generate(self, req: ImageRequest) -> list[GeneratedImage]:
        size = self.size_for(req.width, req.height)
        out: list[GeneratedImage] = []
        for _ in range(req.n):  # dall-e-3 takes n=1 per request

            async def call() -> Any:
                return await self.client.images.generate(
                    model=self.model,
                    prompt=req.prompt,
                    n=1,
                    size=size,
                    quality=req.quality,
                    response_format=self.response_format,
                )

            resp = await call_with_retries(self.policy, call, self._classify, provider=self.name)
            for item in resp.data or []:
                if item.b64_json:
                    data, url = base64.b64decode(item.b64_json), None
                else:
                    url = item.url or ""
                    data = await call_with_retries(
                        self.policy,
                        functools.partial(_download, self.http, url),
                        self._classify,
                        provider=self.name,
                    )
                w, h = (int(x) for x in size.split("x"))
                out.append(
                    GeneratedImage(
                        data,
                        sniff_content_type(data),
                        w,
                        h,
                        self.name,
                        self.model,
                        revised_prompt=item.revised_prompt,
                        source_url=url,
                    )
                )
        await self.metering.record(
            UsageEvent(
                "image", self.name, self.model, "generate", images=len(out), article_id=req.article_id
            ),
            req.tenant_id,
        )
        return out


def prepare_fal_env(host: str | None, ca_bundle: str | None) -> None:
    """Point ``fal-client`` at ``host`` and trust ``ca_bundle``: it reads its hosts when first imported."""
    if host:
        os.environ["FAL_RUN_HOST"] = host
        os.environ["FAL_QUEUE_RUN_HOST"] = host
    if ca_bundle:
        os.environ["SSL_CERT_FILE"] = ca_bundle
    import fal_client.client as fc

    expected = f"https://{host or 'queue.fal.run'}/"
    if fc.QUEUE_URL_FORMAT != expected:
        raise RuntimeError(
            f"fal_client was imported before its host was set (it uses {fc.QUEUE_URL_FORMAT}, settings say "
            f"{expected}); build the FLUX connector before anything imports fal_client, "
            "or set FAL_QUEUE_RUN_HOST"
        )


class FluxImages:
    """FLUX on fal.ai through ``fal_client``'s queue API: submit, poll status, fetch the result, download."""

    offline = False
    SIZES = {
        (1024, 1024): "square_hd",
        (512, 512): "square",
        (1024, 768): "landscape_4_3",
        (768, 1024): "portrait_4_3",
        (1024, 576): "landscape_16_9",
        (576, 1024): "portrait_16_9",
    }

    def __init__(
        self,
        key: str,
        model: str = "fal-ai/flux/schnell",
        *,
        host: str | None = None,
        ca_bundle: str | None = None,
        output_format: Literal["jpeg", "png"] = "png",
        timeout: float = 120.0,
        poll_interval: float = 0.05,
        policy: RetryPolicy | None = None,
        metering: Metering | None = None,
    ) -> None:
        prepare_fal_env(host, ca_bundle)
        import fal_client

        self.fal = fal_client
        self.name, self.model, self.output_format = "flux", model, output_format
        self.client = fal_client.AsyncClient(key=key, default_timeout=timeout)
        self.timeout, self.poll_interval = timeout, poll_interval
        self.http = httpx.AsyncClient(
            timeout=timeout
        )  # SSL_CERT_FILE (set above) makes it trust the emulator
        self.policy = policy or RetryPolicy()
        self.metering = metering or Metering()

    def _classify(self, exc: BaseException) -> ProviderError | None:
        if isinstance(exc, self.fal.client.FalClientHTTPError):
            kind = (
                "content_policy"
                if exc.error_type == "content_policy_violation"
                else kind_for_status(exc.status_code)
            )
            return ProviderError(
                self.name,
                kind,
                exc.message,
                status=exc.status_code,
                retry_after=parse_retry_after(exc.response_headers),
            )
        if isinstance(exc, self.fal.client.FalClientTimeoutError):
            return ProviderError(self.name, "timeout", str(exc))
        return classify_http_error(self.name, exc)

    def _size(self, req: ImageRequest) -> str | dict[str, int]:
        return self.SIZES.get((req.width, req.height)) or {"width": req.width, "height": req.height}

    async def _run_once(self, args: dict[str, Any]) -> dict[str, Any]:
        handle = await self.client.submit(self.model, arguments=args)
        try:
            return await asyncio.wait_for(handle.get(interval=self.poll_interval), timeout=self.timeout)
        except (TimeoutError, asyncio.CancelledError):
            try:  # do not leave a paid job running that nobody will collect
                await asyncio.wait_for(handle.cancel(), timeout=5)
            except Exception:  # noqa: BLE001 - best effort
                pass
            raise

    async def generate(self, req: ImageRequest) -> list[GeneratedImage]:
        args = {
            "prompt": req.prompt,
            "image_size": self._size(req),
            "num_images": req.n,
            "output_format": self.output_format,
            "enable_safety_checker": True,
        }
        result = await call_with_retries(
            self.policy, functools.partial(self._run_once, args), self._classify, provider=self.name
        )
        out = []
        for img in result.get("images", []):
            url = img["url"]
            data = await call_with_retries(
                self.policy, functools.partial(_download, self.http, url), self._classify, provider=self.name
            )
            out.append(
                GeneratedImage(
                    data,
                    img.get("content_type") or sniff_content_type(data),
                    int(img.get("width", req.width)),
                    int(img.get("height", req.height)),
                    self.name,
                    self.model,
                    source_url=None if url.startswith("data:") else url,
                )
            )
        await self.metering.record(
            UsageEvent(
                "image", self.name, self.model, "generate", images=len(out), article_id=req.article_id
            ),
            req.tenant_id,
        )
        return out


class OfflineImages:
    """Procedural pictures made locally, labelled offline; PNG (with alpha) or WEBP."""

    offline = True

    def __init__(self, fmt: Literal["PNG", "WEBP"] = "PNG", metering: Metering | None = None) -> None:
        self.name, self.model, self.fmt = "offline", f"procedural-{fmt.lower()}", fmt
        self.metering = metering or Metering()

    async def generate(self, req: ImageRequest) -> list[GeneratedImage]:
        out = []
        for i in range(req.n):
            data = await asyncio.to_thread(procedural_image, req.prompt, req.width, req.height, self.fmt, i)
            out.append(
                GeneratedImage(
                    data,
                    f"image/{self.fmt.lower()}",
                    req.width,
                    req.height,
                    self.name,
                    self.model,
                    offline=True,
                )
            )
        await self.metering.record(
            UsageEvent(
                "image", "offline", self.model, "generate", images=len(out), article_id=req.article_id
            ),
            req.tenant_id,
        )
        return out


def make_image_provider(
    settings: Settings,
    name: Literal["dall-e", "flux"],
    metering: Metering | None = None,
    offline_format: Literal["PNG", "WEBP"] = "PNG",
) -> ImageProvider:
    """DALL-E 3 or FLUX when its key is configured, else the offline procedural provider."""
    policy = retry_policy(settings)
    if name == "dall-e":
        ep = dalle_endpoint(settings)
        if ep.api_key:
            return DalleImages(
                ep.base_url,
                ep.api_key,
                ep.model,
                timeout=settings.provider_timeout_s,
                policy=policy,
                metering=metering,
            )
    else:
        ep = fal_endpoint(settings)
        if ep.api_key:
            return FluxImages(
                ep.api_key,
                ep.model,
                host=settings.fal_host,
                ca_bundle=str(settings.fal_ca_bundle) if settings.fal_ca_bundle else None,
                timeout=settings.provider_timeout_s,
                policy=policy,
                metering=metering,
            )
    return OfflineImages(offline_format, metering)
