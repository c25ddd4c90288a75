"""OpenTelemetry traces: off unless ``ICOP_TRACING_ENABLED`` (then exported over OTLP/HTTP to
``ICOP_TRACING_ENDPOINT``). Off, :func:`span` makes nothing and costs one flag test.

One trace follows a run: the gateway's request span, the Temporal client and worker spans
(``temporalio.contrib.opentelemetry``, wired in ``workflows.telemetry``), the Ray Serve replica's span
(the caller sends :func:`carrier`, the replica :func:`attached`), and each provider call. Spans carry
ids (``icop.tenant_id`` … from ``icop.observability.logs.bind_ids``), provider and platform names, never
secrets or content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind

from icop.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

tracer = trace.get_tracer("icop")
_active = False


def active() -> bool:
    """Whether this process makes spans (a provider was installed by :func:`configure_tracing`)."""
    return _active


def configure_tracing(settings: Settings, role: str, *, exporter: SpanExporter | None = None) -> bool:
    """Install this process's tracer provider when tracing is on (or an ``exporter`` is given: tests);
    returns whether spans are made. Once per process: OpenTelemetry keeps the first provider."""
    global _active
    if _active:
        return True
    if not settings.tracing_enabled and exporter is None:
        return False
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = _provider(_resource(f"{settings.tracing_service_name}-{role}"))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.tracing_endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _active = True
    return True


def _resource(service: str) -> object:
    """The process's resource, its hash computed once: the OTLP encoder groups each exported span by its
    resource, and the SDK's ``Resource`` hashes its attributes as sorted JSON every time (a quarter of
    the export's CPU in the telemetry benchmark). Its attributes never change once made."""
    from opentelemetry.sdk.resources import Resource

    made = Resource.create({"service.name": service})

    class FrozenResource(Resource):
        _hash = hash(made)

        def __hash__(self) -> int:
            return self._hash

    return FrozenResource(made.attributes, made.schema_url)


def _provider(resource: object) -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    assert isinstance(resource, Resource)
    # OFFLINE_ENV sets OTEL_SDK_DISABLED for libraries that would export on their own (CrewAI); the SDK
    # reads it when a provider is made, so ours, asked for by setting, is made with it lifted.
    saved = os.environ.pop("OTEL_SDK_DISABLED", None)
    try:
        return TracerProvider(resource=resource)
    finally:
        if saved is not None:
            os.environ["OTEL_SDK_DISABLED"] = saved


@contextmanager
def span(
    name: str, kind: SpanKind = SpanKind.INTERNAL, **attributes: str | int | float | bool | None
) -> Iterator[Span | None]:
    """A span around the block (None when tracing is off). Attributes: ids and names only."""
    if not _active:
        yield None
        return
    attrs = {k: v for k, v in attributes.items() if v is not None}
    with tracer.start_as_current_span(name, kind=kind, attributes=attrs) as s:
        yield s


def carrier() -> dict[str, str] | None:
    """The current trace as W3C headers (``traceparent``) to send along a call; None when off."""
    if not _active:
        return None
    out: dict[str, str] = {}
    propagate.inject(out)
    return out or None


@contextmanager
def attached(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Continue the caller's trace (from :func:`carrier`) for the block."""
    if not headers or not _active:
        yield
        return
    token = context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        context.detach(token)
