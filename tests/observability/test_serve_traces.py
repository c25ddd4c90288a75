"""The trace goes on inside a Ray Serve replica: a Writer deployment with tracing on exports its spans
over OTLP/HTTP (to a receiver of this test's own), and the replica's span is the child of the caller's
span, its provider call a child of the replica's.

Real parts only: the session's Ray cluster and Serve, the LLM emulator, the real OTLP exporter.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cluster.ports import free_port
from graphs.article.writers import WriteRequest
from icop.observability import tracing
from icop.settings import Settings

pytestmark = pytest.mark.slow  # a Serve application starts (≈ 10 s)


class Receiver:
    """An OTLP/HTTP traces endpoint: keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ProtoSpan] = []
        received = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportTraceServiceRequest.FromString(body)
                received.extend(s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def local_spans(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "_active", False)  # restored last: tracing is off for later tests
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        monkeypatch.setattr(tracing, "_active", True)
    else:
        assert tracing.configure_tracing(settings, "test", exporter=exporter)
    yield exporter
    exporter.shutdown()


async def test_a_writer_replica_continues_the_callers_trace(
    settings: Settings, ray_session: None, receiver: Receiver, local_spans: InMemorySpanExporter
) -> None:
    from ray import serve

    from deployments.writers import app_name, deploy_writers, writer_call

    traced = settings.model_copy(update={"tracing_enabled": True, "tracing_endpoint": receiver.url})
    prefix = f"writers-trace-{uuid.uuid4().hex[:6]}"
    handles = deploy_writers(traced, {"gpt": {"ray_actor_options": {"num_cpus": 0.05}}}, ("gpt",), prefix)
    writer = writer_call(handles["gpt"])
    try:
        with tracing.span("caller") as caller:
            assert caller is not None
            await writer(WriteRequest("Cold brew at home", "en", tenant_id=str(uuid.uuid4())))
        for _ in range(150):  # the replica's batch processor exports every few seconds
            if any(s.name == "gpt call" for s in receiver.spans):
                break
            await asyncio.sleep(0.1)
    finally:
        await writer.close()
        serve.delete(app_name("gpt", prefix))

    ctx = caller.get_span_context()
    replica = next(s for s in receiver.spans if s.name == "Writer.write")
    assert replica.trace_id == ctx.trace_id.to_bytes(16, "big")
    assert replica.parent_span_id == ctx.span_id.to_bytes(8, "big")  # across the handle call
    assert replica.kind == ProtoSpan.SPAN_KIND_SERVER
    call = next(s for s in receiver.spans if s.name == "gpt call")
    assert call.parent_span_id == replica.span_id and call.trace_id == replica.trace_id
