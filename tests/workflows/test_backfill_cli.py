"""``icop backfill`` as a user runs it (a subprocess), against the session stack with workers of this
test's own queues in-process: a first back-fill over row 2 only, then a second over the whole plan
that resumes (row 2 is done and skipped), then one with nothing left and ``--no-follow``, then one
interrupted with Ctrl-C and cancelled at the prompt."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from cluster.sheet_pipeline import make_pipeline
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import MODULES, Queues, run_workflow_id
from workflows.worker import build_activities, close, running_workers

from .conftest import ROOT, run_icop

pytestmark = pytest.mark.slow


async def interrupted_backfill(*args: str) -> tuple[int, str]:
    """``icop backfill`` interrupted (SIGINT) once it follows the run, answering "y" to cancel it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cluster.cli",
        "backfill",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
        cwd=str(ROOT),
    )
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    while b"started" not in seen:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert line, seen.decode()
        seen += line
    await asyncio.sleep(1.0)  # into the follower
    proc.send_signal(signal.SIGINT)
    proc.stdin.write(b"y\n")
    await proc.stdin.drain()
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, (seen + out).decode()


async def runs_of(pool: asyncpg.Pool, tenant: uuid.UUID, pipeline: uuid.UUID) -> list[dict[str, Any]]:
    async with tenant_tx(pool, tenant) as conn:
        runs = await conn.fetch(
            "SELECT id, kind, status, progress FROM pipeline_runs WHERE pipeline_id = $1 ORDER BY created_at",
            pipeline,
        )
        out = []
        for r in runs:
            rows = await conn.fetch("SELECT row_number, status FROM run_rows WHERE run_id = $1", r["id"])
            out.append(dict(r) | {"rows": {x["row_number"]: x["status"] for x in rows}})
    return out


async def test_backfill_cli_runs_follows_and_resumes(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    serve_apps: list[str],
) -> None:
    p = await make_pipeline(
        app_pool,
        sheets_admin,
        [["Cold brew at home", "", "en", ""], ["Latte art basics", "", "en", ""]],
        subtopics=1,
        targets=[],
        settings=settings,
    )
    async with tenant_tx(app_pool, p.tenant_id) as conn:  # the fixture's own run row is not ours
        await conn.execute("DELETE FROM pipeline_runs WHERE id = $1", p.run_id)
    common = [
        "--queue-prefix",
        queues.planning.removesuffix("-planning"),
        "--state-dir",
        str(settings.state_dir),
    ]

    code, out = await run_icop("backfill", "--pipeline", str(uuid.uuid4()), *common)
    assert code == 1 and "no pipeline" in out, out

    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            t0 = time.monotonic()
            # 1: only row 2; the tenant is looked up from the pipeline
            code, out = await run_icop("backfill", "--pipeline", str(p.pipeline_id), "--to-row", "2", *common)
            assert code == 0, out
            assert "completed" in out and "rows 1 done, 0 failed, 0 invalid of 1" in out, out
            first = time.monotonic() - t0
            # 2: the whole plan, tenant given: row 2 is done on the sheet, so only row 3 is taken
            code, out = await run_icop(
                "backfill", "--pipeline", str(p.pipeline_id), "--tenant", str(p.tenant_id), *common
            )
            assert code == 0, out
            assert "rows 1 done, 0 failed, 0 invalid of 1" in out, out
            # 3: nothing left; --no-follow returns at once and the run completes with no rows
            code, out = await run_icop("backfill", "--pipeline", str(p.pipeline_id), "--no-follow", *common)
            assert code == 0 and "started" in out, out
            for _ in range(100):
                runs = await runs_of(app_pool, p.tenant_id, p.pipeline_id)
                if runs[-1]["status"] == "completed":
                    break
                await asyncio.sleep(0.3)
            # 4: three new rows, one at a time; Ctrl-C while following, then "y": the run is cancelled
            book = sheets_admin.read_sheet(p.sheet_id)
            book["ContentPlan"] += [[f"Brew method {i}", "", "en", ""] for i in range(3)]
            sheets_admin.seed_sheet(p.sheet_id, book)
            code, out = await interrupted_backfill(
                "--pipeline", str(p.pipeline_id), "--max-rows-at-once", "1", *common
            )
            assert code == 130 and "Cancel the run?" in out and "cancelled" in out, out
    finally:
        await close(acts)
    print(f"first back-fill (1 row, 1 article) through the CLI in {first:.1f}s")

    runs = await runs_of(app_pool, p.tenant_id, p.pipeline_id)
    assert [r["kind"] for r in runs] == ["backfill"] * 4
    assert [r["status"] for r in runs] == ["completed"] * 3 + ["cancelled"]
    assert [r["rows"] for r in runs[:3]] == [{2: "done"}, {3: "done"}, {}]
    assert [r["progress"]["rows_total"] for r in runs[:3]] == [1, 1, 0]
    assert runs[3]["progress"].get("rows_done", 0) < 3
    handle = temporal.get_workflow_handle(run_workflow_id(str(runs[3]["id"])))
    assert (await handle.describe()).status in (
        WorkflowExecutionStatus.CANCELED,
        WorkflowExecutionStatus.RUNNING,  # cancellation requested, still unwinding
    )
    assert runs[0]["progress"]["requested"] == {"kind": "backfill", "to_row": 2, "by": "operator"}
    plan = sheets_admin.read_sheet(p.sheet_id)["ContentPlan"]
    assert plan[1][3] == "done" and plan[2][3] == "done", plan
