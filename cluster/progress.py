"""Follow a pipeline run until it ends, with a rich progress bar (``icop backfill``, the demo).

The run's row in ``pipeline_runs`` is the record: the workflow writes its counters there after every
plan row, so following needs only the database. With a Temporal client, a run whose workflow ended
without recording it (terminated, timed out) is noticed too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from icop.db import tenant_tx
from workflows.types import Progress as RunProgress
from workflows.types import run_workflow_id

TERMINAL = ("completed", "failed", "cancelled")
_FIELDS = {f.name for f in dataclasses.fields(RunProgress)}
_CLOSED = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "failed",
}


@dataclass(frozen=True)
class FollowedRun:
    """Where the run ended (or stood, if the follower stopped first)."""

    run_id: UUID
    status: str
    progress: RunProgress
    error: str | None
    seconds: float

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def progress_of(stored: dict[str, Any] | None) -> RunProgress:
    """The workflow's counters from ``pipeline_runs.progress`` (which also holds the API's ``requested``)."""
    return RunProgress(**{k: int(v) for k, v in (stored or {}).items() if k in _FIELDS})


async def read_run(pool: asyncpg.Pool, tenant_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    async with tenant_tx(pool, tenant_id) as conn:
        return await conn.fetchrow(
            "SELECT status, workflow_id, progress, error FROM pipeline_runs WHERE tenant_id = $1 AND id = $2",
            tenant_id,
            run_id,
        )


def describe_progress(p: RunProgress, status: str) -> str:
    return (
        f"failed {p.rows_failed} · invalid {p.rows_invalid} · sub-topics {p.subtopics} · "
        f"articles {p.articles_done} (failed {p.articles_failed}) · posts {p.posts} · {status}"
    )


async def _workflow_closed(client: Client, workflow_id: str) -> str | None:
    try:
        desc = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return None
    return _CLOSED.get(desc.status) if desc.status is not None else None


async def follow_run(
    client: Client | None,
    pool: asyncpg.Pool,
    tenant_id: UUID,
    run_id: UUID,
    console: Console,
    *,
    poll_s: float = 0.5,
    timeout_s: float | None = None,
) -> FollowedRun:
    """Show the run's rows (done + failed of total), articles and posts until it ends; returns where it
    ended. ``timeout_s`` stops following (not the run) after that long."""
    t0 = time.monotonic()
    bar = Progress(
        TextColumn("[bold]run[/] {task.fields[short]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows  {task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    status, error, p = "pending", None, RunProgress()
    closed_seen, next_check = 0, t0 + 5.0
    with bar:
        task = bar.add_task("run", total=None, short=str(run_id)[:8], detail="starting…")
        while True:
            row = await read_run(pool, tenant_id, run_id)
            if row is None:
                raise LookupError(f"run {run_id} does not exist for tenant {tenant_id}")
            status, error, p = row["status"], row["error"], progress_of(row["progress"])
            total = p.rows_total or None
            bar.update(
                task,
                total=total,
                completed=p.rows_done + p.rows_failed,
                detail=describe_progress(p, status),
            )
            if status in TERMINAL:
                break
            if client is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + 5.0
                ended = await _workflow_closed(client, row["workflow_id"] or run_workflow_id(str(run_id)))
                closed_seen = closed_seen + 1 if ended else 0
                if ended and closed_seen >= 3:  # closed, yet the row never said so: trust Temporal
                    status, error = ended, error or "the workflow ended without recording it"
                    break
            if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                break
            await asyncio.sleep(poll_s)
    return FollowedRun(run_id, status, p, error, time.monotonic() - t0)
