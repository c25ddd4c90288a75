"""Prometheus metrics, scraped from each process's /metrics after real work: gateway requests by route
template and status, Temporal activities by type (the worker's interceptor), provider calls by provider
(the Sheets emulator through the real connector), and the outbox relay (tests/events has the broker).

Real parts only: the gateway app on the session database, the session's Temporal dev server with a
worker of this test's own queue, the Sheets emulator. The registry is the process's own, so each test
compares a scrape before and after its work.
"""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from cluster.ports import free_port
from cluster.sheet_pipeline import make_pipeline
from emulators.client import EmulatorAdmin
from icop.connectors.errors import ProviderError
from icop.google.access import GoogleAccess
from icop.observability.metrics import serve_metrics
from icop.settings import Settings
from icop.vault import Vault
from workflows.scheduled import ScheduledRunWorkflow
from workflows.types import Queues, ScheduledRunInput
from workflows.worker import build_activities, close, running_workers

from ..gateway.conftest import sign_up
from .conftest import samples, value


async def scrape(http: httpx.AsyncClient, url: str) -> dict:
    r = await http.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text[:200]
    return samples(r.text)


async def test_gateway_metrics_count_requests_by_route_template_and_status(api: httpx.AsyncClient) -> None:
    before = await scrape(api, "/metrics")
    t = await sign_up(api)
    missing = [f"/v1/pipelines/{uuid.uuid4()}" for _ in range(3)]
    for path in missing:
        assert (await api.get(path, headers=t.h)).status_code == 404
    assert (await api.get("/v1/pipelines", headers=t.h)).status_code == 200
    assert (await api.get("/no/such/path")).status_code == 404
    after = await scrape(api, "/metrics")

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    one = {"method": "GET", "route": "/v1/pipelines/{pipeline_id}", "status": "404"}
    assert moved("icop_http_requests_total", **one) == 3  # one series for every id: the template
    assert moved("icop_http_requests_total", method="GET", route="/v1/pipelines", status="200") == 1
    assert moved("icop_http_requests_total", method="POST", route="/v1/auth/signup", status="202") == 1
    assert moved("icop_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    timed = {"method": "GET", "route": "/v1/pipelines/{pipeline_id}"}
    assert moved("icop_http_request_duration_seconds_count", **timed) == 3
    assert moved("icop_http_request_duration_seconds_sum", **timed) > 0
    assert not [k for k in after if any(p in str(k) for p in missing)]  # no raw path became a label
    assert "/metrics" not in (await api.get("/openapi.json")).json()["paths"]


async def test_worker_metrics_count_activities_and_provider_calls(
    settings: Settings, app_pool: asyncpg.Pool, temporal_client: Client, sheets_admin: EmulatorAdmin
) -> None:
    """A scheduled fire of a pipeline with a run in progress: the worker runs its local activity, which
    skips the fire. A Sheets read that works and one that the emulator answers 404 count per provider."""
    port = free_port()
    assert serve_metrics(settings.bind_host, port)  # what `icop worker` starts (ICOP_WORKER_METRICS_PORT)
    url = f"http://{settings.bind_host}:{port}/metrics"
    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    p = await make_pipeline(app_pool, sheets_admin, [["Tea", "", "en", ""]], settings=settings)  # run pending
    async with httpx.AsyncClient(trust_env=False) as http:
        before = await scrape(http, url)
        acts = await build_activities(settings, ["planning"], pool=app_pool, models="local")
        try:
            async with running_workers(temporal_client, acts, queues, ["planning"]):
                result = await temporal_client.execute_workflow(
                    ScheduledRunWorkflow.run,
                    ScheduledRunInput(str(p.tenant_id), str(p.pipeline_id), queues),
                    id=f"fire-{uuid.uuid4()}",
                    task_queue=queues.planning,
                )
        finally:
            await close(acts)
        assert result.startswith("skipped:"), result
        vault = Vault.from_spec(settings.vault_keys.get_secret_value())
        sheets = await GoogleAccess(app_pool, vault, settings).sheets_for(p.tenant_id)  # as the tenant
        assert await sheets.get_values(p.sheet_id, "ContentPlan!A2:E")
        with pytest.raises(ProviderError):
            await sheets.get_values(f"missing-{uuid.uuid4().hex}", "ContentPlan!A2:E")
        after = await scrape(http, url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("icop_activities_total", activity="open_scheduled_run", outcome="ok") == 1
    assert moved("icop_activity_duration_seconds_count", activity="open_scheduled_run") == 1
    assert moved("icop_provider_calls_total", provider="sheets", outcome="ok") == 1
    assert moved("icop_provider_calls_total", provider="sheets", outcome="not_found") == 1
    assert moved("icop_provider_call_duration_seconds_count", provider="sheets") == 2
