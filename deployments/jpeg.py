"""Ray Serve JpegConverter: a batched shell over :class:`icop.images.service.StoredJpegConverter`.

Requests carry storage keys (or a Ray object ref to bytes already in the object store), never image
bytes, and replies carry the stored JPEG's key and URL: moving a 1 MiB argument through a handle costs
about as much as converting it (see STACK.md). The replica reads, converts and writes itself.

    handle = serve.run(build_jpeg_app(settings), name="jpeg", route_prefix=None)
    outcome = await handle.convert.remote(JpegRequest(tenant_id, source_key=key))
    outcomes = await handle.convert_many.remote([JpegRequest(tenant_id, source_key=k) for k in keys])
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import ray
from pydantic import BaseModel
from ray import serve
from ray.serve import Application, Deployment

from deployments.ledger import Tally
from deployments.options import deployment_options
from icop.images.convert import ConvertOptions, Fit
from icop.images.service import ConvertJob, ConvertOutcome, StoredJpegConverter
from icop.settings import Settings, get_settings
from icop.storage import StorageConfig, make_store


@dataclass(frozen=True)
class JpegRequest:
    """One image: ``source_key`` in the store, or ``source_ref`` (``ray.put(bytes)``)."""

    tenant_id: str
    source_key: str | None = None
    source_ref: ray.ObjectRef[bytes] | None = None
    instagram: bool = False
    fit: Fit | None = None


@serve.deployment  # resources: cluster/serve_config.yaml (deployments.options)
class JpegConverterDeployment:
    def __init__(
        self,
        storage: StorageConfig | None = None,
        options: ConvertOptions | None = None,
        instagram: ConvertOptions | None = None,
        max_batch_size: int = 8,
        batch_wait_timeout_s: float = 0.005,
    ) -> None:
        # what the arguments leave out comes from the replica's environment (get_settings is cached)
        store = storage.open() if storage else make_store(get_settings())
        self.core = StoredJpegConverter(
            store,
            options or ConvertOptions.from_settings(get_settings()),
            instagram or ConvertOptions.from_settings(get_settings(), instagram=True),
        )
        self.convert.set_max_batch_size(max_batch_size)  # type: ignore[attr-defined]  # serve.batch adds it
        self.convert.set_batch_wait_timeout_s(batch_wait_timeout_s)  # type: ignore[attr-defined]  # serve.batch adds it
        # One worker thread: off the event loop (the replica keeps accepting and batching while Pillow
        # works), and one image at a time, so a replica uses about one core whatever it has queued.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jpeg")
        self.tally = Tally()

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)
    async def convert(self, requests: list[JpegRequest]) -> list[ConvertOutcome]:
        return await self._run([await self._job(r) for r in requests])

    async def convert_many(self, requests: list[JpegRequest]) -> list[ConvertOutcome]:
        """A caller's own batch (e.g. one article's images) in one call: no per-image routing cost."""
        return await self._run([await self._job(r) for r in requests])

    async def _run(self, jobs: list[ConvertJob]) -> list[ConvertOutcome]:
        self.tally(len(jobs))  # images, however they were grouped into calls
        return await asyncio.get_running_loop().run_in_executor(self._worker, self.core.run_many, jobs)

    async def __call__(self, request: JpegRequest) -> ConvertOutcome:
        return await self.convert(request)

    @staticmethod
    async def _job(r: JpegRequest) -> ConvertJob:
        data = None
        if r.source_ref is not None:
            data = await r.source_ref
        return ConvertJob(r.tenant_id, source_key=r.source_key, data=data, instagram=r.instagram, fit=r.fit)


def build_jpeg_app(
    settings: Settings,
    *,
    app: str = "images",
    max_batch_size: int = 8,
    batch_wait_timeout_s: float = 0.005,
    pass_storage: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Application:
    """The converter for ``settings``, with the resources the Serve config declares for it in ``app`` (the
    ``images`` application composes it with the generator; ``overrides`` on top).

    With ``pass_storage`` the store's configuration (secrets included) travels in the deployment's init
    arguments; without it each replica builds its store from its own environment (``ICOP_*`` variables),
    which is the production way to keep S3 credentials out of Serve's stored config.

    The config keeps ``max_ongoing_requests`` at two batches per replica: a replica that accepted everything
    would batch it all itself while its peers idle (measured: one replica did 93 % of the work with 64).
    """
    options = deployment_options(app, "JpegConverterDeployment", overrides)
    # mypy does not apply class decorators: @serve.deployment made the class a Deployment
    return (
        cast(Deployment, JpegConverterDeployment)
        .options(**options)
        .bind(
            StorageConfig.from_settings(settings) if pass_storage else None,
            ConvertOptions.from_settings(settings),
            ConvertOptions.from_settings(settings, instagram=True),
            max_batch_size,
            batch_wait_timeout_s,
        )
    )


class JpegAppArgs(BaseModel):
    """Arguments for ``serve run deployments.jpeg:app_builder`` / a Serve config's ``args`` (batching
    only: replicas, CPUs and concurrency are the config's ``deployments`` entries)."""

    max_batch_size: int = 8
    batch_wait_timeout_s: float = 0.005


def app_builder(args: JpegAppArgs) -> Application:
    """Typed builder for Serve configs; settings (and storage) come from each replica's environment."""
    return build_jpeg_app(
        get_settings(),
        max_batch_size=args.max_batch_size,
        batch_wait_timeout_s=args.batch_wait_timeout_s,
        pass_storage=False,
    )
