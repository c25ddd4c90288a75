"""A failed post is not a dead end: the user retries it through the API, a PostRetryWorkflow publishes it
as the article's workflow would, and the platform holds it once (counted on the platform's side)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from cluster.sheet_pipeline import HEADER, connect_targets, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.settings import Settings
from workflows.types import MODULES, Queues, run_workflow_id
from workflows.worker import build_activities, close, running_workers

from ..gateway.conftest import client_for, sign_up
from .conftest import api_engine, fresh_targets, social_knobs

pytestmark = pytest.mark.slow


async def test_a_failed_post_is_retried_through_the_api_and_posted_once(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, serve_apps: list[str]
) -> None:
    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    engine, client = await api_engine(settings, queues)
    targets = fresh_targets()
    x = next(t for t in targets if t["platform"] == "x")
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    social_knobs(settings, error_next=1000, error_status=400, platform="x")  # X refuses every post
    try:
        async with (
            client_for(create_app(engine, pool=app_pool)) as api,
            running_workers(client, acts, queues, MODULES),
        ):
            t = await sign_up(api)
            sid = f"retry-{uuid.uuid4().hex[:10]}"
            plan = {"ContentPlan": [HEADER, ["Cold brew at home", "", "en", ""]], "Subtopics": [HEADER]}
            await seed_tenant_sheet(settings, app_pool, sheets_admin, uuid.UUID(t.tenant_id), sid, plan)
            await connect_targets(settings, app_pool, uuid.UUID(t.tenant_id), targets)
            body = {
                "name": "p",
                "sheet_id": sid,
                "targets": targets,
                "dry_run": False,
                "subtopics_per_topic": 1,
            }
            pid = (await api.post("/v1/pipelines", headers=t.h, json=body)).json()["id"]
            run = (await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={})).json()
            await client.get_workflow_handle(run_workflow_id(run["id"])).result()

            posts = (await api.get("/v1/posts", headers=t.h)).json()["items"]
            by = {p["platform"]: p for p in posts}
            assert by["threads"]["status"] == "published", posts
            failed = by["x"]
            assert failed["status"] == "failed" and failed["error"], failed
            social_knobs(settings, reset=True)  # the platform takes posts again

            # a published post cannot be retried; the failed one can, once per attempt
            assert (await api.post(f"/v1/posts/{by['threads']['id']}/retry", headers=t.h)).status_code == 409
            r = await api.post(f"/v1/posts/{failed['id']}/retry", headers=t.h)
            assert r.status_code == 202 and r.json()["status"] == "pending", r.text
            again = await api.post(f"/v1/posts/{failed['id']}/retry", headers=t.h)
            assert again.status_code == 409  # already on its way: no second send
            now: dict[str, object] = {}
            for _ in range(200):
                now = (await api.get(f"/v1/posts/{failed['id']}", headers=t.h)).json()
                if now["status"] == "published":
                    break
                await asyncio.sleep(0.2)
            assert now["status"] == "published" and now["permalink"] and now["error"] is None, now
    finally:
        social_knobs(settings, reset=True)
        await close(acts)

    base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        held = (await http.get("/_admin/posts", params=x)).json()["posts"]
    assert [p["id"] for p in held] == [now["platform_post_id"]]  # on X exactly once
