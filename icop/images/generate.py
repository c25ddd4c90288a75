"""Generate images with a provider and keep the provider's output in the store, by key.

Plain Python over the image connectors (``icop.connectors.images``): the Ray Serve ImageGenerator is
a shell over :class:`ImageSources`. The provider's own bytes (PNG, WEBP or JPEG) are stored under
``tenants/{tenant}/sources/{sha256}.{ext}`` so that the converter can be handed a key, not bytes.
Concurrent calls per provider are bounded, so one replica never exceeds what a provider allows.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from icop.storage import ObjectStore, source_key

from .convert import Fit
from .service import ConvertJob, ConvertOutcome, StoredJpegConverter

if TYPE_CHECKING:
    from icop.connectors.images import ImageProvider

ProviderName = Literal["dall-e", "flux", "offline"]
_EXT = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass(frozen=True)
class GenerateJob:
    tenant_id: str
    prompt: str  # English, from the Visual Director
    provider: ProviderName = "offline"
    width: int = 1024
    height: int = 1024
    n: int = 1
    article_id: str | None = None


@dataclass(frozen=True)
class StoredSource:
    key: str
    content_type: str
    width: int
    height: int
    provider: str
    model: str
    offline: bool
    revised_prompt: str | None = None
    source_url: str | None = None


class ImageSources:
    """Providers by name, each behind its own concurrency bound, writing their output to ``store``."""

    def __init__(
        self,
        providers: Mapping[str, ImageProvider],
        store: ObjectStore,
        max_concurrent: Mapping[str, int] | None = None,
        default_concurrent: int = 16,
    ) -> None:
        """``max_concurrent``: calls in flight by provider name; others get ``default_concurrent``
        (``Settings.image_provider_concurrency``)."""
        self.providers = dict(providers)
        self.store = store
        limits = max_concurrent or {}
        self._gates = {
            name: asyncio.Semaphore(limits.get(name, default_concurrent)) for name in self.providers
        }

    async def generate(self, job: GenerateJob) -> list[StoredSource]:
        from icop.connectors.images import ImageRequest

        provider = self.providers.get(job.provider)
        if provider is None:
            raise ValueError(f"unknown image provider {job.provider!r}; known: {sorted(self.providers)}")
        request = ImageRequest(job.prompt, job.width, job.height, n=job.n, tenant_id=job.tenant_id)
        async with self._gates[job.provider]:
            images = await provider.generate(request)
        out = []
        for img in images:
            digest = hashlib.sha256(img.data).hexdigest()
            key = source_key(job.tenant_id, digest, _EXT.get(img.content_type, "bin"))
            await asyncio.to_thread(self.store.put, key, img.data, img.content_type, if_absent=True)
            out.append(
                StoredSource(
                    key,
                    img.content_type,
                    img.width,
                    img.height,
                    img.provider,
                    img.model,
                    img.offline,
                    img.revised_prompt,
                    img.source_url,
                )
            )
        return out


@dataclass(frozen=True)
class ImageJobRequest:
    """Images for one prompt, converted to JPEG and stored: what the images activity asks for."""

    tenant_id: str
    prompt: str
    provider: ProviderName = "offline"
    width: int = 1024
    height: int = 1024
    n: int = 1
    instagram: bool = False
    fit: Fit | None = None
    article_id: str | None = None

    def generate_job(self) -> GenerateJob:
        return GenerateJob(
            self.tenant_id, self.prompt, self.provider, self.width, self.height, self.n, self.article_id
        )

    def convert_job(self, source: StoredSource) -> ConvertJob:
        return ConvertJob(self.tenant_id, source_key=source.key, instagram=self.instagram, fit=self.fit)


@dataclass(frozen=True)
class GeneratedJpeg:
    """One generated image: the provider's output (who made it, for metering) and the stored JPEG."""

    source: StoredSource
    jpeg: ConvertOutcome


class ImageMaker(Protocol):
    """Generate and convert: the ImageGenerator deployment behind a Serve handle in production, or
    :class:`LocalImageMaker` in a unit test. Nothing here meters or touches the database: the caller
    records usage and rows from what comes back, in the tenant's transaction."""

    async def make(self, request: ImageJobRequest) -> list[GeneratedJpeg]: ...


class LocalImageMaker:
    """The same work in this process (unit tests; no Serve)."""

    def __init__(self, sources: ImageSources, converter: StoredJpegConverter) -> None:
        self.sources, self.converter = sources, converter

    async def make(self, request: ImageJobRequest) -> list[GeneratedJpeg]:
        out = []
        for src in await self.sources.generate(request.generate_job()):
            jpeg = await asyncio.to_thread(self.converter.run, request.convert_job(src))
            out.append(GeneratedJpeg(src, jpeg))
        return out
