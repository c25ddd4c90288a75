"""Events are written in the transaction of the change they report: never lost, never invented."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
import pytest

from icop.db import tenant_tx
from icop.events import emit
from tests.gateway.conftest import TenantHandle
from workflows import repository

from .helpers import events_of, make_run


class Boom(Exception):
    pass


async def test_rolled_back_state_change_leaves_no_event(app_pool: asyncpg.Pool, tenant: TenantHandle) -> None:
    run_id = await make_run(app_pool, tenant.tenant_id)
    tid = UUID(tenant.tenant_id)
    with pytest.raises(Boom):
        async with tenant_tx(app_pool, tid) as conn:
            await repository.set_run_status(conn, tid, run_id, "running", {}, None)
            assert len(await conn.fetch("SELECT 1 FROM outbox WHERE tenant_id = $1", tid)) == 1
            raise Boom
    assert await events_of(app_pool, tid) == []
    async with tenant_tx(app_pool, tid) as conn:
        assert await conn.fetchval("SELECT status FROM pipeline_runs WHERE id = $1", run_id) == "pending"

    async with tenant_tx(app_pool, tid) as conn:  # the same change, committed: exactly one event
        await repository.set_run_status(conn, tid, run_id, "running", {}, None)
    rows = await events_of(app_pool, tid)
    assert [r["type"] for r in rows] == ["run.started"]
    assert rows[0]["payload"]["run_id"] == str(run_id) and rows[0]["sent_at"] is None


async def test_run_transitions_emit_one_event_each(app_pool: asyncpg.Pool, tenant: TenantHandle) -> None:
    run_id = await make_run(app_pool, tenant.tenant_id)
    tid = UUID(tenant.tenant_id)
    steps = [
        ("running", {}),
        ("running", {"rows": 3}),
        ("completed", {"rows": 3}),
        ("completed", {"rows": 3}),  # a retried activity: no second event
    ]
    for status, progress in steps[:4]:
        async with tenant_tx(app_pool, tid) as conn:
            await repository.set_run_status(conn, tid, run_id, status, progress, None)
    types = [r["type"] for r in await events_of(app_pool, tid)]
    assert types == ["run.started", "run.progress", "run.completed"]


async def test_article_ready_and_awaiting_approval(app_pool: asyncpg.Pool, tenant: TenantHandle) -> None:
    tid = UUID(tenant.tenant_id)
    async with tenant_tx(app_pool, tid) as conn:
        article = await conn.fetchval(
            "INSERT INTO generated_articles (tenant_id, status) VALUES ($1, 'writing') RETURNING id", tid
        )
    for status in ("awaiting_approval", "approved", "ready", "ready"):
        async with tenant_tx(app_pool, tid) as conn:
            await repository.set_article_status(conn, tid, article, status, None)
    rows = await events_of(app_pool, tid)
    assert [r["type"] for r in rows] == ["article.awaiting_approval", "article.ready"]
    assert all(r["payload"]["article_id"] == str(article) for r in rows)


async def test_emit_refuses_unknown_types_bad_payloads_and_no_transaction(
    app_pool: asyncpg.Pool, tenant: TenantHandle
) -> None:
    tid = UUID(tenant.tenant_id)
    async with tenant_tx(app_pool, tid) as conn:
        with pytest.raises(ValueError, match="unknown event type"):
            await emit(conn, tid, "run.exploded", {"run_id": str(uuid4()), "status": "running"})
        with pytest.raises(ValueError):
            await emit(conn, tid, "run.started", {"run_id": "not-a-uuid", "status": "running"})
    async with app_pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await emit(conn, tid, "run.started", {"run_id": str(uuid4()), "status": "running"})
    assert await events_of(app_pool, tid) == []


async def test_outbox_is_tenant_isolated(
    app_pool: asyncpg.Pool, owner_conn: asyncpg.Connection, tenant: TenantHandle, other: TenantHandle
) -> None:
    a, b = UUID(tenant.tenant_id), UUID(other.tenant_id)
    async with tenant_tx(app_pool, a) as conn:
        await emit(conn, a, "run.started", {"run_id": str(uuid4()), "status": "running"})
    async with tenant_tx(app_pool, b) as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE tenant_id = $1", a) == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # RLS WITH CHECK: no event for another tenant
            await emit(conn, a, "run.started", {"run_id": str(uuid4()), "status": "running"})
    forced = await owner_conn.fetchval("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'outbox'")
    assert forced is True
