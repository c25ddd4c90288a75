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
from typing import TYPE_CHECKING, Literal

from icop.storage import ObjectStore, source_key

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
    ) -> None:
        self.providers = dict(providers)
        self.store = store
        limits = max_concurrent or {}
        self._gates = {name: asyncio.Semaphore(limits.get(name, 4)) for name in self.providers}

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
