"""Rows the events tests need, made through tenant_tx as the application role."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from icop.db import tenant_tx


async def make_run(pool: asyncpg.Pool, tenant_id: str | UUID) -> UUID:
    tid = UUID(str(tenant_id))
    async with tenant_tx(pool, tid) as conn:
        pipeline = await conn.fetchval(
            "INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id) "
            "VALUES ($1, 'events test', 'sheet', $2) RETURNING id",
            tid,
            f"sheet-{tid}",  # a sheet id is bound to the first tenant that uses it
        )
        return await conn.fetchval(
            "INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind) VALUES ($1, $2, 'manual') RETURNING id",
            tid,
            pipeline,
        )


async def events_of(pool: asyncpg.Pool, tenant_id: str | UUID) -> list[asyncpg.Record]:
    tid = UUID(str(tenant_id))
    async with tenant_tx(pool, tid) as conn:
        return await conn.fetch(
            "SELECT id, type, payload, sent_at FROM outbox WHERE tenant_id = $1 ORDER BY seq", tid
        )
