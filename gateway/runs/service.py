"""Rules: one active run per pipeline; at most ``tenant_max_active_runs`` active runs per tenant (so one
tenant's back-fills cannot starve the others: 429 beyond it); runs refuse to start when the plan's
monthly articles are used up. A run whose workflow cannot be started (engine down) is not recorded: 503.

Callers outside a request (``icop backfill``) use the same functions with a ``Tx`` of their own.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from temporalio.service import RPCError

from icop.errors import Conflict, DomainError, NotFound, PlanLimitExceeded
from icop.settings import Settings
from workflows.repository import lock_tenant_runs

from ..context import Tx
from ..pagination import decode_cursor, page_of
from ..pipelines.repository import PipelineRepository
from .repository import RunRepository
from .schemas import RunCreate, RunOut
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
    return (settings or Settings()).tenant_max_active_runs  # type: ignore[no-any-return]


def starter_of(tx: Tx) -> RunStarter:
    return tx.services.extras.get("run_starter") or RecordOnlyStarter()  # type: ignore[no-any-return]


async def start(tx: Tx, pipeline_id: UUID, body: RunCreate) -> RunOut:
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
    requested = body.model_dump(exclude_none=True)
    row = await repo.insert(tx.conn, tx.tenant_id, pipeline_id, body.kind, {"requested": requested})
    try:
        workflow_id = await starter_of(tx).start(
            RunRequest(tx.tenant_id, pipeline_id, row["id"], body.kind, body.from_row, body.to_row)
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
