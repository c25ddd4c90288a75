"""``icop backfill`` and ``icop schedules sync``: operator commands over the same code as the API.

A back-fill is an ordinary run of kind ``backfill``: it is admitted and started by
``icop.runs.service.start_run`` (the rules every start obeys: pipeline active, one active run per
pipeline, the tenant's bound of active runs, the plan's monthly articles) in a ``tenant_tx``, with
``workflows.starter.TemporalRunStarter`` — the same functions the API calls.

Resuming: a run only takes the plan rows that are still pending (a row marked ``done`` on the sheet
is skipped by ``read_plan``), so running ``icop backfill`` again over the same pipeline after a
cancelled or failed back-fill picks up where it stopped.

Finding a pipeline without knowing its tenant (``--tenant`` left out) and ``schedules sync`` read
``content_pipelines`` across tenants, which row-level security refuses to the application role: they
call two ``SECURITY DEFINER`` lookups (``ops_pipeline_tenant``, ``ops_pipeline_schedules``, migration
0009) that return ids, crons, time zones and statuses only, so the commands run as ``icop_app``.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)
schedules_app = typer.Typer(
    help="Pipeline crons as Temporal Schedules (created and kept in step by the pipelines API).",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", envvar="ICOP_STATE_DIR", help="Folder for the stack's state (default .icop)."
    ),
]
QueuePrefix = Annotated[
    str | None,
    typer.Option(
        "--queue-prefix", help="Task queue prefix of the workers (default ICOP_WORKFLOW_QUEUE_PREFIX)."
    ),
]


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


async def ops_connect(settings: Any) -> asyncpg.Connection:
    """The application role: cross-tenant reads go through the ``ops_*`` lookups (migration 0009)."""
    return await asyncpg.connect(settings.pg_dsn("app"))


async def pipeline_tenant(settings: Any, pipeline_id: UUID) -> UUID | None:
    """The tenant of a pipeline (``ops_pipeline_tenant``: the id and nothing else)."""
    conn = await ops_connect(settings)
    try:
        return await conn.fetchval("SELECT ops_pipeline_tenant($1)", pipeline_id)
    finally:
        await conn.close()


BACKFILL_HELP = (
    "Back-fill a pipeline: process its pending plan rows (optionally only rows N..M) as one run.\n\n"
    "The run is created exactly as `POST /v1/pipelines/{id}/runs` would, with the same rules (pipeline "
    "active with no run in progress, the tenant under ICOP_TENANT_MAX_ACTIVE_RUNS, monthly articles "
    "left), started on Temporal, then followed with a progress bar until the workflow ends; the exit "
    "status is 0 when it completed. Workers must be running (`icop worker all`).\n\n"
    "Ctrl-C asks whether to cancel the run or just detach (the run goes on). Rows already done are "
    "skipped, so running the same back-fill again after a cancel or a failure resumes it.\n\n"
    "Example: icop backfill --pipeline 6f1c… --from-row 2 --to-row 500"
)


def backfill(
    pipeline: Annotated[
        UUID, typer.Option("--pipeline", help="The pipeline to back-fill.", show_default=False)
    ],
    from_row: Annotated[
        int | None, typer.Option("--from-row", min=2, help="First sheet row to take (default: the first).")
    ] = None,
    to_row: Annotated[
        int | None, typer.Option("--to-row", min=2, help="Last sheet row to take (default: the last).")
    ] = None,
    tenant: Annotated[
        UUID | None,
        typer.Option("--tenant", help="The pipeline's tenant (default: looked up from the pipeline)."),
    ] = None,
    no_follow: Annotated[
        bool, typer.Option("--no-follow", help="Start the run and return; do not show its progress.")
    ] = False,
    max_rows_at_once: Annotated[
        int | None,
        typer.Option(
            "--max-rows-at-once", min=1, help="Rows in flight at once (default ICOP_RUN_MAX_CONCURRENT_ROWS)."
        ),
    ] = None,
    queue_prefix: QueuePrefix = None,
    state_dir: StateDir = None,
) -> None:
    """Back-fill a pipeline (see BACKFILL_HELP)."""
    from icop.errors import DomainError
    from icop.settings import load_settings

    if from_row is not None and to_row is not None and to_row < from_row:
        raise typer.BadParameter("--to-row must not be before --from-row")
    settings = load_settings(state_dir)
    prefix = queue_prefix or settings.workflow_queue_prefix
    rows_at_once = max_rows_at_once or settings.run_max_concurrent_rows
    try:
        tenant_id, run_id = asyncio.run(
            _start(settings, pipeline, tenant, from_row, to_row, prefix, rows_at_once)
        )
    except DomainError as e:
        _fail(f"{e.title}: {e.detail}")
        return
    except (LookupError, OSError, RuntimeError) as e:
        _fail(str(e))
        return
    try:
        console.print(f"back-fill run [bold]{run_id}[/] started (tenant {tenant_id}, queues {prefix}-*)")
        if no_follow:
            console.print(f"follow it with GET /v1/runs/{run_id}")
            return
        # Ctrl-C raises KeyboardInterrupt where the follower is: asyncio.run's own handler only cancels the
        # main task, and a cancellation that lands inside a client call (connecting to Temporal, say) can be
        # absorbed there, leaving the interrupt unanswered (seen under load).
        previous = signal.signal(signal.SIGINT, _interrupt)
        try:
            result = asyncio.run(_follow(settings, tenant_id, run_id))
        finally:
            signal.signal(signal.SIGINT, previous)
    except KeyboardInterrupt:
        if typer.confirm("\nCancel the run? (no: detach, the run goes on)", default=False):
            try:
                asyncio.run(_cancel(settings, tenant_id, run_id, prefix))
            except DomainError as e:
                _fail(f"{e.title}: {e.detail}")
            console.print(f"run {run_id} cancelled; run the same back-fill again to resume it")
            raise typer.Exit(130) from None
        console.print(f"detached; run {run_id} goes on (GET /v1/runs/{run_id})")
        raise typer.Exit(0) from None
    p = result.progress
    console.print(
        f"run {run_id} {result.status} in {result.seconds:.1f} s: rows {p.rows_done} done, "
        f"{p.rows_failed} failed, {p.rows_invalid} invalid of {p.rows_total}; "
        f"{p.articles_done} articles, {p.posts} posts" + (f"; error: {result.error}" if result.error else "")
    )
    if result.status != "completed":
        raise typer.Exit(1)


async def _start(
    settings: Any,
    pipeline: UUID,
    tenant: UUID | None,
    from_row: int | None,
    to_row: int | None,
    prefix: str,
    rows_at_once: int,
) -> tuple[UUID, UUID]:
    from icop.db import create_pool, tenant_tx
    from icop.runs.admission import Actor, RunLimits, StartedBy, refusal_error
    from icop.runs.service import start_run
    from icop.statuses import RunKind
    from workflows.starter import TemporalRunStarter
    from workflows.types import Queues
    from workflows.worker import connect

    tenant_id = tenant or await pipeline_tenant(settings, pipeline)
    if tenant_id is None:
        raise LookupError(f"no pipeline {pipeline}")
    starter = TemporalRunStarter(await connect(settings), Queues.with_prefix(prefix), rows_at_once)
    requested = {"kind": "backfill", "from_row": from_row, "to_row": to_row, "by": "operator"}
    progress = {"requested": {k: v for k, v in requested.items() if v is not None}}
    pool = await create_pool(settings.pg_dsn("app"), 1, 2)
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            started = await start_run(
                conn, starter, RunLimits.from_settings(settings), Actor(StartedBy.OPERATOR), tenant_id,
                pipeline, RunKind.BACKFILL, progress, from_row=from_row, to_row=to_row,
            )  # fmt: skip
    finally:
        await pool.close()
    if started.run_id is None:
        raise refusal_error(started.admission)
    return tenant_id, started.run_id


def _interrupt(signum: int, frame: object) -> None:
    """SIGINT as KeyboardInterrupt, at once (not Python's default handler: asyncio.run would replace it)."""
    raise KeyboardInterrupt


async def _follow(settings: Any, tenant_id: UUID, run_id: UUID) -> Any:
    from icop.db import create_pool
    from workflows.worker import connect

    from .progress import follow_run

    client = await connect(settings)
    pool = await create_pool(settings.pg_dsn("app"), 1, 2)
    try:
        return await follow_run(client, pool, tenant_id, run_id, console)
    finally:
        await pool.close()


async def _cancel(settings: Any, tenant_id: UUID, run_id: UUID, prefix: str) -> None:
    from icop.db import create_pool, tenant_tx
    from icop.errors import Conflict
    from icop.runs.repository import cancel_run
    from workflows.starter import TemporalRunStarter
    from workflows.types import Queues
    from workflows.worker import connect

    starter = TemporalRunStarter(await connect(settings), Queues.with_prefix(prefix))
    pool = await create_pool(settings.pg_dsn("app"), 1, 2)
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            cancelled = await cancel_run(conn, tenant_id, run_id)
            if cancelled is None:
                raise Conflict("the run has already finished")
            await starter.cancel(tenant_id, run_id, cancelled["workflow_id"])
    finally:
        await pool.close()


SYNC_HELP = (
    "Make Temporal's schedules match the database (drift repair).\n\n"
    "The pipelines API writes the database first and then the schedule; when Temporal is unreachable "
    "the schedule call is logged and skipped. This re-creates or updates the schedule of every pipeline "
    "that has a cron (paused with the pipeline) and deletes `pipeline-schedule-*` schedules whose pipeline "
    "has no cron or no longer exists; likewise one `insights-*` schedule per connected social account "
    "(collecting its posts' engagement). Safe to run at any time (from cron, at deploy)."
)


@schedules_app.command("sync", help=SYNC_HELP)
def schedules_sync(queue_prefix: QueuePrefix = None, state_dir: StateDir = None) -> None:
    """Drift repair (see SYNC_HELP)."""
    from icop.settings import load_settings

    settings = load_settings(state_dir)
    try:
        report, accounts = asyncio.run(_sync(settings, queue_prefix or settings.workflow_queue_prefix))
    except (OSError, RuntimeError) as e:
        _fail(f"{e}. Are the database and Temporal running (`icop stack status`)?")
        return
    t = Table(title="schedules sync")
    for col in ("action", "count", "pipelines"):
        t.add_column(col)
    t.add_row("upserted", str(len(report.upserted)), ", ".join(report.upserted[:5]))
    t.add_row("insights accounts", str(len(accounts.upserted)), ", ".join(accounts.upserted[:5]))
    t.add_row("insights deleted", str(len(accounts.deleted)), ", ".join(accounts.deleted[:5]))
    t.add_row("deleted", str(len(report.deleted)), ", ".join(report.deleted[:5]))
    t.add_row(
        "failed", str(len(report.failed)), ", ".join(f"{k}: {v}" for k, v in list(report.failed.items())[:5])
    )
    console.print(t)
    if report.failed or accounts.failed:
        raise typer.Exit(1)


async def _sync(settings: Any, prefix: str) -> tuple[Any, Any]:
    from workflows.schedules import (
        AccountRef,
        PipelineSchedule,
        TemporalAccountSchedules,
        TemporalSchedules,
        sync_accounts,
    )
    from workflows.types import Queues
    from workflows.worker import connect

    conn = await ops_connect(settings)
    try:
        rows = await conn.fetch("SELECT tenant_id, id, cron, timezone, status FROM ops_pipeline_schedules()")
        accounts = await conn.fetch("SELECT * FROM ops_insights_accounts()")
    finally:
        await conn.close()
    desired = [
        PipelineSchedule(r["tenant_id"], r["id"], r["cron"], r["timezone"], r["status"] == "paused")
        for r in rows
    ]
    client, queues = await connect(settings), Queues.with_prefix(prefix)
    schedules = TemporalSchedules(client, queues, settings.run_max_concurrent_rows)
    # One insights schedule per connected social account (the API makes it on connecting; this repairs).
    per_account = TemporalAccountSchedules(client, queues, settings.insights_every_s)
    refs = [(AccountRef(r["tenant_id"], r["platform"], r["account_id"]), r["collecting"]) for r in accounts]
    connected, collecting = [a for a, _ in refs], [a for a, c in refs if c]
    return await schedules.sync(desired), await sync_accounts(per_account, connected, collecting)
