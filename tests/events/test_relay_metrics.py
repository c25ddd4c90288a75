"""The relay's metrics, scraped from the /metrics that `icop events` serves: events confirmed, their lag
from commit to the broker's confirm, and the age of the oldest unsent event (0 once none waits).

A relay pass of this test's own on the session broker; it runs after test_relay.py (file order), whose
tests need to be the only relay of the session.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from cluster.ports import free_port
from icop.events.broker import connect, declare
from icop.events.relay import Relay
from icop.observability.metrics import serve_metrics
from icop.settings import Settings
from tests.gateway.conftest import TenantHandle

from .helpers import events_of
from .test_relay import emit_many


def scrape(url: str) -> dict[str, float]:
    text = httpx.get(url, trust_env=False).text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("icop_outbox")
    }


async def test_relay_metrics_move_with_a_pass(
    app_pool: asyncpg.Pool, ev_settings: Settings, tenant: TenantHandle
) -> None:
    port = free_port()
    assert serve_metrics(ev_settings.bind_host, port)  # what `icop events` starts (ICOP_EVENTS_METRICS_PORT)
    url = f"http://{ev_settings.bind_host}:{port}/metrics"
    before = scrape(url)
    ids = await emit_many(app_pool, UUID(tenant.tenant_id), 7)
    relay = Relay(app_pool, ev_settings)
    conn = await connect(ev_settings)
    try:
        exchange, _ = await declare(await conn.channel(publisher_confirms=True), ev_settings)
        assert await relay.relay_once(exchange) >= len(ids)
        during = scrape(url)
        assert await relay.relay_once(exchange) == 0
        after = scrape(url)
    finally:
        await conn.close()
    assert all(r["sent_at"] is not None for r in await events_of(app_pool, tenant.tenant_id))
    assert during["icop_outbox_relayed_total"] - before.get("icop_outbox_relayed_total", 0) >= 7
    assert during["icop_outbox_lag_seconds_count"] - before.get("icop_outbox_lag_seconds_count", 0) >= 7
    assert during["icop_outbox_lag_seconds_sum"] > 0
    assert during["icop_outbox_oldest_unsent_seconds"] > 0  # ours waited for the pass
    assert after["icop_outbox_oldest_unsent_seconds"] == 0  # nothing waits any more
