"""Ray Serve Writers: one application per provider (GPT, Claude, Gemini), each a thin shell over
:class:`graphs.article.writers.ArticleWriter`.

A provider's concurrency is bounded twice: ``max_ongoing_requests`` per replica, and
``max_replicas`` so that replicas × ongoing stays within the provider's limit; replicas are added
when ongoing requests per replica exceed ``target_ongoing_requests``.

    handles = deploy_writers(settings)                       # {"gpt": DeploymentHandle, ...}
    graph = make_graph({n: writer_call(h) for n, h in handles.items()}, agents)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

from ray import serve
from ray.serve import Application, Deployment
from ray.serve.handle import DeploymentHandle

from graphs.article.writers import WriteRequest, WriterError, WriteResult
from icop.connectors.config import LLM_NAMES, LlmName
from icop.settings import Settings, get_settings


@serve.deployment(ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=8)
class Writer:
    """One provider's writer; retries and error classification are the connector's."""

    def __init__(self, provider: LlmName, settings: Settings | None = None) -> None:
        from icop.offline import apply_offline_env

        apply_offline_env()
        from graphs.article.writers import ArticleWriter

        self.core = ArticleWriter.from_settings(settings or get_settings(), provider)

    async def write(self, request: WriteRequest) -> WriteResult:
        from icop.connectors.errors import ProviderError

        try:
            return await self.core.write(request)
        except ProviderError as exc:  # after the connector's retries: report it in a picklable form
            raise WriterError(exc.provider, exc.kind, exc.message) from None


@dataclass(frozen=True)
class WriterScaling:
    """How one provider's Writer scales: its concurrency limit and the per-replica share of it."""

    provider_concurrency: int = 16  # most calls in flight to this provider, all replicas together
    per_replica: int = 8  # max_ongoing_requests of one replica
    target_ongoing_requests: float = 4.0
    min_replicas: int = 1
    num_cpus: float = 0.1

    def autoscaling_config(self) -> dict[str, Any]:
        max_replicas = max(self.min_replicas, math.floor(self.provider_concurrency / self.per_replica))
        return {
            "min_replicas": self.min_replicas,
            "initial_replicas": self.min_replicas,
            "max_replicas": max_replicas,
            "target_ongoing_requests": self.target_ongoing_requests,
            "upscale_delay_s": 2.0,
            "downscale_delay_s": 30.0,
        }


def app_name(provider: str, prefix: str = "writer") -> str:
    return f"{prefix}-{provider}"


def build_writer_app(
    provider: LlmName, settings: Settings | None = None, scaling: WriterScaling | None = None
) -> Application:
    """The Writer application for one provider. Without ``settings`` each replica reads its own
    environment (keeps provider keys out of Serve's stored config)."""
    sc = scaling or WriterScaling()
    # mypy does not apply class decorators: @serve.deployment made the class a Deployment
    return (
        cast(Deployment, Writer)
        .options(
            name=f"Writer_{provider}",
            max_ongoing_requests=min(sc.per_replica, sc.provider_concurrency),
            autoscaling_config=sc.autoscaling_config(),
            ray_actor_options={"num_cpus": sc.num_cpus},
        )
        .bind(provider, settings)
    )


def deploy_writers(
    settings: Settings | None = None,
    scaling: dict[str, WriterScaling] | None = None,
    providers: tuple[LlmName, ...] = LLM_NAMES,
    prefix: str = "writer",
) -> dict[str, DeploymentHandle[Any]]:
    """Run (or update) the three Writer applications; their handles by provider."""
    scaling = scaling or {}
    return {
        p: serve.run(
            build_writer_app(p, settings, scaling.get(p)), name=app_name(p, prefix), route_prefix=None
        )
        for p in providers
    }


def writer_handles(
    providers: tuple[LlmName, ...] = LLM_NAMES, prefix: str = "writer"
) -> dict[str, DeploymentHandle[Any]]:
    """Handles to Writer applications already running on the cluster."""
    return {p: serve.get_app_handle(app_name(p, prefix)) for p in providers}


class HandleWriter:
    """The graph's view of a Writer (a ``WriterCall``): an async callable over its deployment handle."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self.handle = handle.options(method_name="write")

    async def __call__(self, request: WriteRequest) -> WriteResult:
        result: WriteResult = await self.handle.remote(request)
        return result

    async def close(self) -> None:
        """Stop the handle's router (its background metrics push would outlive a Ray shutdown)."""
        await self.handle.shutdown_async()  # type: ignore[no-untyped-call]  # Ray leaves it unannotated


def writer_call(handle: DeploymentHandle[Any]) -> HandleWriter:
    """Adapter for ``make_graph(writers=...)``: a Writer's deployment handle as a ``WriterCall``."""
    return HandleWriter(handle)
