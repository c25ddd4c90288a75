"""Providers failing 30 % of their calls (429 or 500, drawn per request by the emulators' fault knobs):
a back-fill of 3 rows × 2 sub-topics still completes every article, publishes each exactly once per
target, and the emulators' request log shows that the failures really happened. The platforms fail too:
5xx before a publish, and publishes that succeed but whose answer never comes (the client times out),
which the publisher reconciles before sending again. The posts are counted in the social emulator's own
state: exactly one per (article, platform, account), none missing.

Every layer retries as in production: the connectors (``provider_max_attempts``, ``Retry-After``), the
agent graph (checkpointed per node, so a retried activity resumes) and Temporal's activity retries.
"""

from __future__ import annotations

import time
from collections import Counter

import asyncpg
import pytest
from temporalio.client import Client

from cluster.sheet_pipeline import connect_targets, make_pipeline
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import MODULES, PipelineRunInput, Progress, Queues, run_workflow_id
from workflows.worker import build_activities, close, running_workers

from .conftest import count_on_platforms, fresh_targets, social_knobs

pytestmark = pytest.mark.slow
FAILURE_RATE = 0.3
# service: the injected error (LLM providers behind the planner, agents and writers; the DALL-E images)
FAULTS = {"gpt": "429", "claude": "500", "gemini": "429", "images": "500"}
TOPICS = ["Home coffee brewing", "Sourdough bread baking", "Caring for houseplants"]


async def test_backfill_completes_with_providers_failing_30_percent(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    serve_apps: list[str],
) -> None:
    targets = fresh_targets()
    rows_in = [[t, "", "en", ""] for t in TOPICS]
    p = await make_pipeline(
        app_pool, sheets_admin, rows_in, subtopics=2, targets=targets, dry_run=False, settings=settings
    )
    await connect_targets(settings, app_pool, p.tenant_id, targets)
    async with tenant_tx(app_pool, p.tenant_id) as conn:  # images from the DALL-E emulator, not offline
        await conn.execute(
            "UPDATE content_pipelines SET image_provider = 'dalle' WHERE id = $1", p.pipeline_id
        )
    since = sheets_admin.last_seq()
    for i, (service, kind) in enumerate(FAULTS.items()):
        sheets_admin.knobs(
            service, error_rate=FAILURE_RATE, error_kind=kind, retry_after_s=0.5, seed=1000 + i
        )
    # The platforms: two 503s (Retry-After 1 s), and two publishes made whose answer hangs past the
    # client's timeout (2 s here), so the publisher must reconcile them.
    social_knobs(
        settings, error_next=2, error_status=503, retry_after_s=1, lose_response_next=2, lose_mode="hang",
        hang_s=4.0,
    )  # fmt: skip
    quick = settings.model_copy(update={"social_http_timeout_s": 2.0})
    acts = await build_activities(quick, MODULES, pool=app_pool, models="serve")
    t0 = time.monotonic()
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            handle = await temporal.start_workflow(
                "PipelineRunWorkflow",
                PipelineRunInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id), queues),
                id=run_workflow_id(str(p.run_id)),
                task_queue=queues.planning,
                result_type=Progress,
            )
            progress = await handle.result()
    finally:
        for service in FAULTS:
            sheets_admin.knobs(service, replace=True)
        platform_faults_left = social_knobs(settings)
        social_knobs(settings, reset=True)
        await close(acts)
    elapsed = time.monotonic() - t0

    rows = len(TOPICS)
    assert (progress.rows_done, progress.rows_failed) == (rows, 0)
    assert progress.articles_failed == 0 and progress.articles_done == progress.subtopics >= 2 * rows
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        subs = await conn.fetch("SELECT id FROM subtopics WHERE run_id = $1", p.run_id)
        arts = await conn.fetch(
            "SELECT id, subtopic_id, status, markdown_url FROM generated_articles WHERE run_id = $1", p.run_id
        )
        posts = await conn.fetch(
            "SELECT article_id, platform, status, platform_post_id FROM posts WHERE tenant_id = $1",
            p.tenant_id,
        )
        images = await conn.fetchval("SELECT count(*) FROM images WHERE tenant_id = $1", p.tenant_id)
    assert len(arts) == len(subs) == progress.articles_done
    assert sorted(a["subtopic_id"] for a in arts) == sorted(s["id"] for s in subs)
    assert all(a["status"] == "published" and a["markdown_url"] for a in arts), [a["status"] for a in arts]
    pairs = [(r["article_id"], r["platform"]) for r in posts]
    assert len(pairs) == len(set(pairs)) == len(arts) * len(targets)
    assert all(r["status"] == "published" for r in posts), [r["status"] for r in posts]
    # ... and on the platforms' side, in the social emulator's own state
    count = await count_on_platforms(settings, targets, list(posts), len(arts))
    print(f"flaky back-fill, counted on the platforms: {count.note()}")
    assert (count.duplicates, count.missing) == (0, 0), count
    assert count.posts == {t["platform"]: len(arts) for t in targets}
    assert platform_faults_left["error_next"] == platform_faults_left["lose_response_next"] == 0
    assert images == len(arts)
    book = sheets_admin.read_sheet(p.sheet_id)
    assert [r[3] for r in book["ContentPlan"][1 : rows + 1]] == ["done"] * rows
    assert all(r[3] == "done" for r in book["Subtopics"][1:] if any(r))

    # The failures happened: every faulty service answered errors of its kind, about 30 % of calls.
    log = sheets_admin.requests(since=since)
    for service, kind in FAULTS.items():
        calls = [e for e in log if e["service"] == service]
        statuses = Counter(e["status"] for e in calls)
        failed = sum(1 for e in calls if e["fault"] == kind and e["status"] == int(kind))
        print(f"{service}: {len(calls)} calls, {failed} injected {kind}s, statuses {dict(statuses)}")
        assert failed >= 1 and statuses[200] >= 1, (service, statuses)
        if len(calls) >= 30:  # the share, where there are enough calls to judge it
            assert 0.15 <= failed / len(calls) <= 0.45, (service, failed, len(calls))
    print(f"flaky back-fill: {len(arts)} articles in {elapsed:.1f}s")
