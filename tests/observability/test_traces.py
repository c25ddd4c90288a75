"""One trace from the API call down: ``POST /v1/pipelines/{id}/runs`` on the gateway, Temporal's client
and worker spans (the run's workflow, its activities, the row's and the article's child workflows), the
Ray Serve Writer replica's span and the provider calls made inside the activities and the replica, down to
each platform post. The test process's spans are collected by the SDK's in-memory exporter; a replica's
come over OTLP/HTTP to a receiver of the test's own. Joined by span id, they are checked for parentage.

Real parts only: the gateway app on the session database with the Temporal engine, the session's
Temporal dev server with workers of each test's own queues, the session's Ray cluster and Serve, the
Sheets, LLM and social emulators, the real OTLP exporter.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from temporalio.client import Client

from cluster.ports import free_port
from cluster.sheet_pipeline import HEADER, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from graphs.article.writers import WRITER_MARK
from icop.db.tenant import tenant_tx
from icop.observability import tracing
from icop.settings import Settings
from workflows.telemetry import client_interceptors
from workflows.types import Queues, run_workflow_id
from workflows.worker import build_activities, close, running_workers

from ..gateway.conftest import sign_up


@pytest.fixture
def spans(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test only: spans into memory; off again (and the exporter closed) after."""
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "_active", False)  # restored last: tracing is off for later tests
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):  # a provider of an earlier test: one per process
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        monkeypatch.setattr(tracing, "_active", True)
    else:
        assert tracing.configure_tracing(settings, "test", exporter=exporter)
    yield exporter
    exporter.shutdown()


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


@dataclass(frozen=True)
class Node:
    """A finished span, whichever process made it."""

    name: str
    span_id: int
    parent_id: int | None
    trace_id: int
    kind: str  # "SERVER", "CLIENT", "INTERNAL", …
    attributes: dict[str, Any]
    replica: bool  # exported by a Serve replica (over OTLP), not by the test process

    @classmethod
    def of_sdk(cls, s: ReadableSpan) -> Node:
        return cls(s.name, s.context.span_id, s.parent.span_id if s.parent else None, s.context.trace_id,
                   s.kind.name, dict(s.attributes or {}), replica=False)  # fmt: skip

    @classmethod
    def of_proto(cls, s: ProtoSpan) -> Node:
        attrs = {a.key: getattr(a.value, str(a.value.WhichOneof("value"))) for a in s.attributes}
        parent = int.from_bytes(s.parent_span_id, "big") if s.parent_span_id else None
        kind = ProtoSpan.SpanKind.Name(s.kind).removeprefix("SPAN_KIND_")
        return cls(s.name, int.from_bytes(s.span_id, "big"), parent, int.from_bytes(s.trace_id, "big"),
                   kind, attrs, replica=True)  # fmt: skip


class Tree:
    """The spans of the test process and of the replicas, joined by span id."""

    def __init__(self, local: Sequence[ReadableSpan], remote: Sequence[ProtoSpan] = ()) -> None:
        self.all = [*map(Node.of_sdk, local), *map(Node.of_proto, remote)]
        self.by_id = {n.span_id: n for n in self.all}

    def named(self, name: str) -> Node:
        found = [n for n in self.all if n.name == name]
        assert found, f"no span {name!r} among {sorted({n.name for n in self.all})}"
        return found[0]

    def parent(self, child: Node) -> Node:
        assert child.parent_id is not None, f"{child.name} has no parent"
        assert child.parent_id in self.by_id, f"the parent of {child.name} was not collected"
        return self.by_id[child.parent_id]

    def ancestry(self, node: Node) -> list[str]:
        """The span's name, its parent's, … up to the root."""
        names = [node.name]
        while node.parent_id is not None:
            node = self.parent(node)
            names.append(node.name)
        return names


ROOT = "POST /v1/pipelines/{pipeline_id}/runs"


def secrets_of(settings: Settings) -> list[str]:
    """Every secret setting's value (long enough to mean something when found in an attribute)."""
    values = [v.get_secret_value() for v in dict(settings).values() if isinstance(v, SecretStr)]
    return [v for v in values if len(v) >= 8]


def leaks(tree: Tree, forbidden: Sequence[str]) -> list[tuple[str, str]]:
    """(span, attribute) pairs whose value holds any of ``forbidden``."""
    return [
        (n.name, k) for n in tree.all for k, v in n.attributes.items() if any(f in str(v) for f in forbidden)
    ]


async def test_one_trace_from_the_api_call_to_the_provider_calls(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, spans: InMemorySpanExporter
) -> None:
    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    engine = settings.model_copy(
        update={
            "workflow_engine": "temporal",
            "workflow_queue_prefix": queues.planning.removesuffix("-planning"),
        }
    )
    client = await Client.connect(
        settings.temporal_target, namespace=settings.temporal_namespace, interceptors=client_interceptors()
    )
    app = create_app(engine, pool=app_pool)
    acts = await build_activities(settings, ["planning"], pool=app_pool, models="local")
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as api,
            running_workers(client, acts, queues, ["planning"]),
        ):
            t = await sign_up(api)
            sid = f"trace-{uuid.uuid4().hex[:10]}"
            plan = {
                "ContentPlan": [HEADER, ["Cold brew at home", "", "en", ""]],
                "Subtopics": [["row", "topic", "sub-topic"]],
            }
            await seed_tenant_sheet(settings, app_pool, sheets_admin, uuid.UUID(t.tenant_id), sid, plan)
            r = await api.post("/v1/pipelines", headers=t.h, json={"name": "traced", "sheet_id": sid})
            assert r.status_code == 201, r.text
            pipeline_id = r.json()["id"]
            r = await api.post(f"/v1/pipelines/{pipeline_id}/runs", headers=t.h, json={})
            assert r.status_code == 202, r.text
            run_id = r.json()["id"]
            for _ in range(300):  # until the row's expansion called the LLM
                if any(s.name == "gpt call" for s in spans.get_finished_spans()):
                    break
                await asyncio.sleep(0.1)
            await client.get_workflow_handle(run_workflow_id(run_id)).terminate("trace collected")
    finally:
        await close(acts)

    done = Tree(spans.get_finished_spans())
    request = done.named(ROOT)
    assert request.kind == "SERVER" and request.parent_id is None
    assert request.attributes["icop.tenant_id"] == t.tenant_id
    assert request.attributes["icop.pipeline_id"] == pipeline_id
    run = done.named("RunWorkflow:PipelineRunWorkflow")
    assert done.ancestry(run) == [
        "RunWorkflow:PipelineRunWorkflow",
        "StartWorkflow:PipelineRunWorkflow",
        ROOT,
    ]
    # a workflow's activities and child workflows are children of the span that started the workflow
    # (workflows.telemetry: no zero-length StartActivity spans)
    sheets = done.named("sheets call")
    assert done.ancestry(sheets) == [
        "sheets call",
        "RunActivity:read_plan",
        "StartWorkflow:PipelineRunWorkflow",
        ROOT,
    ]
    assert not [s.name for s in done.all if s.name.startswith("StartActivity:")]
    llm = done.named("gpt call")
    assert done.ancestry(llm) == [
        "gpt call", "RunActivity:plan_row", "StartChildWorkflow:TopicWorkflow",
        "StartWorkflow:PipelineRunWorkflow", ROOT,
    ]  # fmt: skip
    assert sheets.kind == llm.kind == "CLIENT"
    assert llm.attributes == {"provider": "gpt", "attempt": 1}  # names and counts only
    plan_row = done.parent(llm)
    assert plan_row.attributes["icop.tenant_id"] == t.tenant_id
    assert plan_row.attributes["icop.run_id"] == run_id
    assert plan_row.attributes["icop.row"] == "2"  # the row's number, not the row (its topic is content)
    of_the_run = [n for n in done.all if n is request or not n.name.startswith("POST /v1/")]
    assert {n.trace_id for n in of_the_run} == {request.trace_id}  # one trace
    assert not leaks(done, [t.access, t.password, *secrets_of(settings)])


@pytest.mark.slow
async def test_one_backfill_is_one_trace_from_the_api_call_to_each_post(
    settings: Settings,
    app_pool: asyncpg.Pool,
    sheets_admin: EmulatorAdmin,
    ray_session: None,
    spans: InMemorySpanExporter,
    receiver: Receiver,
) -> None:
    """A whole run, published for real to two emulated platforms, its article written by a Writer on Ray
    Serve (deployed for this test with tracing on): the replica's ``Writer.write`` continues the graph's
    activity span across the handle call, its provider call is the replica's child; each platform request
    is a client span under its publish activity. All of it one trace, from ``POST /runs`` down.

    The run's one writer is the Serve path; clustering and image generation run in this process (the
    session's TopicClusterer and ImageGenerator have tracing off, and deploying traced ones would cost tens
    of seconds for hops this test does not look at)."""
    from ray import serve
    from ray.serve.handle import DeploymentHandle

    from cluster.sheet_pipeline import connect_targets
    from deployments.handles import start_serve
    from deployments.writers import app_name, deploy_writers, deployment_name, writer_call
    from workflows.types import MODULES

    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    engine = settings.model_copy(
        update={
            "workflow_engine": "temporal",
            "workflow_queue_prefix": queues.planning.removesuffix("-planning"),
        }
    )
    client = await Client.connect(
        settings.temporal_target, namespace=settings.temporal_namespace, interceptors=client_interceptors()
    )
    app = create_app(engine, pool=app_pool)
    n = uuid.uuid4().int % 10**8
    targets = [
        {"platform": "x", "account_id": f"44{n:08d}"},
        {"platform": "threads", "account_id": f"27{n:08d}"},
    ]
    topic = "Cold brew at home"
    own_key = f"sk-proj-{uuid.uuid4().hex}0wn9"
    sheets_admin.add_keys("gpt", own_key)  # OpenAI issued it to the tenant (the emulators' key registry)
    traced = settings.model_copy(update={"tracing_enabled": True, "tracing_endpoint": receiver.url})
    prefix = f"writers-trace-{uuid.uuid4().hex[:6]}"
    small = {"gpt": {"ray_actor_options": {"num_cpus": 0.05}}}
    # The Writer starts while the run plans its row: the graph's call waits for its replica.
    start_serve()  # a handle needs Serve's controller
    deploying = asyncio.create_task(asyncio.to_thread(deploy_writers, traced, small, ("gpt",), prefix))
    writer = writer_call(DeploymentHandle(deployment_name("gpt"), app_name("gpt", prefix)))
    try:
        acts = await build_activities(
            settings, MODULES, pool=app_pool, models="local", writers={"gpt": writer}
        )
        try:
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as api,
                running_workers(client, acts, queues, MODULES),
            ):
                t = await sign_up(api)
                tenant = uuid.UUID(t.tenant_id)
                # the tenant's own GPT key: carried to the Writer replica, in no span (checked below)
                r = await api.put("/v1/model-keys/gpt", headers=t.h, json={"key": own_key, "verify": False})
                assert r.status_code == 201, r.text
                since = sheets_admin.last_seq()
                sid = f"trace-{uuid.uuid4().hex[:10]}"
                plan = {
                    "ContentPlan": [HEADER, [topic, "", "en", ""]],
                    "Subtopics": [["row", "topic", "sub-topic"]],
                }
                await seed_tenant_sheet(settings, app_pool, sheets_admin, tenant, sid, plan)
                await connect_targets(settings, app_pool, tenant, targets)
                body = {
                    "name": "traced", "sheet_id": sid, "targets": targets, "dry_run": False,
                    "subtopics_per_topic": 1, "writers": ["gpt"], "model_keys": {"gpt": "tenant"},
                }  # fmt: skip
                r = await api.post("/v1/pipelines", headers=t.h, json=body)
                assert r.status_code == 201, r.text
                r = await api.post(f"/v1/pipelines/{r.json()['id']}/runs", headers=t.h, json={})
                assert r.status_code == 202, r.text
                await deploying
                await client.get_workflow_handle(run_workflow_id(r.json()["id"])).result()
        finally:
            await close(acts)
        for _ in range(150):  # the replica's batch processor exports every few seconds
            if any(s.name == "gpt call" for s in receiver.spans):
                break
            await asyncio.sleep(0.1)
    finally:
        await writer.close()
        await asyncio.gather(deploying, return_exceptions=True)
        serve.delete(app_name("gpt", prefix), _blocking=False)  # its replica stops after the test
    async with tenant_tx(app_pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT a.title, d->>'text' AS draft FROM generated_articles a,"
            " jsonb_array_elements(a.graph_state->'drafts') d WHERE a.tenant_id = $1",
            tenant,
        )
    assert rows, "the run wrote no article"

    done = Tree(spans.get_finished_spans(), receiver.spans)
    request = done.named(ROOT)
    replica = done.named("Writer.write")
    assert replica.replica and replica.kind == "SERVER" and replica.attributes == {"provider": "gpt"}
    (call,) = [c for c in done.all if c.parent_id == replica.span_id]
    assert call.replica and call.kind == "CLIENT"
    assert call.attributes == {"provider": "gpt", "attempt": 1}  # names and counts only
    article = ["StartChildWorkflow:ArticleWorkflow", "StartChildWorkflow:TopicWorkflow",
               "StartWorkflow:PipelineRunWorkflow", ROOT]  # fmt: skip
    graph = ["RunActivity:run_agent_graph", *article]
    assert done.ancestry(call) == ["gpt call", "Writer.write", *graph]  # replica, replica, test process…
    publish = ["RunActivity:publish", *article]
    for platform in ("x", "threads"):
        posts = [s for s in done.all if s.name == f"{platform} POST"]
        assert posts, sorted({s.name for s in done.all})
        for post in posts:
            assert done.ancestry(post) == [post.name, *publish]
    images = done.named("RunActivity:generate_images")
    assert done.ancestry(images) == [images.name, *article]
    set_up = {"POST /v1/auth/signup", "POST /v1/auth/login", "PUT /v1/model-keys/{provider}",
              "POST /v1/pipelines"}  # requests of their own  # fmt: skip
    assert {s.trace_id for s in done.all if s.name not in set_up} == {request.trace_id}  # one trace
    content = [topic, *(r["title"] for r in rows), *(r["draft"][:60] for r in rows)]
    assert not leaks(done, [t.access, t.password, own_key, *secrets_of(settings), *content])
    written = [e["key"] for e in sheets_admin.requests("gpt", since) if WRITER_MARK in str(e["body"])]
    assert written == ["0wn9"]  # the replica wrote with the tenant's key (the agents: the platform's)
