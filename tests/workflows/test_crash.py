"""Crash test: the worker process (`icop worker all`) is killed with SIGKILL twice mid-run and started
again; at the end every sub-topic has exactly one article, every article exactly one post per target,
and the sheet shows every status."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from cluster.stack import LocalStack
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from workflows.types import PipelineRunInput, Progress, Queues, run_workflow_id

from .conftest import TARGETS, make_pipeline

# ≈ 5 min on a shared 2-core machine (each worker restart reloads the models; a killed attempt waits out
# its heartbeat timeout): over the suite's per-test budget, so it runs when asked for.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("ICOP_CRASH_TEST") != "1", reason="set ICOP_CRASH_TEST=1 (≈ 5 min)"),
]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(stack: LocalStack, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cluster.cli",
                "worker",
                "all",
                "--queue-prefix",
                prefix,
                "--clusterer",
                "local",
                "--state-dir",
                str(stack.state_dir),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def wait_for(pool: asyncpg.Pool, tenant: object, sql: str, at_least: int, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        async with tenant_tx(pool, tenant) as conn:  # type: ignore[arg-type]
            n = int(await conn.fetchval(sql, tenant))
        if n >= at_least or time.monotonic() > deadline:
            return n
        await asyncio.sleep(0.2)


async def test_worker_killed_mid_run_loses_nothing_and_posts_once(
    stack: LocalStack, app_pool: asyncpg.Pool, temporal: Client, sheets_admin: EmulatorAdmin, tmp_path: Path
) -> None:
    prefix = f"tq-crash-{os.urandom(4).hex()}"
    queues = Queues.with_prefix(prefix)
    p = await make_pipeline(
        app_pool,
        sheets_admin,
        [
            ["Home coffee brewing", "", "en", ""],
            ["Espresso basics at home", "", "en", ""],
        ],
    )
    log = tmp_path / "worker.log"
    worker = start_worker(stack, prefix, log)
    try:
        handle = await temporal.start_workflow(
            "PipelineRunWorkflow",
            PipelineRunInput(
                str(p.tenant_id), str(p.pipeline_id), str(p.run_id), queues, max_concurrent_rows=2
            ),
            id=run_workflow_id(str(p.run_id)),
            task_queue=queues.planning,
            result_type=Progress,
        )
        kills = 0
        # Kill once sub-topics exist (articles being written), once posts have started.
        for sql, n in (
            ("SELECT count(*) FROM subtopics WHERE tenant_id = $1", 1),
            ("SELECT count(*) FROM posts WHERE tenant_id = $1", 1),
        ):
            got = await wait_for(app_pool, p.tenant_id, sql, n, within=150)
            assert got >= n, log.read_text()[-6000:]
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            kills += 1
            worker = start_worker(stack, prefix, log)
        progress = await asyncio.wait_for(handle.result(), timeout=240)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert kills == 2
    assert progress.rows_done == 2 and progress.articles_failed == 0
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        subs = await conn.fetch("SELECT id FROM subtopics WHERE run_id = $1", p.run_id)
        arts = await conn.fetch(
            "SELECT id, subtopic_id, status, markdown_url FROM generated_articles WHERE run_id = $1", p.run_id
        )
        posts = await conn.fetch(
            "SELECT article_id, platform, status FROM posts WHERE tenant_id = $1", p.tenant_id
        )
    assert len(subs) == len(arts) == progress.articles_done >= 2
    assert sorted(a["subtopic_id"] for a in arts) == sorted(s["id"] for s in subs)
    assert all(a["status"] == "ready" and a["markdown_url"] for a in arts)
    pairs = [(r["article_id"], r["platform"]) for r in posts]
    assert len(pairs) == len(set(pairs)) == len(arts) * len(TARGETS)
    assert all(r["status"] == "dry_run" for r in posts)
    book = sheets_admin.read_sheet(p.sheet_id)
    assert [r[3] for r in book["ContentPlan"][1:3]] == ["done"] * 2
    sub_rows = [r for r in book["Subtopics"][1:] if any(r)]
    assert len(sub_rows) == len(arts) and all(r[3] == "done" for r in sub_rows)
