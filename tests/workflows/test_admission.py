"""Run admission is one set of rules for every entry point (the API, a schedule fire, ``icop backfill``),
and articles are admitted one by one, so a back-fill stops at the plan's monthly limit."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from cluster.sheet_pipeline import HEADER, make_pipeline
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.db import tenant_tx
from icop.runs.admission import RunLimits
from icop.settings import Settings
from workflows.activities.scheduled import ScheduledRunActivities
from workflows.types import (
    MODULES,
    OpenScheduledRunInput,
    PipelineRunInput,
    Progress,
    Queues,
    run_workflow_id,
)
from workflows.worker import build_activities, close, running_workers

from ..gateway.conftest import client_for, sign_up
from .conftest import ROOT


def no_articles_left(settings: Settings, n: int = 0) -> Settings:
    return settings.model_copy(update={"plan_limits": {"starter": {"articles_per_month": n}}})


async def backfill_cli(settings: Settings, pipeline_id: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cluster.cli", "backfill", "--pipeline", pipeline_id, "--no-follow",
        "--state-dir", str(settings.state_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "300", **env}, cwd=str(ROOT),
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, " ".join(out.decode().split())  # rich wraps long lines


async def fire(settings: Settings, pool: asyncpg.Pool, tenant_id: str, pipeline_id: str) -> str:
    acts = ScheduledRunActivities(pool, RunLimits.from_settings(settings))
    inp = OpenScheduledRunInput(tenant_id, pipeline_id, f"fire-{uuid.uuid4().hex}")
    opened = await ActivityEnvironment().run(acts.open_scheduled_run, inp)
    assert opened.run_id is None
    return opened.reason


async def test_api_schedule_and_backfill_refuse_alike(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin
) -> None:
    sid = f"adm-{uuid.uuid4().hex[:10]}"
    sheets_admin.seed_sheet(sid, {"ContentPlan": [HEADER, ["Tea", "", "en", ""]], "Subtopics": [HEADER]})
    async with client_for(create_app(settings, pool=app_pool)) as api:
        t = await sign_up(api)
        r = await api.post("/v1/pipelines", headers=t.h, json={"name": "adm", "sheet_id": sid})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        run = await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={})
        assert run.status_code == 202, run.text

        # 1. the pipeline has a run in progress
        busy = await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={"kind": "backfill"})
        assert busy.status_code == 409
        reason = busy.json()["detail"]
        assert await fire(settings, app_pool, t.tenant_id, pid) == reason
        code, out = await backfill_cli(settings, pid, {})
        assert code == 1 and reason in out, out

        cancelled = await api.post(f"/v1/runs/{run.json()['id']}/cancel", headers=t.h)
        assert cancelled.status_code == 200, cancelled.text

    # 2. the plan's monthly articles are used up (the operator's ICOP_PLAN_LIMITS, read by every process)
    tight = no_articles_left(settings)
    async with client_for(create_app(tight, pool=app_pool)) as api:
        used_up = await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={"kind": "backfill"})
    assert used_up.status_code == 403
    reason = used_up.json()["detail"]
    assert "articles for this month are used up" in reason
    assert await fire(tight, app_pool, t.tenant_id, pid) == reason
    limits = json.dumps({"starter": {"articles_per_month": 0}})
    code, out = await backfill_cli(settings, pid, {"ICOP_PLAN_LIMITS": limits})
    assert code == 1 and reason in out, out

    # a fire's refusal is recorded as a skipped run; the API's and the CLI's are not recorded at all
    async with tenant_tx(app_pool, uuid.UUID(t.tenant_id)) as conn:
        runs = await conn.fetch(
            "SELECT kind, status, error FROM pipeline_runs WHERE pipeline_id = $1 ORDER BY created_at", pid
        )
    assert [(r["kind"], r["status"]) for r in runs] == [
        ("manual", "cancelled"),
        ("scheduled", "cancelled"),
        ("scheduled", "cancelled"),
    ]
    assert all(r["error"].startswith("skipped: ") for r in runs[1:])


@pytest.mark.slow
async def test_a_backfill_stops_admitting_articles_at_the_monthly_limit(
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
        subtopics=2,
        targets=[],
        settings=settings,
    )
    limit = 3
    acts = await build_activities(no_articles_left(settings, limit), MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            progress = await temporal.execute_workflow(
                "PipelineRunWorkflow",
                PipelineRunInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id), queues),
                id=run_workflow_id(str(p.run_id)),
                task_queue=queues.planning,
                result_type=Progress,
            )
    finally:
        await close(acts)
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        articles = await conn.fetchval("SELECT count(*) FROM generated_articles WHERE run_id = $1", p.run_id)
    assert progress.subtopics == 4
    assert articles == limit and progress.articles_done == limit
    assert progress.articles_failed == progress.subtopics - limit
    sub_rows = [r for r in sheets_admin.read_sheet(p.sheet_id)["Subtopics"][1:] if any(r)]
    refused = [r for r in sub_rows if r[3].startswith("error:")]
    assert len(refused) == progress.subtopics - limit
    assert all("3 articles for this month are used up" in r[3] for r in refused), refused


async def _spend(pool: asyncpg.Pool, tenant_id: uuid.UUID, images: int) -> None:
    """Usage the price table turns into money: DALL-E 3 images at $0.04 each."""
    async with tenant_tx(pool, tenant_id) as conn:
        await conn.execute(
            "INSERT INTO usage_records (tenant_id, kind, provider, model, images)"
            " VALUES ($1, 'image', 'dall-e', 'dall-e-3', $2)",
            tenant_id, images,
        )  # fmt: skip


async def test_a_spent_budget_holds_new_articles_until_it_is_raised(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    serve_apps: list[str],
) -> None:
    """A tenant with a $1.00 budget: at $0.84 it is warned (once), at $1.00 new runs are refused and the
    articles of the running back-fill wait, each saying why in its sheet row; the admin raises the budget
    through the API and every article goes on: nothing lost, nothing failed."""
    p = await make_pipeline(
        app_pool, sheets_admin, [["Cold brew at home", "", "en", ""], ["Latte art basics", "", "en", ""]],
        subtopics=1, targets=[], settings=settings,
    )  # fmt: skip
    app = create_app(settings, pool=app_pool)
    async with client_for(app) as client:
        t = await sign_up(client)
        h = {"Authorization": f"Bearer {t.access}"}
        assert (await client.get("/v1/costs/budget", headers=h)).json()["status"] == "none"
        r = await client.put("/v1/costs/budget", headers=h, json={"monthly_budget_usd": "1.00"})
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
        await _spend(app_pool, uuid.UUID(t.tenant_id), 21)  # $0.84: 84 %
        got = (await client.get("/v1/costs/budget", headers=h)).json()
        assert got["status"] == "warning" and got["share"] == pytest.approx(0.84)
        await _spend(app_pool, uuid.UUID(t.tenant_id), 4)  # $1.00: spent
        pid = (
            await client.post(
                "/v1/pipelines", headers=h, json={"name": "b", "sheet_id": f"s-{uuid.uuid4().hex}"}
            )
        ).json()["id"]
        refused = await client.post(f"/v1/pipelines/{pid}/runs", headers=h, json={"kind": "manual"})
        assert refused.status_code == 409 and "budget of $1.00 is spent" in refused.json()["detail"]
        # The back-fill's tenant (seeded directly, its run already open) spends its budget of $1.00.
        async with tenant_tx(app_pool, p.tenant_id) as conn:
            await conn.execute("UPDATE tenants SET monthly_budget_usd = 1.00 WHERE id = $1", p.tenant_id)
        await _spend(app_pool, p.tenant_id, 25)
        quick = settings.model_copy(update={"budget_recheck_s": 1})
        acts = await build_activities(quick, MODULES, pool=app_pool, models="serve")
        try:
            async with running_workers(temporal, acts, queues, MODULES):
                handle = await temporal.start_workflow(
                    "PipelineRunWorkflow",
                    PipelineRunInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id), queues),
                    id=run_workflow_id(str(p.run_id)),
                    task_queue=queues.planning,
                    result_type=Progress,
                )
                waiting: list[list[str]] = []
                for _ in range(120):  # both articles wait, their rows saying why
                    subs = sheets_admin.read_sheet(p.sheet_id)["Subtopics"][1:]
                    waiting = [r for r in subs if len(r) > 3 and str(r[3]).startswith("waiting: ")]
                    if len(waiting) == 2:
                        break
                    await asyncio.sleep(0.5)
                assert len(waiting) == 2 and "budget of $1.00 is spent" in waiting[0][3], waiting
                async with tenant_tx(app_pool, p.tenant_id) as conn:
                    assert (
                        await conn.fetchval(
                            "SELECT count(*) FROM generated_articles WHERE run_id = $1", p.run_id
                        )
                        == 0
                    )
                    # the admin raises the budget (what PUT /v1/costs/budget does for that tenant)
                    await conn.execute(
                        "UPDATE tenants SET monthly_budget_usd = 100 WHERE id = $1", p.tenant_id
                    )
                progress = await handle.result()
        finally:
            await close(acts)
    assert progress.subtopics == 2 and progress.articles_done == 2 and progress.articles_failed == 0
    sub_rows = [r for r in sheets_admin.read_sheet(p.sheet_id)["Subtopics"][1:] if any(r)]
    assert all(r[3] == "done" for r in sub_rows), sub_rows
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        notices = [r["type"] for r in await conn.fetch("SELECT type FROM outbox WHERE type LIKE 'budget.%'")]
    assert sorted(notices) == ["budget.exhausted", "budget.warning"]  # each once, however often asked
