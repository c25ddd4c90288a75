"""A pipeline run end to end on the session stack: real Temporal, PostgreSQL, the Sheets and LLM
emulators, the LangGraph article graph, images and dry-run posts; then its history replayed."""

from __future__ import annotations

import time

import asyncpg
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Replayer

from cluster.sheet_pipeline import TARGETS, make_pipeline
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import (
    MODULES,
    PipelineRunInput,
    Progress,
    Queues,
    article_workflow_id,
    run_workflow_id,
    topic_workflow_id,
)
from workflows.worker import ALL_WORKFLOWS, build_activities, close, running_workers

pytestmark = pytest.mark.slow


async def test_pipeline_run_end_to_end_then_replay(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    serve_apps: list[str],
) -> None:
    # Google access tokens live 5 s for this tenant (its run takes longer): each refreshed before it expires
    sheets_admin.google_config(5)
    p = await make_pipeline(
        app_pool,
        sheets_admin,
        [
            ["Home coffee brewing", "beginners", "en", ""],
            ['=HYPERLINK("x")', "", "en", ""],
            ["홈카페 원두 고르기", "초보자", "ko", "pending"],
            ["Old topic", "", "en", "done", "https://example.com/old"],
        ],
        settings=settings,
    )
    from deployments.ledger import served_totals

    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    before = served_totals()
    refreshes, since = sheets_admin.google_config()["refreshes"], sheets_admin.last_seq()
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
            queried = await handle.query("progress", result_type=Progress)
    finally:
        await close(acts)
        sheets_admin.google_config(3599)
    elapsed = time.monotonic() - t0
    sheet_calls = sheets_admin.requests("sheets", since=since)
    assert sheet_calls and {e["status"] for e in sheet_calls} == {200}, "no call met an expired token"
    if elapsed > 10:
        assert sheets_admin.google_config()["refreshes"] - refreshes >= 1

    assert progress == queried
    assert (progress.rows_total, progress.rows_done, progress.rows_failed, progress.rows_invalid) == (
        2,
        2,
        0,
        1,
    )
    assert progress.articles_done == progress.subtopics >= 2 and progress.articles_failed == 0

    async with tenant_tx(app_pool, p.tenant_id) as conn:
        run = await conn.fetchrow("SELECT * FROM pipeline_runs WHERE id = $1", p.run_id)
        rows = {
            r["row_number"]: r["status"]
            for r in await conn.fetch("SELECT row_number, status FROM run_rows WHERE run_id = $1", p.run_id)
        }
        arts = await conn.fetch("SELECT * FROM generated_articles WHERE run_id = $1", p.run_id)
        subs = await conn.fetch("SELECT id, row_number FROM subtopics WHERE run_id = $1", p.run_id)
        posts = await conn.fetch(
            "SELECT article_id, platform, status FROM posts WHERE tenant_id = $1", p.tenant_id
        )
        images = await conn.fetchval("SELECT count(*) FROM images WHERE tenant_id = $1", p.tenant_id)
        events = await conn.fetch(
            "SELECT type, payload FROM outbox WHERE tenant_id = $1 ORDER BY seq", p.tenant_id
        )
    assert run["status"] == "completed" and run["progress"]["articles_done"] == len(arts)
    assert run["started_at"] and run["finished_at"]
    assert rows == {2: "done", 3: "invalid", 4: "done"}
    # every sub-topic has exactly one article; every article one dry-run post per target
    assert len(arts) == len(subs) == progress.subtopics
    assert {a["subtopic_id"] for a in arts} == {s["id"] for s in subs}
    assert all(a["status"] == "ready" and a["markdown_url"] and a["title"] for a in arts)
    assert len(posts) == len(arts) * len(TARGETS)
    assert {(r["article_id"], r["platform"]) for r in posts} == {
        (a["id"], t["platform"]) for a in arts for t in TARGETS
    }
    assert all(r["status"] == "dry_run" for r in posts)
    assert images == len(arts)
    # the product path: clustering, the three writers, images and JPEGs were served by their deployments
    served = {k: v - before.get(k, 0) for k, v in served_totals().items()}
    assert served.get("topics/TopicClusterer", 0) >= 2, served
    for writer in ("writer-gpt/Writer_gpt", "writer-claude/Writer_claude", "writer-gemini/Writer_gemini"):
        assert served.get(writer) == len(arts), (writer, served)
    assert served.get("images/ImageGenerator") == images == served.get("images/JpegConverterDeployment")

    book = sheets_admin.read_sheet(p.sheet_id)
    plan = book["ContentPlan"]
    assert plan[1][3] == "done" and plan[3][3] == "done", plan
    assert (
        plan[2][3].startswith("error: row 3")
        and plan[4][3] == "done"
        and plan[4][4] == "https://example.com/old"
    )
    # each row's status note (column F, the default): what happened, with links, or what to do
    done_note, bad_note = plan[1][5], plan[2][5]
    assert "articles written" in done_note and any(a["markdown_url"] in done_note for a in arts), done_note
    assert bad_note.startswith("skipped: ") and "set the status (column D) to 'retry'" in bad_note, bad_note
    sub_rows = [r for r in book["Subtopics"][1:] if any(r)]
    assert len(sub_rows) == len(arts)
    assert all(r[3] == "done" and r[4] for r in sub_rows), sub_rows
    assert {r[0] for r in sub_rows} == {"2", "4"}
    # the outbox has each change once, written with it: started … sub-topics per row … articles … completed
    types = [e["type"] for e in events]
    assert types[0] == "run.started" and types[-1] == "run.completed" and types.count("run.completed") == 1
    ready = [e["payload"] for e in events if e["type"] == "subtopics.ready"]
    assert sorted(r["row_number"] for r in ready) == [2, 4]
    assert sorted(i for r in ready for i in r["subtopic_ids"]) == sorted(str(s["id"]) for s in subs)
    assert types.count("article.ready") == len(arts)
    print(f"pipeline run: {len(arts)} articles in {elapsed:.1f}s")

    # Determinism: the recorded histories replay against today's workflow code.
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
    replayer = Replayer(workflows=ALL_WORKFLOWS)
    await replayer.replay_workflow(await handle.fetch_history())
    sub = subs[0]
    for wid in (
        topic_workflow_id(str(p.run_id), sub["row_number"]),
        article_workflow_id(str(p.run_id), str(sub["id"])),
    ):
        await replayer.replay_workflow(await temporal.get_workflow_handle(wid).fetch_history())
