"""One trace from the API call down: ``POST /v1/pipelines/{id}/runs`` on the gateway, Temporal's client
and worker spans (the run's workflow, its activities, the row's child workflow) and the provider calls
made inside the activities (the Sheets read, the LLM call that expands the row), collected by the SDK's
in-memory exporter and checked for parentage.

Real parts only: the gateway app on the session database with the Temporal engine, the session's
Temporal dev server with a planning worker of this test's own queues, the Sheets and LLM emulators. The
run is stopped once the expansion call was made (clustering is not what this test is about).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from cluster.sheet_pipeline import HEADER, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
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


def by_name(done: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [s for s in done if s.name == name]
    assert found, f"no span {name!r} among {sorted({s.name for s in done})}"
    return found[0]


ROOT = "POST /v1/pipelines/{pipeline_id}/runs"


def ancestry(done: tuple[ReadableSpan, ...], span: ReadableSpan) -> list[str]:
    """The span's name, its parent's, … up to the root."""
    names = [span.name]
    while span.parent is not None:
        span = parent_of(done, span)
        names.append(span.name)
    return names


def parent_of(done: tuple[ReadableSpan, ...], child: ReadableSpan) -> ReadableSpan:
    assert child.parent is not None, f"{child.name} has no parent"
    (parent,) = [s for s in done if s.context.span_id == child.parent.span_id]
    return parent


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

    done = spans.get_finished_spans()
    request = by_name(done, ROOT)
    assert request.kind == trace.SpanKind.SERVER and request.parent is None
    assert request.attributes is not None and request.attributes["icop.tenant_id"] == t.tenant_id
    assert request.attributes["icop.pipeline_id"] == pipeline_id
    run = by_name(done, "RunWorkflow:PipelineRunWorkflow")
    assert ancestry(done, run) == [
        "RunWorkflow:PipelineRunWorkflow",
        "StartWorkflow:PipelineRunWorkflow",
        ROOT,
    ]
    # Temporal's interceptor parents a workflow's outbound spans on the span that started it
    sheets = by_name(done, "sheets call")
    assert ancestry(done, sheets) == [
        "sheets call", "RunActivity:read_plan", "StartActivity:read_plan",
        "StartWorkflow:PipelineRunWorkflow", ROOT,
    ]  # fmt: skip
    llm = by_name(done, "gpt call")
    assert ancestry(done, llm) == [
        "gpt call", "RunActivity:plan_row", "StartActivity:plan_row", "StartChildWorkflow:TopicWorkflow",
        "StartWorkflow:PipelineRunWorkflow", ROOT,
    ]  # fmt: skip
    assert sheets.kind == llm.kind == trace.SpanKind.CLIENT
    assert llm.attributes == {"provider": "gpt", "attempt": 1}  # names and counts only
    plan_row = parent_of(done, llm)
    assert plan_row.attributes is not None and plan_row.attributes["icop.tenant_id"] == t.tenant_id
    assert plan_row.attributes["icop.run_id"] == run_id
    of_the_run = [s for s in done if s is request or not s.name.startswith("POST /v1/")]
    assert {s.context.trace_id for s in of_the_run} == {request.context.trace_id}  # one trace
    secrets = (t.access, t.password, settings.jwt_secret.get_secret_value())
    assert not [s.name for s in done for v in (s.attributes or {}).values() if str(v) in secrets]


@pytest.mark.slow
async def test_the_trace_goes_down_to_each_post(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, spans: InMemorySpanExporter
) -> None:
    """A whole run, published for real to two emulated platforms: each platform request is a client span
    under its publish activity, under the article's and the row's child workflows, under the run that
    ``POST /runs`` started — one trace from the API call to every post. (The hop into a Serve replica is
    followed by tests/observability/test_serve_traces.py; here the models run in this process.)"""
    from cluster.sheet_pipeline import connect_targets
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
    acts = await build_activities(settings, MODULES, pool=app_pool, models="local")
    n = uuid.uuid4().int % 10**8
    targets = [
        {"platform": "x", "account_id": f"44{n:08d}"},
        {"platform": "threads", "account_id": f"27{n:08d}"},
    ]
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as api,
            running_workers(client, acts, queues, MODULES),
        ):
            t = await sign_up(api)
            tenant = uuid.UUID(t.tenant_id)
            sid = f"trace-{uuid.uuid4().hex[:10]}"
            plan = {
                "ContentPlan": [HEADER, ["Cold brew at home", "", "en", ""]],
                "Subtopics": [["row", "topic", "sub-topic"]],
            }
            await seed_tenant_sheet(settings, app_pool, sheets_admin, tenant, sid, plan)
            await connect_targets(settings, app_pool, tenant, targets)
            body = {
                "name": "traced", "sheet_id": sid, "targets": targets, "dry_run": False,
                "subtopics_per_topic": 1,
            }  # fmt: skip
            r = await api.post("/v1/pipelines", headers=t.h, json=body)
            assert r.status_code == 201, r.text
            r = await api.post(f"/v1/pipelines/{r.json()['id']}/runs", headers=t.h, json={})
            assert r.status_code == 202, r.text
            await client.get_workflow_handle(run_workflow_id(r.json()["id"])).result()
    finally:
        await close(acts)

    done = spans.get_finished_spans()
    request = by_name(done, ROOT)
    for platform in ("x", "threads"):
        calls = [s for s in done if s.name.startswith(f"{platform} POST")]
        assert calls, sorted({s.name for s in done})
        up = ancestry(done, calls[-1])
        assert up[0].startswith(f"{platform} POST") and up[-1] == ROOT, up
        assert up[1:3] == ["RunActivity:publish", "StartActivity:publish"], up
        assert "StartChildWorkflow:ArticleWorkflow" in up and "StartChildWorkflow:TopicWorkflow" in up, up
        assert calls[-1].context.trace_id == request.context.trace_id
    for name in ("RunActivity:run_agent_graph", "RunActivity:generate_images"):
        assert ancestry(done, by_name(done, name))[-1] == ROOT, name
