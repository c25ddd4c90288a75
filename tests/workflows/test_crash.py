"""Crash test: a back-fill of 11 plan rows × 2 sub-topics (≥ 20 articles, published for real to X and
Threads on the social emulator) while the worker process (`icop worker all`) is killed with SIGKILL three
times at random moments and started again, and the Temporal dev server is stopped and started once mid-run
(its history persists in its SQLite file). The platforms fail too: 5xx before a publish, and publishes
made whose answer is lost (the connection drops mid-response). At the end every sub-topic has exactly one
article, every article exactly one post per target, counted in the emulator's own state (duplicates 0,
missing 0), and the sheet shows every status. (Some of these articles read the same: their posts are told
apart by the reference each one carries.)

The moments are drawn from a seeded RNG (``ICOP_CRASH_SEED`` replays a run; the seed is printed): each
action waits until a random share of the run's work units (sub-topics stored + articles formatted +
posts) is done, then a random extra delay.

What keeps it within a few minutes on 2 shared cores, without relaxing anything asserted:
- the worker runs with ``--fast-failover`` (short calls time out after 10 s instead of 30-60 s, retries
  start after ≤ 1 s; ``workflows.policies.use_fast_failover``): a killed attempt is retried after
  seconds, not minutes (long calls already heartbeat: 10 s);
- sub-topics, writers, images and JPEGs run where production runs them, in their Ray Serve deployments
  (``--models serve``,
  the CLI's default), deployed once for the test: a restarted worker does not import torch, load the
  embedding model and compile BERTopic's numba code again (≈ 30 CPU-s per restart otherwise).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from cluster.sheet_pipeline import connect_targets, make_pipeline
from cluster.stack import LocalStack, StackState
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import PipelineRunInput, Progress, Queues, run_workflow_id

from .conftest import count_on_platforms, fresh_targets, social_knobs

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TOPICS = [
    "Home coffee brewing",
    "Vegetable gardening on a balcony",
    "Training for a first marathon",
    "Sourdough bread baking",
    "Saving for retirement in your thirties",
    "Learning to play the guitar",
    "Birdwatching for beginners",
    "Remote work productivity",
    "Caring for houseplants",
    "Planning a budget road trip",
    "Learning a second language",
]
SUBTOPICS = 2
MIN_ARTICLES = 20  # the planner drops a sub-topic too close to one the tenant already has: 11 rows ≥ 20
KILLS = 3
# work units of the run: sub-topics stored + articles formatted (Markdown stored) + posts
UNITS = """SELECT (SELECT count(*) FROM subtopics WHERE run_id = $1)
                + (SELECT count(*) FROM generated_articles WHERE run_id = $1 AND markdown_url IS NOT NULL)
                + (SELECT count(*) FROM posts p JOIN generated_articles a ON a.id = p.article_id
                   WHERE a.run_id = $1)"""


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
                "--models",
                "serve",
                "--state-dir",
                str(stack.state_dir),
                "--fast-failover",
            ],  # fmt: skip
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # A post a killed worker was sending stays leased ('publishing') this long before the next
            # attempt reconciles it: longer than a fast-failover publish call may run (15 s).
            env={**os.environ, "PYTHONUNBUFFERED": "1", "ICOP_SOCIAL_PUBLISH_LEASE_S": "20"},
        )


def restart_temporal(stack: LocalStack) -> float:
    """Stop the stack's Temporal dev server and start it again on the same SQLite file."""
    t0 = time.monotonic()
    comp = next(c for c in stack.components if c.name == "temporal")
    state = StackState.load(stack.state_file)
    comp.stop(state.sessions["temporal"])
    state = StackState.load(stack.state_file)
    state.sessions["temporal"] = comp.start()
    state.save(stack.state_file)
    return time.monotonic() - t0


def plan(rng: random.Random, total: int) -> list[tuple[str, int, float]]:
    """(action, units done before it, extra delay in seconds): three kills and one Temporal restart,
    spread over the run (the restart falls between two kills)."""
    shares = sorted(rng.uniform(0.05, 0.7) for _ in range(KILLS + 1))
    actions = ["kill"] * (KILLS + 1)
    actions[rng.randrange(1, KILLS)] = "restart-temporal"
    pairs = zip(actions, shares, strict=True)
    return [(a, max(1, int(s * total)), round(rng.uniform(0.0, 3.0), 2)) for a, s in pairs]


async def units_done(pool: asyncpg.Pool, tenant: UUID, run: UUID) -> int:
    async with tenant_tx(pool, tenant) as conn:
        return int(await conn.fetchval(UNITS, run))


async def wait_units(
    pool: asyncpg.Pool, tenant: UUID, run: UUID, at_least: int, within: float, tail: Callable[[], str]
) -> int:
    deadline = time.monotonic() + within
    while True:
        n = await units_done(pool, tenant, run)
        if n >= at_least:
            return n
        assert time.monotonic() < deadline, f"stuck at {n}/{at_least} work units\n{tail()}"
        await asyncio.sleep(0.2)


async def test_worker_killed_and_temporal_restarted_mid_backfill_loses_nothing_and_posts_once(
    stack: LocalStack,
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    sheets_admin: EmulatorAdmin,
    serve_apps: list[str],
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("ICOP_CRASH_SEED") or random.SystemRandom().randrange(2**31))
    rng = random.Random(seed)
    prefix = f"tq-crash-{os.urandom(4).hex()}"
    queues = Queues.with_prefix(prefix)
    targets = fresh_targets()
    rows_in = [[t, "", "en", ""] for t in TOPICS]
    p = await make_pipeline(
        app_pool,
        sheets_admin,
        rows_in,
        subtopics=SUBTOPICS,
        targets=targets,
        dry_run=False,
        settings=settings,
    )
    await connect_targets(settings, app_pool, p.tenant_id, targets)
    # the platforms: three 503s before a publish (Retry-After 1 s), three publishes made and answered by
    # a connection that drops mid-response
    social_knobs(settings, error_next=3, retry_after_s=1, lose_response_next=3, lose_mode="drop")
    expected = len(TOPICS) * SUBTOPICS * (2 + len(targets))
    actions = plan(rng, expected)
    print(f"\ncrash plan (ICOP_CRASH_SEED={seed}, {expected} work units): {actions}")
    log = tmp_path / "worker.log"
    t0 = time.monotonic()
    worker = start_worker(stack, prefix, log)
    done: list[tuple[str, int, float]] = []
    try:
        handle = await temporal.start_workflow(
            "PipelineRunWorkflow",
            PipelineRunInput(
                str(p.tenant_id), str(p.pipeline_id), str(p.run_id), queues, max_concurrent_rows=5
            ),
            id=run_workflow_id(str(p.run_id)),
            task_queue=queues.planning,
            result_type=Progress,
        )
        for action, at, delay in actions:
            await wait_units(
                app_pool, p.tenant_id, p.run_id, at, within=180, tail=lambda: log.read_text()[-6000:]
            )
            await asyncio.sleep(delay)
            n = await units_done(app_pool, p.tenant_id, p.run_id)
            if action == "kill":
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                worker = start_worker(stack, prefix, log)
                spent = 0.0
            else:
                spent = await asyncio.to_thread(restart_temporal, stack)
            done.append((action, n, round(time.monotonic() - t0, 1)))
            print(f"  {time.monotonic() - t0:6.1f}s {action} at {n}/{expected} units ({spent:.1f}s)")
        progress = await asyncio.wait_for(handle.result(), timeout=240)
        elapsed = time.monotonic() - t0
    finally:
        platform_faults_left = social_knobs(settings)
        social_knobs(settings, reset=True)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    print(f"  {elapsed:6.1f}s run completed: {progress}")

    # Every action happened while work was still to do.
    assert [a for a, _, _ in done].count("kill") == KILLS and len(done) == KILLS + 1
    final = await units_done(app_pool, p.tenant_id, p.run_id)
    assert all(n < final for _, n, _ in done), (done, final)
    # The run's history survived the server restart (same workflow, completed, on the same file).
    assert (stack.state_dir / "temporal" / "temporal.db").stat().st_size > 0
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    rows = len(TOPICS)
    assert (progress.rows_total, progress.rows_done, progress.rows_failed) == (rows, rows, 0)
    assert progress.articles_failed == 0 and progress.articles_done == progress.subtopics
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        run = await conn.fetchrow("SELECT status, progress FROM pipeline_runs WHERE id = $1", p.run_id)
        subs = await conn.fetch("SELECT id FROM subtopics WHERE run_id = $1", p.run_id)
        arts = await conn.fetch(
            "SELECT id, subtopic_id, status, markdown_url, error FROM generated_articles WHERE run_id = $1",
            p.run_id,
        )
        posts = await conn.fetch(
            "SELECT article_id, platform, status, platform_post_id, error FROM posts WHERE tenant_id = $1",
            p.tenant_id,
        )
    assert run["status"] == "completed" and run["progress"]["articles_done"] == len(arts)
    # every sub-topic has exactly one article, at least 20 of them
    assert len(arts) == len(subs) == progress.articles_done >= MIN_ARTICLES
    assert sorted(a["subtopic_id"] for a in arts) == sorted(s["id"] for s in subs)
    assert all(a["status"] == "published" and a["markdown_url"] for a in arts), [
        (a["status"], a["error"]) for a in arts if a["status"] != "published"
    ]
    # every article exactly one post per target platform
    pairs = [(r["article_id"], r["platform"]) for r in posts]
    assert len(pairs) == len(set(pairs)) == len(arts) * len(targets)
    assert set(pairs) == {(a["id"], t["platform"]) for a in arts for t in targets}
    assert all(r["status"] == "published" for r in posts), [
        dict(r) for r in posts if r["status"] != "published"
    ]
    # ... counted where it matters: in the platforms' own state
    count = await count_on_platforms(settings, targets, list(posts), len(arts))
    print(f"  counted on the platforms: {count.note()}")
    assert (count.duplicates, count.missing) == (0, 0), count
    assert count.posts == {t["platform"]: len(arts) for t in targets}
    assert platform_faults_left["error_next"] == platform_faults_left["lose_response_next"] == 0
    # the sheet shows every status
    book = sheets_admin.read_sheet(p.sheet_id)
    assert [r[3] for r in book["ContentPlan"][1 : rows + 1]] == ["done"] * rows
    sub_rows = [r for r in book["Subtopics"][1:] if any(r)]
    assert len(sub_rows) == len(arts) and all(r[3] == "done" and r[4] for r in sub_rows), sub_rows
    # the session's own client still works after the server restart (other tests use it)
    again = await temporal.get_workflow_handle(handle.id).describe()
    assert again.status == WorkflowExecutionStatus.COMPLETED
