"""Rules: one active run per pipeline; at most ``tenant_max_active_runs`` active runs per tenant (so one
tenant's back-fills cannot starve the others: 429 beyond it); runs refuse to start when the plan's
monthly articles are used up. A run whose workflow cannot be started (engine down) is not recorded: 503.

Callers outside a request (``icop backfill``) use the same functions with a ``Tx`` of their own.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import asyncpg
from temporalio.service import RPCError

from icop.errors import Conflict, DomainError, InvalidRequest, NotFound, PlanLimitExceeded
from icop.settings import Settings
from workflows.repository import lock_tenant_runs

from ..context import Tx
from ..pagination import decode_cursor, page_of
from ..pipelines.repository import PipelineRepository
from .repository import RunRepository
from .schemas import RunCreate, RunOut, RunRowOut
from .starter import RecordOnlyStarter, RunRequest, RunStarter

repo, pipelines = RunRepository(), PipelineRepository()


def to_out(row: asyncpg.Record) -> RunOut:
    return RunOut(**dict(row))


class TooManyActiveRuns(DomainError):
    status, title = 429, "Too many active runs"


class EngineUnavailable(DomainError):
    status, title = 503, "Workflow engine unavailable"


def max_active_runs(tx: Tx) -> int:
    settings = tx.services.extras.get("settings")
    return (settings or Settings()).tenant_max_active_runs


def starter_of(tx: Tx) -> RunStarter:
    return tx.services.extras.get("run_starter") or RecordOnlyStarter()


async def start(tx: Tx, pipeline_id: UUID, body: RunCreate) -> RunOut:
    requested = body.model_dump(exclude_none=True)
    return await _start(
        tx, pipeline_id, body.kind, {"requested": requested}, from_row=body.from_row, to_row=body.to_row
    )


async def _start(
    tx: Tx,
    pipeline_id: UUID,
    kind: str,
    progress: dict[str, Any],
    *,
    from_row: int | None = None,
    to_row: int | None = None,
    rows: tuple[int, ...] | None = None,
) -> RunOut:
    pipeline = await pipelines.get(tx.conn, tx.tenant_id, pipeline_id, for_update=True)  # serialises starts
    if pipeline is None:
        raise NotFound("no such pipeline")
    if pipeline["status"] != "active":
        raise Conflict("the pipeline is paused; resume it before starting a run")
    if await repo.active_count(tx.conn, tx.tenant_id, pipeline_id):
        raise Conflict("this pipeline already has a run in progress; cancel it or wait for it to finish")
    await lock_tenant_runs(tx.conn, tx.tenant_id)  # serialises this tenant's starts (the bound below)
    bound, active = max_active_runs(tx), await repo.tenant_active_count(tx.conn, tx.tenant_id)
    if active >= bound:
        raise TooManyActiveRuns(
            f"this tenant already has {active} active runs (limit {bound}); wait for one to finish or "
            "cancel one",
            headers={"Retry-After": "60"},
        )
    limit = tx.services.config.plan(tx.who.plan).articles_per_month
    if await repo.articles_this_month(tx.conn, tx.tenant_id) >= limit:
        raise PlanLimitExceeded(f"the {tx.who.plan} plan's {limit} articles for this month are used up")
    row = await repo.insert(tx.conn, tx.tenant_id, pipeline_id, kind, progress)
    try:
        workflow_id = await starter_of(tx).start(
            RunRequest(tx.tenant_id, pipeline_id, row["id"], kind, from_row, to_row, rows)
        )
    except (OSError, RuntimeError, RPCError) as e:  # OSError includes timeouts; not recorded (rollback)
        raise EngineUnavailable(f"the run could not be started ({type(e).__name__}); try again") from e
    if workflow_id:
        await repo.set_workflow(tx.conn, tx.tenant_id, row["id"], workflow_id)
        row = await repo.get(tx.conn, tx.tenant_id, row["id"])
    return to_out(row)


async def get(tx: Tx, run_id: UUID) -> RunOut:
    row = await repo.get(tx.conn, tx.tenant_id, run_id)
    if row is None:
        raise NotFound("no such run")
    return to_out(row)


async def list_page(
    tx: Tx, pipeline_id: UUID, status: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    if await pipelines.get(tx.conn, tx.tenant_id, pipeline_id) is None:
        raise NotFound("no such pipeline")
    rows = await repo.list(tx.conn, tx.tenant_id, pipeline_id, status, decode_cursor(cursor), limit)
    return page_of(rows, limit, to_out)


async def rows_page(
    tx: Tx, run_id: UUID, status: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    if await repo.get(tx.conn, tx.tenant_id, run_id) is None:
        raise NotFound("no such run")
    after = _decode_row_cursor(cursor)
    rows = await repo.rows(tx.conn, tx.tenant_id, run_id, status, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode_row_cursor(rows[-1]["row_number"]) if more and rows else None
    return {"items": [RunRowOut(**dict(r)) for r in rows], "next_cursor": nxt}


def _encode_row_cursor(row_number: int) -> str:
    return base64.urlsafe_b64encode(f"row|{row_number}".encode()).decode().rstrip("=")


def _decode_row_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        kind, _, n = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        if kind != "row":
            raise ValueError(kind)
        return int(n)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidRequest("invalid cursor") from e


async def retry(tx: Tx, run_id: UUID) -> RunOut:
    """A new run over the rows that failed (or were refused as invalid) in ``run_id``; the rules of any
    start apply (one active run per pipeline, the tenant's bound, the plan's monthly articles)."""
    run = await repo.get(tx.conn, tx.tenant_id, run_id)
    if run is None:
        raise NotFound("no such run")
    failed = await repo.failed_rows(tx.conn, tx.tenant_id, run_id)
    if not failed:
        raise Conflict("no row failed in this run; there is nothing to retry")
    progress = {"requested": {"kind": "manual", "retry_of": str(run_id), "rows": failed}}
    return await _start(tx, run["pipeline_id"], "manual", progress, rows=tuple(failed))


async def cancel(tx: Tx, run_id: UUID) -> RunOut:
    row = await repo.get(tx.conn, tx.tenant_id, run_id)
    if row is None:
        raise NotFound("no such run")
    if not await repo.cancel(tx.conn, tx.tenant_id, run_id):
        raise Conflict(f"the run is already {row['status']}")
    try:
        await starter_of(tx).cancel(tx.tenant_id, run_id, row["workflow_id"])
    except (OSError, RuntimeError, RPCError) as e:  # the run stays as it was: the transaction rolls back
        raise EngineUnavailable(f"the run could not be cancelled ({type(e).__name__}); try again") from e
    return await get(tx, run_id)
