"""Runs through the API: the rules of starting one are the core's (``icop.runs.admission``: pipeline
active with no run in progress, the tenant's bound of active runs, the plan's monthly articles); this
module turns its refusals into problems. A run whose workflow cannot be started is not recorded: 503.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import asyncpg

from icop.errors import Conflict, InvalidRequest, NotFound
from icop.runs.admission import Actor, RunLimits, StartedBy, refusal_error
from icop.runs.repository import cancel_run
from icop.runs.service import RunStarter, start_run
from icop.statuses import RunKind

from ..context import Tx
from ..pagination import decode_cursor, page_of
from ..pipelines.repository import PipelineRepository
from .repository import RunRepository
from .schemas import RunCreate, RunOut, RunRowOut

repo, pipelines = RunRepository(), PipelineRepository()


def to_out(row: asyncpg.Record) -> RunOut:
    return RunOut(**dict(row))


def limits_of(tx: Tx) -> RunLimits:
    return RunLimits.from_settings(tx.services.settings)


def starter_of(tx: Tx) -> RunStarter:
    return tx.services.engine.run_starter


async def start(tx: Tx, pipeline_id: UUID, body: RunCreate) -> RunOut:
    requested = body.model_dump(exclude_none=True)
    return await _start(
        tx,
        pipeline_id,
        RunKind(body.kind),
        {"requested": requested},
        from_row=body.from_row,
        to_row=body.to_row,
    )


async def _start(
    tx: Tx,
    pipeline_id: UUID,
    kind: RunKind,
    progress: dict[str, Any],
    *,
    from_row: int | None = None,
    to_row: int | None = None,
    rows: tuple[int, ...] | None = None,
) -> RunOut:
    started = await start_run(
        tx.conn, starter_of(tx), limits_of(tx), Actor(StartedBy.API, tx.who.role), tx.tenant_id,
        pipeline_id, kind, progress, from_row=from_row, to_row=to_row, rows=rows,
    )  # fmt: skip
    if started.run_id is None:
        raise refusal_error(started.admission)
    row = await repo.get(tx.conn, tx.tenant_id, started.run_id)
    assert row is not None
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
    return await _start(tx, run["pipeline_id"], RunKind.MANUAL, progress, rows=tuple(failed))


async def cancel(tx: Tx, run_id: UUID) -> RunOut:
    row = await repo.get(tx.conn, tx.tenant_id, run_id)
    if row is None:
        raise NotFound("no such run")
    cancelled = await cancel_run(tx.conn, tx.tenant_id, run_id)
    if cancelled is None:
        raise Conflict(f"the run is already {row['status']}")
    # EngineUnavailable: the run stays as it was (the transaction rolls back)
    await starter_of(tx).cancel(tx.tenant_id, run_id, cancelled["workflow_id"])
    return await get(tx, run_id)
