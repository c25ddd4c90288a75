"""Pipeline crons as Temporal Schedules, and runs through the gateway with ICOP_WORKFLOW_ENGINE=temporal.

Real parts only: the gateway app on the session database, the session's Temporal dev server, workers
of this test's own task queues, the Sheets and LLM emulators.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer

from cluster.ports import free_port
from cluster.sheet_pipeline import HEADER, make_pipeline, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.db import tenant_tx
from icop.runs.admission import RunLimits
from icop.settings import Settings
from workflows.schedules import SCHEDULE_PREFIX
from workflows.types import MODULES, Queues, ScheduledRunInput, run_workflow_id, schedule_id
from workflows.worker import ALL_WORKFLOWS, build_activities, close, running_workers

from ..gateway.conftest import TenantHandle, sign_up
from .conftest import run_icop

pytestmark = pytest.mark.slow


def prefix_of(queues: Queues) -> str:
    return queues.planning.removesuffix("-planning")


@pytest.fixture
async def api(settings: Settings, app_pool: asyncpg.Pool, queues: Queues) -> AsyncIterator[httpx.AsyncClient]:
    engine = settings.model_copy(
        update={
            "workflow_engine": "temporal",
            "workflow_queue_prefix": prefix_of(queues),
            "run_max_concurrent_rows": 1,
            "tenant_max_active_runs": 1,
        }
    )
    app = create_app(engine, pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


async def seed_plan(
    settings: Settings, pool: asyncpg.Pool, admin: EmulatorAdmin, t: TenantHandle, topics: list[str]
) -> str:
    """A plan sheet in the tenant's own Google account, which the tenant has connected."""
    sid = f"sched-{uuid.uuid4().hex[:10]}"
    sheets = {
        "ContentPlan": [HEADER, *[[topic, "", "en", ""] for topic in topics]],
        "Subtopics": [["row", "topic", "sub-topic", "status", "url"]],
    }
    await seed_tenant_sheet(settings, pool, admin, uuid.UUID(t.tenant_id), sid, sheets)
    return sid


async def create_pipeline(api: httpx.AsyncClient, t: TenantHandle, sid: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "sched", "sheet_id": sid, "subtopics_per_topic": 1, **fields}
    r = await api.post("/v1/pipelines", headers=t.h, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def describe(temporal: Client, pipeline_id: str) -> Any:
    return await temporal.get_schedule_handle(schedule_id(pipeline_id)).describe()


async def wait_for(check: Any, limit_s: float, what: str) -> Any:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {limit_s}s waiting for {what}")


async def test_schedule_follows_the_pipelines_api_and_a_fire_runs_the_pipeline(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    api: httpx.AsyncClient,
    serve_apps: list[str],
) -> None:
    t = await sign_up(api)
    sid = await seed_plan(settings, app_pool, sheets_admin, t, ["Cold brew at home"])
    p = await create_pipeline(api, t, sid, cron="0 9 * * 1-5", timezone="Asia/Seoul")
    pid = p["id"]

    # created: the cron in the pipeline's time zone; the action is the scheduled-run workflow
    d = await describe(temporal, pid)
    spec = d.schedule.spec
    assert spec.time_zone_name == "Asia/Seoul"
    (cal,) = spec.calendars  # the server turns the cron into a calendar
    assert [(r.start, r.end) for r in cal.hour] == [(9, 9)] and [(r.start, r.end) for r in cal.minute] == [
        (0, 0)
    ]
    assert [(r.start, r.end) for r in cal.day_of_week] == [(1, 5)]
    nxt = d.info.next_action_times
    assert nxt and all(x.astimezone(UTC).hour == 0 and x.minute == 0 for x in nxt)  # 09:00 KST = 00:00 UTC
    assert not d.schedule.state.paused
    assert d.schedule.policy.overlap.name == "SKIP"
    action = d.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "ScheduledRunWorkflow" and action.task_queue == queues.planning
    (arg,) = await temporal.data_converter.decode(action.args, [ScheduledRunInput])
    assert (arg.tenant_id, arg.pipeline_id, arg.queues) == (t.tenant_id, pid, queues)

    # updated cron and zone
    r = await api.patch(f"/v1/pipelines/{pid}", headers=t.h, json={"cron": "30 18 * * *", "timezone": "UTC"})
    assert r.status_code == 200, r.text
    spec = (await describe(temporal, pid)).schedule.spec
    (cal,) = spec.calendars
    assert spec.time_zone_name == "UTC" and [(x.start, x.end) for x in cal.hour] == [(18, 18)]
    assert [(x.start, x.end) for x in cal.minute] == [(30, 30)]

    # paused with the pipeline, and back
    await api.patch(f"/v1/pipelines/{pid}", headers=t.h, json={"status": "paused"})
    assert (await describe(temporal, pid)).schedule.state.paused
    await api.patch(f"/v1/pipelines/{pid}", headers=t.h, json={"status": "active"})
    assert not (await describe(temporal, pid)).schedule.state.paused

    # a fire (triggered now) opens a 'scheduled' run that runs the pipeline to completion
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            t_fire = time.monotonic()
            await temporal.get_schedule_handle(schedule_id(pid)).trigger()

            async def finished() -> dict[str, Any] | None:
                items = (await api.get(f"/v1/pipelines/{pid}/runs", headers=t.h)).json()["items"]
                done = [x for x in items if x["status"] in ("completed", "failed", "cancelled")]
                return done[0] if done else None

            run = await wait_for(finished, 180, "the scheduled run")
            print(f"scheduled fire -> run completed in {time.monotonic() - t_fire:.1f}s")
    finally:
        await close(acts)
    assert run["kind"] == "scheduled" and run["status"] == "completed", run
    assert run["workflow_id"] == run_workflow_id(run["id"])
    assert run["progress"]["rows_done"] == 1 and run["progress"]["articles_done"] >= 1
    assert run["row_counts"] == {"done": 1}
    runs = (await api.get(f"/v1/pipelines/{pid}/runs", headers=t.h)).json()["items"]
    assert len(runs) == 1  # one fire, one run row

    # the fire's workflow history replays against today's code
    (fire,) = (await describe(temporal, pid)).info.recent_actions
    assert isinstance(fire.action, ScheduleActionExecutionStartWorkflow)
    history = await temporal.get_workflow_handle(fire.action.workflow_id).fetch_history()
    await Replayer(workflows=ALL_WORKFLOWS).replay_workflow(history)

    # drift repair: a schedule lost behind the API's back comes back; an orphan goes
    await temporal.get_schedule_handle(schedule_id(pid)).delete()
    orphan = str(uuid.uuid4())
    await temporal.create_schedule(schedule_id(orphan), d.schedule)

    async def orphan_listed() -> bool:
        return any([s.id == schedule_id(orphan) async for s in await temporal.list_schedules()])

    await wait_for(orphan_listed, 30, "the orphan schedule in the list")
    code, out = await run_icop(
        "schedules", "sync", "--state-dir", str(settings.state_dir), "--queue-prefix", prefix_of(queues),
        limit_s=240,
    )  # fmt: skip
    assert code == 0, out
    d = await describe(temporal, pid)
    assert d.schedule.spec.time_zone_name == "UTC" and not d.schedule.state.paused
    with pytest.raises(RPCError) as e:
        await describe(temporal, orphan)
    assert e.value.status == RPCStatusCode.NOT_FOUND
    assert schedule_id(orphan).startswith(SCHEDULE_PREFIX)

    # cron cleared: no schedule; set again, then the pipeline deleted: gone
    await api.patch(f"/v1/pipelines/{pid}", headers=t.h, json={"cron": None})
    with pytest.raises(RPCError):
        await describe(temporal, pid)
    await api.patch(f"/v1/pipelines/{pid}", headers=t.h, json={"cron": "0 7 * * *"})
    assert (await describe(temporal, pid)).schedule.spec.calendars
    assert (await api.delete(f"/v1/pipelines/{pid}", headers=t.h)).status_code == 204
    with pytest.raises(RPCError) as e:
        await describe(temporal, pid)
    assert e.value.status == RPCStatusCode.NOT_FOUND


async def test_api_run_shows_progress_is_bounded_per_tenant_and_cancels_the_workflow(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    api: httpx.AsyncClient,
    serve_apps: list[str],
) -> None:
    t = await sign_up(api)
    p = await create_pipeline(
        api,
        t,
        await seed_plan(settings, app_pool, sheets_admin, t, ["Espresso basics", "Pour-over", "Moka pot"]),
    )
    other = await create_pipeline(api, t, await seed_plan(settings, app_pool, sheets_admin, t, ["Tea"]))
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            r = await api.post(f"/v1/pipelines/{p['id']}/runs", headers=t.h, json={"kind": "backfill"})
            assert r.status_code == 202, r.text
            run = r.json()
            assert run["workflow_id"] == run_workflow_id(run["id"])

            # the tenant's bound (1 active run here): a second pipeline's run is refused, with a reason
            r2 = await api.post(f"/v1/pipelines/{other['id']}/runs", headers=t.h, json={})
            assert r2.status_code == 429, r2.text
            assert r2.headers["content-type"].startswith("application/problem+json")
            assert "active runs" in r2.json()["detail"] and r2.headers.get("retry-after")

            async def one_row_done() -> dict[str, Any] | None:
                got = (await api.get(f"/v1/runs/{run['id']}", headers=t.h)).json()
                return got if got["progress"].get("rows_done", 0) >= 1 else None

            got = await wait_for(one_row_done, 180, "the first row")
            assert got["status"] == "running" and got["progress"]["rows_total"] == 3
            c = await api.post(f"/v1/runs/{run['id']}/cancel", headers=t.h)
            assert c.status_code == 200 and c.json()["status"] == "cancelled"
            handle = temporal.get_workflow_handle(run["workflow_id"])

            async def cancelled() -> bool:
                return (await handle.describe()).status == WorkflowExecutionStatus.CANCELED

            await wait_for(cancelled, 60, "the workflow to be cancelled")
            final = (await api.get(f"/v1/runs/{run['id']}", headers=t.h)).json()
            assert final["status"] == "cancelled" and final["progress"]["rows_done"] < 3
            # the bound is free again
            r3 = await api.post(f"/v1/pipelines/{other['id']}/runs", headers=t.h, json={})
            assert r3.status_code == 202, r3.text
            await api.post(f"/v1/runs/{r3.json()['id']}/cancel", headers=t.h)
    finally:
        await close(acts)


async def test_temporal_down_pipeline_writes_stand_and_runs_are_refused(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # a port nothing listens on
    app = create_app(
        settings.model_copy(update={"workflow_engine": "temporal", "temporal_address": dead}), pool=app_pool
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as api:
        t = await sign_up(api)
        t0 = time.monotonic()
        p = await create_pipeline(
            api, t, await seed_plan(settings, app_pool, sheets_admin, t, ["Tea"]), cron="0 9 * * *"
        )
        assert p["cron"] == "0 9 * * *"  # stored; the schedule is left for `icop schedules sync`
        assert "icop schedules sync" in caplog.text
        r = await api.post(f"/v1/pipelines/{p['id']}/runs", headers=t.h, json={})
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        runs = (await api.get(f"/v1/pipelines/{p['id']}/runs", headers=t.h)).json()["items"]
        assert runs == []  # the refused run was not recorded
        assert time.monotonic() - t0 < 30


async def test_a_fire_is_skipped_when_the_plans_monthly_articles_are_used_up(
    app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, settings: Settings
) -> None:
    """The API's monthly-articles rule holds for schedule fires too (recorded as a skipped run)."""
    from workflows.activities.scheduled import ScheduledRunActivities, fire_run_id
    from workflows.types import OpenScheduledRunInput

    p = await make_pipeline(app_pool, sheets_admin, [["Tea", "", "en", ""]], settings=settings)
    async with tenant_tx(app_pool, p.tenant_id) as conn:  # the fixture's run is over: no run in progress
        await conn.execute("UPDATE pipeline_runs SET status = 'completed' WHERE id = $1", p.run_id)
    outcomes, rows = [], []
    for fire, limit in (("fire-a", 0), ("fire-b", 1)):
        tight = settings.model_copy(update={"plan_limits": {"starter": {"articles_per_month": limit}}})
        acts = ScheduledRunActivities(app_pool, RunLimits.from_settings(tight))
        fire_id = f"{fire}-{p.pipeline_id}"
        inp = OpenScheduledRunInput(str(p.tenant_id), str(p.pipeline_id), fire_id)
        outcomes.append(await ActivityEnvironment().run(acts.open_scheduled_run, inp))
        async with tenant_tx(app_pool, p.tenant_id) as conn:
            rows.append(
                await conn.fetchrow(
                    "SELECT status, error FROM pipeline_runs WHERE id = $1", fire_run_id(fire_id)
                )
            )
    assert outcomes[0].run_id is None and outcomes[0].reason.startswith(
        "the starter plan's 0 articles for this month are used up"
    )
    assert rows[0]["status"] == "cancelled" and rows[0]["error"].startswith("skipped: the starter plan's")
    assert outcomes[1].run_id is not None and rows[1]["status"] == "pending"  # no article yet: 1 left
