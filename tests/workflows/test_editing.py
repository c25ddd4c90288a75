"""Acting before publishing, end to end on the session stack (real Temporal, PostgreSQL, the Sheets, LLM and
social emulators): an article awaiting approval is edited through the API, approved with a publish time,
its posts wait as scheduled, one is moved earlier and goes out while the other still waits, then that one
is moved too. What the platform received is the edited text, once per post, and never before its time;
edits after approval are refused; the article workflow's history replays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.worker import Replayer

from cluster.sheet_pipeline import HEADER, connect_targets, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.settings import Settings
from workflows.types import MODULES, Queues, article_workflow_id, run_workflow_id
from workflows.worker import ALL_WORKFLOWS, build_activities, close, running_workers

from ..gateway.conftest import client_for, sign_up
from ..gateway.test_dashboard_api import wait_for
from .conftest import api_engine, fresh_targets

pytestmark = pytest.mark.slow


async def test_an_edited_article_is_published_as_approved_at_each_posts_time(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, serve_apps: list[str]
) -> None:
    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    engine, client = await api_engine(settings, queues)
    targets = fresh_targets()
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")

    async def on_platform(platform: str) -> list[dict[str, Any]]:
        """What the platform holds for the test's account there."""
        target = next(t for t in targets if t["platform"] == platform)
        base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
            r = await http.get("/_admin/posts", params=target)
        r.raise_for_status()
        return list(r.json()["posts"])

    try:
        async with (
            client_for(create_app(engine, pool=app_pool)) as api,
            running_workers(client, acts, queues, MODULES),
        ):
            t = await sign_up(api)
            sid = f"edit-{uuid.uuid4().hex[:10]}"
            plan = {"ContentPlan": [HEADER, ["Cold brew at home", "", "en", ""]], "Subtopics": [HEADER]}
            await seed_tenant_sheet(settings, app_pool, sheets_admin, uuid.UUID(t.tenant_id), sid, plan)
            await connect_targets(settings, app_pool, uuid.UUID(t.tenant_id), targets)
            body = {
                "name": "p", "sheet_id": sid, "targets": targets, "dry_run": False, "subtopics_per_topic": 1,
                "approval_required": True,
            }  # fmt: skip
            pid = (await api.post("/v1/pipelines", headers=t.h, json=body)).json()["id"]
            run = (await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={})).json()

            async def awaiting() -> dict[str, Any] | None:
                page = await api.get("/v1/articles", headers=t.h, params={"run_id": run["id"]})
                items = page.json()["items"]
                return items[0] if items and items[0]["status"] == "awaiting_approval" else None

            aid = (await wait_for(awaiting, 600, "the article to await approval"))["id"]

            # 1. edited before approval
            title = f"Edited cold brew {uuid.uuid4().hex[:6]}"
            change = {"title": title, "summary": "Approved summary.", "body": "Steep it overnight, edited."}
            r = await api.patch(f"/v1/articles/{aid}", headers=t.h, json=change)
            assert r.status_code == 200 and r.json()["title"] == title, r.text

            # 2. approved for an hour from now: both posts wait as scheduled, nothing reaches a platform
            hour = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
            r = await api.post(
                f"/v1/articles/{aid}/approve", headers=t.h, json={"publish_at": hour.isoformat()}
            )
            assert r.status_code == 202 and r.json()["status"] == "approved", r.text

            async def posts(want: dict[str, str]) -> dict[str, dict[str, Any]] | None:
                page = await api.get("/v1/posts", headers=t.h, params={"article_id": aid})
                by = {p["platform"]: p for p in page.json()["items"]}
                return by if {k: by.get(k, {}).get("status") for k in want} == want else None

            by = await wait_for(
                lambda: posts({"x": "scheduled", "threads": "scheduled"}), 120, "scheduled posts"
            )
            assert {datetime.fromisoformat(p["not_before"]) for p in by.values()} == {hour}
            assert await on_platform("x") == [] and await on_platform("threads") == []
            # what was approved is what gets published: no more edits
            r = await api.patch(f"/v1/articles/{aid}", headers=t.h, json={"title": "too late"})
            assert r.status_code == 409, r.text
            r = await api.post(f"/v1/articles/{aid}/draft", headers=t.h, json={"writer": "gpt"})
            assert r.status_code == 409, r.text

            # 3. Threads moved to a few seconds from now: it goes out, X still waits for its hour
            soon = datetime.now(UTC) + timedelta(seconds=2)
            r = await api.patch(
                f"/v1/posts/{by['threads']['id']}", headers=t.h, json={"publish_at": soon.isoformat()}
            )
            assert r.status_code == 200 and datetime.fromisoformat(r.json()["not_before"]) == soon, r.text
            await wait_for(
                lambda: posts({"threads": "published", "x": "scheduled"}), 120, "Threads published"
            )
            assert await on_platform("x") == []

            # 4. X moved too
            x_soon = datetime.now(UTC) + timedelta(seconds=1)
            r = await api.patch(
                f"/v1/posts/{by['x']['id']}", headers=t.h, json={"publish_at": x_soon.isoformat()}
            )
            assert r.status_code == 200, r.text
            done = await wait_for(
                lambda: posts({"threads": "published", "x": "published"}), 120, "X published"
            )
            r = await api.patch(
                f"/v1/posts/{done['x']['id']}", headers=t.h, json={"publish_at": hour.isoformat()}
            )
            assert r.status_code == 409, r.text  # published: nothing to move
            await client.get_workflow_handle(run_workflow_id(run["id"])).result()
            article = (await api.get(f"/v1/articles/{aid}", headers=t.h)).json()
    finally:
        await close(acts)

    assert article["status"] == "published", article
    # what each platform received: the edited article, once, not before the time it was given
    for platform, at in (("threads", soon), ("x", x_soon)):
        [held] = await on_platform(platform)
        assert held["id"] == done[platform]["platform_post_id"]
        assert title in held["text"] and "Approved summary." in held["text"], held["text"]
        assert held["created_at"] >= at.timestamp(), (platform, held["created_at"], at)

    # determinism: the article's history (signals, timers, the patch marker) replays
    sub = article["subtopic_id"]
    history = await client.get_workflow_handle(article_workflow_id(run["id"], sub)).fetch_history()
    await Replayer(workflows=ALL_WORKFLOWS).replay_workflow(history)
