"""The live stream: the caller's own tenant's events as SSE, resumable with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from icop.db import tenant_tx
from icop.events import emit
from tests.gateway.conftest import TenantHandle


async def fire(pool: asyncpg.Pool, t: TenantHandle, event_type: str = "run.started") -> str:
    tid = UUID(t.tenant_id)
    async with tenant_tx(pool, tid) as conn:
        return str(await emit(conn, tid, event_type, {"run_id": str(uuid4()), "status": "running"}))


async def read_events(
    base: str,
    t: TenantHandle,
    n: int,
    last_event_id: str | None = None,
    during: Coroutine[Any, Any, object] | None = None,
) -> list[dict]:
    """Open the stream, then run ``during`` (a coroutine; finished before this returns), and return the
    first ``n`` events."""
    headers = dict(t.h)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    out: list[dict] = []
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        async with c.stream("GET", "/v1/events/stream", headers=headers) as r:
            assert r.status_code == 200, await r.aread()
            assert r.headers["content-type"].startswith("text/event-stream")
            producer: asyncio.Task[object] | None = None
            if during is not None:  # the stream's starting point is fixed once the headers arrived
                producer = asyncio.get_running_loop().create_task(during)
            event: dict = {}
            async for line in r.aiter_lines():
                if line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and event:
                    out.append(event)
                    event = {}
                    if len(out) == n:
                        break
            if producer is not None:
                await producer
    return out


async def test_stream_carries_only_the_callers_tenant_and_resumes(
    live_api: str, app_pool: asyncpg.Pool, tenant: TenantHandle, other: TenantHandle
) -> None:
    old = await fire(app_pool, tenant)  # before the stream opens: not replayed without Last-Event-ID

    a_ids: list[str] = []

    async def produce() -> None:  # starts once the stream is open (its starting point is then fixed)
        for i in range(6):
            await fire(app_pool, other)  # B's events interleaved: never on A's stream
            a_ids.append(await fire(app_pool, tenant, "run.completed" if i == 5 else "run.progress"))

    got = await asyncio.wait_for(read_events(live_api, tenant, 6, during=produce()), 30)
    assert [e["id"] for e in got] == a_ids and old not in a_ids
    assert all(e["data"]["tenant_id"] == tenant.tenant_id for e in got)
    assert got[-1]["event"] == "run.completed" and got[-1]["data"]["id"] == a_ids[-1]

    # reconnect after the third event: exactly the ones after it, in order
    resumed = await asyncio.wait_for(read_events(live_api, tenant, 3, last_event_id=a_ids[2]), 30)
    assert [e["id"] for e in resumed] == a_ids[3:]
    # B cannot resume from A's event id (it is not B's)
    async with httpx.AsyncClient(base_url=live_api, timeout=10) as c:
        r = await c.get("/v1/events/stream", headers={**other.h, "Last-Event-ID": a_ids[0]})
        assert r.status_code == 404
        r = await c.get("/v1/events/stream")
        assert r.status_code == 401
