"""Writing an article again before approving it, end to end on the session stack (real Temporal,
PostgreSQL, the Sheets and LLM emulators, the Serve writers): an article awaiting approval is edited, then
regenerated through the API; it goes back to writing (the edit dropped), the agent graph runs again from
the start (a checkpointed graph run of its own), and it awaits approval again;
regenerating while it is being written is refused; approved, it finishes; the history replays."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from temporalio.worker import Replayer

from cluster.sheet_pipeline import HEADER, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import MODULES, Queues, article_workflow_id, run_workflow_id
from workflows.worker import ALL_WORKFLOWS, build_activities, close, running_workers

from ..gateway.conftest import client_for, sign_up
from ..gateway.test_dashboard_api import wait_for
from .conftest import api_engine

pytestmark = pytest.mark.slow


async def graph_threads(pool: asyncpg.Pool, tenant: str, article: str) -> list[str]:
    """The agent graph's checkpointed runs of the article (one thread per writing of it)."""
    async with tenant_tx(pool, uuid.UUID(tenant)) as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT thread_id FROM graph_checkpoints WHERE thread_id LIKE $1 ORDER BY thread_id",
            f"article-{article}%",
        )
    return [r["thread_id"] for r in rows]


async def test_an_article_is_written_again_before_approval(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, serve_apps: list[str]
) -> None:
    queues = Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")
    engine, client = await api_engine(settings, queues)
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with (
            client_for(create_app(engine, pool=app_pool)) as api,
            running_workers(client, acts, queues, MODULES),
        ):
            t = await sign_up(api)
            sid = f"regen-{uuid.uuid4().hex[:10]}"
            plan = {"ContentPlan": [HEADER, ["Pour-over basics", "", "en", ""]], "Subtopics": [HEADER]}
            await seed_tenant_sheet(settings, app_pool, sheets_admin, uuid.UUID(t.tenant_id), sid, plan)
            body = {"name": "p", "sheet_id": sid, "subtopics_per_topic": 1, "approval_required": True}
            pid = (await api.post("/v1/pipelines", headers=t.h, json=body)).json()["id"]
            run = (await api.post(f"/v1/pipelines/{pid}/runs", headers=t.h, json={})).json()

            async def article(status: str) -> dict[str, Any] | None:
                page = await api.get("/v1/articles", headers=t.h, params={"run_id": run["id"]})
                items = page.json()["items"]
                return items[0] if items and items[0]["status"] == status else None

            aid = (await wait_for(lambda: article("awaiting_approval"), 600, "awaiting approval"))["id"]
            assert await graph_threads(app_pool, t.tenant_id, aid) == [f"article-{aid}"]
            first = (await api.get(f"/v1/articles/{aid}", headers=t.h)).json()
            r = await api.patch(f"/v1/articles/{aid}", headers=t.h, json={"title": "An edit to drop"})
            assert r.status_code == 200, r.text

            r = await api.post(f"/v1/articles/{aid}/regenerate", headers=t.h)
            assert r.status_code == 202 and r.json()["status"] == "writing", r.text
            # while it is written again, no decision and no second regeneration
            r = await api.post(f"/v1/articles/{aid}/regenerate", headers=t.h)
            assert r.status_code == 409 and r.json()["code"] == "article.not_awaiting_approval", r.text
            r = await api.post(f"/v1/articles/{aid}/approve", headers=t.h, json={})
            assert r.status_code == 409, r.text

            again = await wait_for(lambda: article("awaiting_approval"), 600, "awaiting approval again")
            assert again["id"] == aid and again["title"] != "An edit to drop", again
            # the graph ran again from the start, in a thread of its own: new drafts, not the first ones
            assert await graph_threads(app_pool, t.tenant_id, aid) == [f"article-{aid}", f"article-{aid}-g1"]
            detail = (await api.get(f"/v1/articles/{aid}", headers=t.h)).json()
            assert detail["edited_at"] is None and detail["body"], detail
            assert detail["updated_at"] > first["updated_at"]

            r = await api.post(f"/v1/articles/{aid}/approve", headers=t.h, json={})
            assert r.status_code == 202, r.text
            await client.get_workflow_handle(run_workflow_id(run["id"])).result()
            final = (await api.get(f"/v1/articles/{aid}", headers=t.h)).json()
    finally:
        await close(acts)

    assert final["status"] in ("ready", "published"), final
    history = await client.get_workflow_handle(
        article_workflow_id(run["id"], final["subtopic_id"])
    ).fetch_history()
    await Replayer(workflows=ALL_WORKFLOWS).replay_workflow(history)
