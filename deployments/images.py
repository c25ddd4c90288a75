"""Ray Serve ImageGenerator: prompts → provider images (DALL-E 3, FLUX or offline) → stored JPEGs.

A shell over :class:`icop.images.generate.ImageSources` (generate, keep the provider's bytes in the
store) composed with the JpegConverter deployment (key in, stored JPEG key and URL out). Only keys
cross the handles; concurrency per provider is bounded inside each replica.

    handle = serve.run(build_images_app(settings), name="images", route_prefix=None)
    results = await handle.generate.remote(ImageJobRequest(tenant_id, "a lighthouse", provider="dall-e"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from opentelemetry.trace import SpanKind
from ray import serve
from ray.serve import Application, Deployment
from ray.serve.handle import DeploymentHandle

from deployments.jpeg import JpegRequest, build_jpeg_app
from deployments.ledger import Tally
from deployments.options import deployment_options
from icop.images.generate import GeneratedJpeg, ImageJobRequest, ImageSources
from icop.observability.tracing import attached, carrier, configure_tracing, span
from icop.settings import Settings, get_settings
from icop.storage import StorageConfig, make_store


@serve.deployment  # resources: cluster/serve_config.yaml (deployments.options)
class ImageGenerator:
    def __init__(
        self,
        converter: DeploymentHandle[Any],
        settings: Settings | None = None,
        storage: StorageConfig | None = None,
        max_concurrent: dict[str, int] | None = None,
    ) -> None:
        from icop.connectors.images import OfflineImages, make_image_provider

        s = settings or get_settings()
        configure_tracing(s, "serve")
        providers = {
            "dall-e": make_image_provider(s, "dall-e"),
            "flux": make_image_provider(s, "flux"),
            "offline": OfflineImages(),
        }
        store = storage.open() if storage else make_store(s)
        self.sources = ImageSources(providers, store, max_concurrent, s.image_provider_concurrency)
        self.converter = converter.options(method_name="convert")
        self.tally = Tally()

    async def generate(
        self, request: ImageJobRequest, trace: dict[str, str] | None = None
    ) -> list[GeneratedJpeg]:
        """Generate and convert; ``trace``: the caller's trace context (W3C headers), continued here."""
        self.tally()
        with attached(trace), span("ImageGenerator.generate", SpanKind.SERVER, provider=request.provider):
            sources = await self.sources.generate(request.generate_job())
            outcomes = await asyncio.gather(
                *(
                    self.converter.remote(
                        JpegRequest(
                            request.tenant_id, source_key=s.key, instagram=request.instagram, fit=request.fit
                        )
                    )
                    for s in sources
                )
            )
        return [GeneratedJpeg(s, o) for s, o in zip(sources, outcomes, strict=True)]


def build_images_app(
    settings: Settings,
    *,
    max_concurrent: dict[str, int] | None = None,
    pass_settings: bool = True,
    jpeg: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Application:
    """ImageGenerator composed with a JpegConverter (``jpeg``: its batching arguments), each with the
    resources the Serve config declares in the ``images`` application (``overrides`` by deployment name).

    With ``pass_settings`` the settings (provider keys included) travel in the init arguments; without
    it each replica reads its own environment, which keeps secrets out of Serve's stored config.
    """
    over = overrides or {}
    converter = build_jpeg_app(
        settings, app="images", pass_storage=pass_settings,
        overrides=over.get("JpegConverterDeployment"), **(jpeg or {}),
    )  # fmt: skip
    options = deployment_options("images", "ImageGenerator", over.get("ImageGenerator"))
    # mypy does not apply class decorators: @serve.deployment made the class a Deployment
    return (
        cast(Deployment, ImageGenerator)
        .options(**options)
        .bind(
            converter,
            settings if pass_settings else None,
            StorageConfig.from_settings(settings) if pass_settings else None,
            max_concurrent,
        )
    )


class ServeImageMaker:
    """The images activity's :class:`icop.images.generate.ImageMaker`: the ``images`` application through
    its Serve handle (keys travel, not bytes)."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self.handle = handle.options(method_name="generate")

    async def make(self, request: ImageJobRequest) -> list[GeneratedJpeg]:
        made: list[GeneratedJpeg] = await self.handle.remote(request, carrier())
        return made
