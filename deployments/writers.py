"""Ray Serve Writers: one application per provider (GPT, Claude, Gemini), each a thin shell over
:class:`graphs.article.writers.ArticleWriter`.

A provider's concurrency is bounded twice: ``max_ongoing_requests`` per replica, and ``max_replicas``
so that replicas × ongoing stays within the provider's limit (``ICOP_WRITER_PROVIDER_CONCURRENCY``);
replicas are added when ongoing requests per replica exceed ``target_ongoing_requests``. All of these
are declared in ``cluster/serve_config.yaml`` (read through ``deployments.options``).

    handles = deploy_writers(settings)                       # {"gpt": DeploymentHandle, ...}
    graph = make_graph({n: writer_call(h) for n, h in handles.items()}, agents)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from opentelemetry.trace import SpanKind
from ray import serve
from ray.serve import Application, Deployment
from ray.serve.handle import DeploymentHandle

from deployments.handles import app_handle, run_app
from deployments.ledger import Tally
from deployments.options import deployment_options
from graphs.article.writers import WriteRequest, WriterError, WriteResult
from icop.connectors.config import LLM_NAMES, LlmName
from icop.observability.tracing import attached, carrier, configure_tracing, span
from icop.settings import Settings, get_settings


@serve.deployment  # resources: cluster/serve_config.yaml (deployments.options)
class Writer:
    """One provider's writer; retries and error classification are the connector's."""

    def __init__(self, provider: LlmName, settings: Settings | None = None) -> None:
        from icop.offline import apply_offline_env

        apply_offline_env()
        from graphs.article.writers import ArticleWriter

        s = settings or get_settings()
        configure_tracing(s, "serve")
        self.core = ArticleWriter.from_settings(s, provider)
        self.provider = provider
        self.tally = Tally()

    async def write(self, request: WriteRequest, trace: dict[str, str] | None = None) -> WriteResult:
        """Write one draft; ``trace``: the caller's trace context (W3C headers), continued here."""
        from icop.connectors.errors import ProviderError

        self.tally()
        try:
            with attached(trace), span("Writer.write", SpanKind.SERVER, provider=self.provider):
                return await self.core.write(request)
        except ProviderError as exc:  # after the connector's retries: report it in a picklable form
            raise WriterError(exc.provider, exc.kind, exc.message) from None


def app_name(provider: str, prefix: str = "writer") -> str:
    return f"{prefix}-{provider}"


def deployment_name(provider: str) -> str:
    """The Writer deployment's name in its application (the one the Serve config declares)."""
    return f"Writer_{provider}"


def build_writer_app(
    provider: LlmName, settings: Settings | None = None, overrides: Mapping[str, Any] | None = None
) -> Application:
    """The Writer application for one provider, with the resources the Serve config declares for it
    (``overrides`` on top). Without ``settings`` each replica reads its own environment (keeps provider keys
    out of Serve's stored config)."""
    name = deployment_name(provider)
    options = deployment_options(app_name(provider), name, overrides)
    # mypy does not apply class decorators: @serve.deployment made the class a Deployment
    return cast(Deployment, Writer).options(name=name, **options).bind(provider, settings)


def deploy_writers(
    settings: Settings | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    providers: tuple[LlmName, ...] = LLM_NAMES,
    prefix: str = "writer",
) -> dict[str, DeploymentHandle[Any]]:
    """Run (or update) the three Writer applications; their handles by provider. ``overrides``: per
    provider, options on top of the Serve config's (tests)."""
    overrides = overrides or {}
    return {
        p: run_app(build_writer_app(p, settings, overrides.get(p)), app_name(p, prefix)) for p in providers
    }


def writer_handles(
    providers: tuple[LlmName, ...] = LLM_NAMES, prefix: str = "writer"
) -> dict[str, DeploymentHandle[Any]]:
    """Handles to Writer applications already running on the cluster."""
    return {p: app_handle(app_name(p, prefix)) for p in providers}


class HandleWriter:
    """The graph's view of a Writer (a ``WriterCall``): an async callable over its deployment handle."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self.handle = handle.options(method_name="write")

    async def __call__(self, request: WriteRequest) -> WriteResult:
        result: WriteResult = await self.handle.remote(request, carrier())
        return result

    async def close(self) -> None:
        """Stop the handle's router (its background metrics push would outlive a Ray shutdown)."""
        await self.handle.shutdown_async()  # type: ignore[no-untyped-call]  # Ray leaves it unannotated


def writer_call(handle: DeploymentHandle[Any]) -> HandleWriter:
    """Adapter for ``make_graph(writers=...)``: a Writer's deployment handle as a ``WriterCall``."""
    return HandleWriter(handle)
