"""Webhooks end to end: outbox → relay → RabbitMQ → delivery worker → a real receiver on loopback."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest
from standardwebhooks import Webhook

from icop.db import tenant_tx
from icop.events import emit
from icop.events.broker import DEAD_LETTER_QUEUE, connect, declare
from icop.events.delivery import DeliveryWorker
from icop.settings import Settings
from tests.gateway.conftest import TenantHandle

from .conftest import Receiver, wait_for
from .helpers import events_of


async def register(client: httpx.AsyncClient, t: TenantHandle, url: str, **extra: object) -> dict:
    r = await client.post("/v1/webhooks", json={"url": url, **extra}, headers=t.h)
    assert r.status_code == 201, r.text
    return r.json()


async def fire(pool: asyncpg.Pool, t: TenantHandle, event_type: str = "run.started") -> UUID:
    tid = UUID(t.tenant_id)
    async with tenant_tx(pool, tid) as conn:
        return await emit(conn, tid, event_type, {"run_id": str(uuid4()), "status": "running"})


async def deliveries(client: httpx.AsyncClient, t: TenantHandle, endpoint_id: str) -> list[dict]:
    r = await client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=t.h)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_500_three_times_then_200_is_delivered_with_four_recorded_attempts(
    client: httpx.AsyncClient,
    app_pool: asyncpg.Pool,
    receiver: Receiver,
    workers: DeliveryWorker,
    tenant: TenantHandle,
) -> None:
    from prometheus_client import REGISTRY

    def counted(outcome: str) -> float:
        return REGISTRY.get_sample_value("icop_webhook_deliveries_total", {"outcome": outcome}) or 0.0

    before = {o: counted(o) for o in ("delivered", "retry")}
    path = f"/hook/{uuid4()}"
    receiver.scripts[path] = [500, 500, 500, 200]
    ep = await register(client, tenant, receiver.url(path), description="flaky")
    secret = ep["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in (await client.get(f"/v1/webhooks/{ep['id']}", headers=tenant.h)).json()
    event_id = await fire(app_pool, tenant)

    async def delivered() -> bool:
        items = await deliveries(client, tenant, ep["id"])
        return bool(items) and items[0]["status"] == "delivered"

    await wait_for(delivered, 30, "delivery")
    got = receiver.at(path)
    assert len(got) == 4
    assert {r.headers["webhook-id"] for r in got} == {str(event_id)}  # same id on every retry
    wh = Webhook(secret)
    for r in got:  # every attempt carries a valid Standard Webhooks signature
        payload = wh.verify(r.body, r.headers)
        assert payload["id"] == str(event_id) and payload["type"] == "run.started"
        assert payload["tenant_id"] == tenant.tenant_id and payload["version"] == 1
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(got[0].body, got[0].headers)

    item = (await deliveries(client, tenant, ep["id"]))[0]
    detail = (await client.get(f"/v1/webhooks/{ep['id']}/deliveries/{item['id']}", headers=tenant.h)).json()
    assert detail["attempts"] == 4
    log = detail["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [a["attempt"] for a in log] == [1, 2, 3, 4]
    assert all(a["latency_ms"] > 0 for a in log)
    assert log[0]["response_excerpt"].startswith("answer 500") and len(log[0]["response_excerpt"]) == 1024
    assert log[0]["error"] == "HTTP 500" and log[3]["error"] is None
    # back-off: attempts are spaced out, growing (base 0.2 s, jitter ½..1×, cap 0.5 s)
    gaps = [(b["started_at"], a["started_at"]) for a, b in zip(log, log[1:], strict=False)]
    assert all(x > y for x, y in gaps)
    ep_now = (await client.get(f"/v1/webhooks/{ep['id']}", headers=tenant.h)).json()
    assert ep_now["consecutive_failures"] == 0 and ep_now["enabled"] is True
    # the events worker's metrics moved with it (icop_webhook_deliveries_total)
    assert counted("delivered") - before["delivered"] >= 1 and counted("retry") - before["retry"] >= 3


async def test_tenants_never_receive_each_others_events(
    client: httpx.AsyncClient,
    app_pool: asyncpg.Pool,
    receiver: Receiver,
    workers: DeliveryWorker,
    tenant: TenantHandle,
    other: TenantHandle,
) -> None:
    pa, pb = f"/a/{uuid4()}", f"/b/{uuid4()}"
    ea = await register(client, tenant, receiver.url(pa))
    await register(client, other, receiver.url(pb))
    a_ids = {str(await fire(app_pool, tenant)) for _ in range(5)}
    b_ids = {str(await fire(app_pool, other)) for _ in range(5)}
    await wait_for(lambda: len(receiver.at(pa)) >= 5 and len(receiver.at(pb)) >= 5, 30, "both tenants")
    assert {json.loads(r.body)["id"] for r in receiver.at(pa)} == a_ids
    assert {json.loads(r.body)["id"] for r in receiver.at(pb)} == b_ids
    assert all(json.loads(r.body)["tenant_id"] == tenant.tenant_id for r in receiver.at(pa))
    # and through the API, tenant B cannot see A's endpoint or its deliveries
    assert (await client.get(f"/v1/webhooks/{ea['id']}", headers=other.h)).status_code == 404
    assert (await client.get(f"/v1/webhooks/{ea['id']}/deliveries", headers=other.h)).status_code == 404
    assert ea["id"] not in [e["id"] for e in (await client.get("/v1/webhooks", headers=other.h)).json()]


async def test_event_type_filter_and_redelivery_on_request(
    client: httpx.AsyncClient,
    app_pool: asyncpg.Pool,
    receiver: Receiver,
    workers: DeliveryWorker,
    tenant: TenantHandle,
) -> None:
    path = f"/only-completed/{uuid4()}"
    ep = await register(client, tenant, receiver.url(path), event_types=["run.completed"])
    await fire(app_pool, tenant, "run.started")
    done = await fire(app_pool, tenant, "run.completed")
    await wait_for(lambda: len(receiver.at(path)) >= 1, 30, "the completed event")
    items = await deliveries(client, tenant, ep["id"])
    assert [i["event_id"] for i in items] == [str(done)]
    await wait_for(lambda: _status(client, tenant, ep["id"], "delivered"), 10, "delivered")
    r = await client.post(f"/v1/webhooks/{ep['id']}/deliveries/{items[0]['id']}/redeliver", headers=tenant.h)
    assert r.status_code == 202, r.text
    await wait_for(lambda: len(receiver.at(path)) == 2, 30, "the redelivery")
    assert {x.headers["webhook-id"] for x in receiver.at(path)} == {str(done)}
    r = await client.post(f"/v1/webhooks/{ep['id']}/deliveries/{uuid4()}/redeliver", headers=tenant.h)
    assert r.status_code == 404
    bad = await client.post(
        "/v1/webhooks", json={"url": receiver.url("/x"), "event_types": ["nope"]}, headers=tenant.h
    )
    assert bad.status_code == 422


async def _status(client: httpx.AsyncClient, t: TenantHandle, endpoint_id: str, status: str) -> bool:
    items = await deliveries(client, t, endpoint_id)
    return bool(items) and all(i["status"] == status for i in items)


async def test_sustained_failure_disables_the_endpoint_and_says_so(
    client: httpx.AsyncClient,
    app_pool: asyncpg.Pool,
    receiver: Receiver,
    workers: DeliveryWorker,
    tenant: TenantHandle,
) -> None:
    path = f"/down/{uuid4()}"
    receiver.scripts[path] = [503] * 100
    ep = await register(client, tenant, receiver.url(path), event_types=["run.failed"])
    await fire(app_pool, tenant, "run.failed")

    async def disabled() -> bool:
        r = await client.get(f"/v1/webhooks/{ep['id']}", headers=tenant.h)
        return r.json()["enabled"] is False

    await wait_for(disabled, 30, "the endpoint to be disabled")  # 6 failures in a row (test settings)
    body = (await client.get(f"/v1/webhooks/{ep['id']}", headers=tenant.h)).json()
    assert "failed attempts in a row" in body["disabled_reason"]
    events = [
        r for r in await events_of(app_pool, tenant.tenant_id) if r["type"] == "webhook.endpoint_disabled"
    ]
    assert len(events) == 1 and events[0]["payload"]["endpoint_id"] == ep["id"]
    n = len(receiver.at(path))
    assert n == 6
    # re-enabling resets the count and the pending delivery flows again
    receiver.scripts[path] = []
    r = await client.patch(f"/v1/webhooks/{ep['id']}", json={"enabled": True}, headers=tenant.h)
    assert r.status_code == 200 and r.json()["consecutive_failures"] == 0
    await wait_for(lambda: _status(client, tenant, ep["id"], "delivered"), 30, "delivery after re-enabling")


async def test_slow_receiver_does_not_delay_other_endpoints(
    client: httpx.AsyncClient,
    app_pool: asyncpg.Pool,
    receiver: Receiver,
    workers: DeliveryWorker,
    tenant: TenantHandle,
    other: TenantHandle,
) -> None:
    slow, fast = f"/slow/{uuid4()}", f"/fast/{uuid4()}"
    receiver.delays[slow] = 3.0
    await register(client, tenant, receiver.url(slow))
    await register(client, other, receiver.url(fast))
    for _ in range(12):  # 12 slow POSTs at 4 per endpoint at a time: ≥ 9 s for that endpoint
        await fire(app_pool, tenant)
    loop_time = __import__("asyncio").get_running_loop().time
    t0 = loop_time()
    fast_ids = [await fire(app_pool, other) for _ in range(5)]
    await wait_for(lambda: len(receiver.at(fast)) >= 5, 30, "the fast endpoint")
    took = loop_time() - t0
    assert took < 2.5, took  # not stuck behind the slow receiver's queue
    assert len(receiver.at(slow)) <= 8  # the slow one is still being served at its own pace
    assert {json.loads(r.body)["id"] for r in receiver.at(fast)} == {str(i) for i in fast_ids}
    in_flight_max = workers.sender.s.webhook_concurrency_per_endpoint
    assert in_flight_max == 4


async def test_unreadable_message_goes_to_the_dead_letter_queue(
    ev_settings: Settings, workers: DeliveryWorker, tenant: TenantHandle
) -> None:
    conn = await connect(ev_settings)
    try:
        ch = await conn.channel(publisher_confirms=True)
        exchange, _ = await declare(ch, ev_settings)
        marker = f"not json {uuid4()}".encode()
        await exchange.publish(
            aio_pika.Message(marker, message_id="garbage"), routing_key=f"{tenant.tenant_id}.run.started"
        )
        dead = await ch.get_queue(DEAD_LETTER_QUEUE)
        found = False
        for _ in range(100):
            msg = await dead.get(fail=False)
            if msg is not None:
                await msg.ack()
                if msg.body == marker:
                    found = True
                    break
            else:
                await asyncio.sleep(0.1)
        assert found
    finally:
        await conn.close()
