"""Every SQL statement run admission needs: locks, the counts its rules read, and the run row itself."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from icop.statuses import RunStatus

ACTIVE = [s.value for s in RunStatus.active()]


async def lock_pipeline(conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID) -> str | None:
    """The pipeline's status, its row locked until the transaction ends (serialises its starts)."""
    status: str | None = await conn.fetchval(
        "SELECT status FROM content_pipelines WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        pipeline_id,
    )
    return status


async def lock_tenant_runs(conn: asyncpg.Connection, tenant_id: UUID) -> None:
    """Serialises run starts of one tenant until the transaction ends (the bound of active runs). Always
    taken after the pipeline's row lock, by every caller, so two starts cannot deadlock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"icop-runs:{tenant_id}")


async def lock_tenant_articles(conn: asyncpg.Connection, tenant_id: UUID) -> None:
    """Serialises article admissions of one tenant until the transaction ends (the monthly limit)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"icop-articles:{tenant_id}")


async def tenant_plan(conn: asyncpg.Connection, tenant_id: UUID) -> str | None:
    plan: str | None = await conn.fetchval("SELECT plan FROM tenants WHERE id = $1", tenant_id)
    return plan


async def active_runs(conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID | None = None) -> int:
    """Pending or running runs of the tenant (of one pipeline, when given)."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM pipeline_runs WHERE tenant_id = $1 AND status = ANY($2::text[]) "
        "AND ($3::uuid IS NULL OR pipeline_id = $3)",
        tenant_id,
        ACTIVE,
        pipeline_id,
    )
    return n


async def articles_this_month(conn: asyncpg.Connection, tenant_id: UUID) -> int:
    """Articles created since the start of the calendar month (UTC): what the plan's monthly limit counts."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM generated_articles WHERE tenant_id = $1 "
        "AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        tenant_id,
    )
    return n


async def prior_run(conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT status, error, progress FROM pipeline_runs WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        run_id,
    )
    return row


async def insert_run(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    pipeline_id: UUID,
    kind: str,
    progress: dict[str, Any],
    *,
    run_id: UUID | None = None,
    workflow_id: str | None = None,
    status: RunStatus = RunStatus.PENDING,
    error: str | None = None,
) -> UUID:
    new_id: UUID = await conn.fetchval(
        """INSERT INTO pipeline_runs (id, tenant_id, pipeline_id, kind, status, workflow_id, progress, error,
                                      finished_at)
           VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8,
                   CASE WHEN $5 = ANY($9::text[]) THEN now() END)
           RETURNING id""",
        run_id,
        tenant_id,
        pipeline_id,
        kind,
        status.value,
        workflow_id,
        progress,
        error,
        [s.value for s in RunStatus.finished()],
    )
    return new_id


async def set_workflow(conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, workflow_id: str) -> None:
    await conn.execute(
        "UPDATE pipeline_runs SET workflow_id = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        run_id,
        workflow_id,
    )


async def cancel_run(conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    """Mark an active run cancelled; its ``workflow_id``, or None when it was not active (or not there)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE pipeline_runs SET status = 'cancelled', finished_at = now()
           WHERE tenant_id = $1 AND id = $2 AND status = ANY($3::text[]) RETURNING workflow_id""",
        tenant_id,
        run_id,
        ACTIVE,
    )
    return row
