"""The endpoints the dashboard needs: article detail (drafts, editor, Markdown, images), post previews,
approval (signalling the real ArticleWorkflow on the session's Temporal server), run rows and retry
(a real run restricted to the failed rows), usage and the cron preview (checked against Temporal's own
schedule computation). Real PostgreSQL, the real gateway app, real Temporal; nothing faked."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from PIL import Image
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec

from cluster.sheet_pipeline import HEADER, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.text import x_weighted_length
from icop.storage import make_store, put_article_markdown, put_image
from workflows.types import MODULES, Queues
from workflows.worker import build_activities, close, running_workers

from .conftest import TenantHandle, remember, sheet, sign_up
from .seed import seed_article, seed_run_rows

# ---- helpers -----------------------------------------------------------------------------------------


async def connect(client: httpx.AsyncClient, t: TenantHandle, platform: str, account: str) -> None:
    tok = f"tok-{uuid.uuid4().hex}"
    remember(tok)
    r = await client.post(
        "/v1/credentials",
        headers=t.h,
        json={"platform": platform, "account_id": account, "access_token": tok},
    )
    assert r.status_code in (200, 201), r.text


async def pipeline(client: httpx.AsyncClient, t: TenantHandle, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/pipelines", headers=t.h, json={"name": "p", "sheet_id": sheet(), **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def role_headers(client: httpx.AsyncClient, t: TenantHandle, role: str) -> dict[str, str]:
    email, pw = f"{role}-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    r = await client.post("/v1/users", headers=t.h, json={"email": email, "password": pw, "role": role})
    assert r.status_code == 201, r.text
    login = (await client.post("/v1/auth/login", json={"email": email, "password": pw})).json()
    remember(pw, login["access_token"], login["refresh_token"])
    return {"Authorization": f"Bearer {login['access_token']}"}


async def seed_run(pool: asyncpg.Pool, tenant_id: str, pipeline_id: str, status: str = "completed") -> UUID:
    async with tenant_tx(pool, UUID(tenant_id)) as conn:
        return await conn.fetchval(
            "INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind, status) VALUES ($1, $2, 'manual', $3) "
            "RETURNING id",
            UUID(tenant_id),
            UUID(pipeline_id),
            status,
        )


async def seed_generated(
    pool: asyncpg.Pool,
    tenant_id: str,
    pipeline_id: str | None,
    *,
    status: str = "ready",
    run: bool = True,
    mode: str = "compare",
    title: str = "Title",
    language: str = "en",
    seo: dict[str, Any] | None = None,
    graph_state: dict[str, Any] | None = None,
    markdown_url: str | None = "https://cdn.example.test/a.md",
) -> dict[str, UUID | None]:
    """An article as the workflow leaves it: with its run and sub-topic (the workflow id comes from them)."""
    tid = UUID(tenant_id)
    run_id = await seed_run(pool, tenant_id, pipeline_id, "running") if run and pipeline_id else None
    unit = np.zeros(384, dtype=np.float32)
    unit[0] = 1.0
    async with tenant_tx(pool, tid) as conn:
        sub = None
        if run_id is not None:
            sub = await conn.fetchval(
                "INSERT INTO subtopics (tenant_id, pipeline_id, run_id, row_number, main_topic, label, "
                "embedding) VALUES ($1, $2, $3, 2, 'main', $4, $5) RETURNING id",
                tid,
                UUID(pipeline_id) if pipeline_id else None,
                run_id,
                title,
                unit,
            )
        article = await conn.fetchval(
            """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, subtopic_id, language, title,
                 status, mode, markdown_url, seo, graph_state)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
            tid,
            UUID(pipeline_id) if pipeline_id else None,
            run_id,
            sub,
            language,
            title,
            status,
            mode,
            markdown_url,
            seo or {},
            graph_state or {},
        )
    return {"article": article, "run": run_id, "subtopic": sub}


def jpeg(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


async def wait_for(check: Callable[[], Awaitable[Any]], limit_s: float, what: str) -> Any:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {limit_s}s waiting for {what}")


GRAPH_STATE = {
    "topic": "Cold brew",
    "drafts": [
        {"writer": "gemini", "model": "gemini-2.5-flash", "text": "# Gemini's take\n\nBody G."},
        {"writer": "gpt", "model": "gpt-4o", "text": "# GPT on cold brew\n\nBody A."},
        {"writer": "claude", "model": "claude-sonnet-4-5", "text": "## Claude's cold brew\n\nBody C."},
    ],
    "scores": {
        "gpt": {"relevance": 7.0, "readability": 6.0, "total": 6.5},
        "claude": {"relevance": 9.0, "readability": 8.6, "total": 8.8},
        "gemini": {"relevance": 6.0, "readability": 7.0, "total": 6.5},
    },
    "score_source": "editor",
    "score_reasons": {"claude": "Clear steps, every claim sourced.", "mistral": "not a writer of ours"},
    "chosen_writer": "claude",
    "article": "# Claude's cold brew\n\nEdited.",
    "merge_plan": {
        "title": "Cold brew",
        "sections": [{"heading": "Steeping", "covers": "Time and grind.", "takes_from": ["gpt", "claude"]}],
    },
    "structured": [
        {"node": "editor", "schema": "EditorScores", "attempts": 1, "outcome": "valid", "problems": []},
        {
            "node": "seo",
            "schema": "SeoFields",
            "attempts": 3,
            "outcome": "fallback",
            "reason": "invalid_answer",
            "problems": [
                "- the answer: Invalid JSON",
                "- title: Field required",
                "- the answer: Invalid JSON",
            ],
        },
    ],
}


# ---- article detail, images, tenancy -------------------------------------------------------------------


async def test_article_detail_drafts_editor_markdown_and_images(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other: TenantHandle,
    app_pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    p = await pipeline(client, tenant)
    ids = await seed_generated(app_pool, tenant.tenant_id, p["id"], graph_state=GRAPH_STATE)
    aid = ids["article"]
    store = make_store(settings)  # the gateway's store (the stack's object store)
    md = "---\ntitle: Claude's cold brew\n---\n\n# Claude's cold brew\n\n![x](https://cdn/x.jpg)\n\nEdited.\n"
    key = put_article_markdown(store, tenant.tenant_id, aid, md).key
    img = jpeg((200, 10, 10))
    stored = put_image(store, tenant.tenant_id, img)
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        await conn.execute("UPDATE generated_articles SET markdown_key = $2 WHERE id = $1", aid, key)
        await conn.execute(
            """INSERT INTO images (tenant_id, article_id, position, sha256, storage_key, url, width,
                 height, size_bytes, provider) VALUES ($1, $2, 0, 'x', $3, $4, 64, 48, $5, 'offline')""",
            UUID(tenant.tenant_id),
            aid,
            stored.key,
            stored.url,
            len(img),
        )

    r = await client.get(f"/v1/articles/{aid}", headers=tenant.h)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["markdown"] == md
    assert [(d["writer"], d["model"], d["title"]) for d in a["drafts"]] == [
        ("gpt", "gpt-4o", "GPT on cold brew"),
        ("claude", "claude-sonnet-4-5", "Claude's cold brew"),
        ("gemini", "gemini-2.5-flash", "Gemini's take"),
    ]
    assert a["drafts"][0]["markdown"] == "# GPT on cold brew\n\nBody A."
    ed = a["editor"]
    assert ed["mode"] == "compare" and ed["winner"] == "claude" and ed["score_source"] == "editor"
    assert ed["scores"] == {"gpt": 6.5, "claude": 8.8, "gemini": 6.5}
    assert ed["criteria"]["claude"]["relevance"] == 9.0
    assert "claude" in ed["rationale"] and "8.8" in ed["rationale"]
    assert ed["reasons"] == {"claude": "Clear steps, every claim sourced."} and ed["plan"] == []
    # a structured answer that stayed broken after its repairs is shown with what stood in for it
    [fallback] = a["fallbacks"]
    assert (fallback["node"], fallback["reason"], fallback["attempts"]) == ("seo", "invalid_answer", 3)
    assert "derived from the article" in fallback["message"] and "3 answers" in fallback["message"]
    assert fallback["problem"] == "- the answer: Invalid JSON"

    im = await client.get(f"/v1/articles/{aid}/images/0", headers=tenant.h)
    assert im.status_code == 200 and im.headers["content-type"] == "image/jpeg" and im.content == img
    assert (await client.get(f"/v1/articles/{aid}/images/1", headers=tenant.h)).status_code == 404
    assert (await client.get(f"/v1/articles/{aid}/images/0")).status_code == 401

    # Merge mode: no winner; an article the graph has not filled yet: no drafts, no editor, no Markdown.
    merged = await seed_generated(app_pool, tenant.tenant_id, p["id"], mode="merge", graph_state=GRAPH_STATE)
    m = (await client.get(f"/v1/articles/{merged['article']}", headers=tenant.h)).json()
    assert (
        m["editor"]["mode"] == "merge"
        and m["editor"]["winner"] is None
        and "Merger" in m["editor"]["rationale"]
        and "following a plan of 1 section." in m["editor"]["rationale"]
    )
    assert m["editor"]["plan"] == [
        {"heading": "Steeping", "covers": "Time and grind.", "takes_from": ["gpt", "claude"]}
    ]
    bare = await seed_article(app_pool, tenant.tenant_id, p["id"], None)
    b = (await client.get(f"/v1/articles/{bare['article']}", headers=tenant.h)).json()
    assert b["drafts"] == [] and b["editor"] is None and b["markdown"] is None and b["fallbacks"] == []
    # An image row whose key lies outside the tenant's own prefix is never read from the store.
    assert (await client.get(f"/v1/articles/{bare['article']}/images/0", headers=tenant.h)).status_code == 404

    # Tenant B sees none of A's article ids.
    for path in (f"/v1/articles/{aid}", f"/v1/articles/{aid}/images/0", f"/v1/articles/{aid}/previews"):
        r = await client.get(path, headers=other.h)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), path
    assert (await client.post(f"/v1/articles/{aid}/approve", headers=other.h, json={})).status_code == 404
    assert (
        await client.post(f"/v1/articles/{aid}/reject", headers=other.h, json={"reason": "no"})
    ).status_code == 404


# ---- previews ------------------------------------------------------------------------------------------


async def test_previews_count_as_each_platform_counts(
    client: httpx.AsyncClient, app_pool: asyncpg.Pool
) -> None:
    tenant = await sign_up(
        client, plan="growth", pool=app_pool
    )  # four connected accounts: more than starter allows
    accounts = {"x": "x-1", "threads": "th-1", "instagram": "ig-1", "facebook": "fb-1"}
    for platform, account in accounts.items():
        await connect(client, tenant, platform, account)
    targets = [{"platform": k, "account_id": v} for k, v in accounts.items()]
    p = await pipeline(client, tenant, targets=targets)
    seo = {
        "meta_description": "집에서 콜드브루를 맛있게 만드는 방법과 원두 고르는 요령을 정리했습니다. " * 3,
        "hashtags": ["콜드브루", "홈카페", "coffee"],
    }
    url = "https://cdn.example.com/tenants/a/articles/cold-brew.md"  # a TLD twitter-text knows
    ids = await seed_generated(
        app_pool, tenant.tenant_id, p["id"], title="홈카페 콜드브루 완벽 가이드", language="ko", seo=seo,
        markdown_url=url,
    )  # fmt: skip
    r = await client.get(f"/v1/articles/{ids['article']}/previews", headers=tenant.h)
    assert r.status_code == 200, r.text
    got = {x["platform"]: x for x in r.json()}
    assert set(got) == set(accounts) and all(x["source"] == "composed" for x in got.values())
    x = got["x"]
    assert x["counted_as"] == "weighted" and x["limit"] == 280 and x["within_limit"]
    assert x["length"] == x_weighted_length(x["text"]) > len(x["text"])  # Hangul weighs 2, the URL 23
    assert url in x["text"] and float(x["cost_usd"]) == 0.20  # a post with a URL costs more on X
    th = got["threads"]
    assert th["counted_as"] == "characters" and th["length"] == len(th["text"]) and th["limit"] == 500
    assert got["instagram"]["limit"] == 2200 and url not in got["instagram"]["text"]
    assert got["facebook"]["link"] == url and float(got["facebook"]["cost_usd"]) == 0
    # each ends with the reference its post will carry (its own, per platform and account)
    refs = {x["text"].splitlines()[-1] for x in got.values()}
    assert len(refs) == len(got) and all(r.startswith("ref:") for r in refs)

    # Once a post exists, its stored text is what the preview shows.
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        await conn.execute(
            """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                 text, cost_usd) VALUES ($1, $2, 'x', 'x-1', 'dry_run', $3, '커피 ☕ 한 잔', 0.015)""",
            UUID(tenant.tenant_id),
            ids["article"],
            f"idem-{uuid.uuid4()}",
        )
    again = {
        x["platform"]: x
        for x in (await client.get(f"/v1/articles/{ids['article']}/previews", headers=tenant.h)).json()
    }
    assert again["x"]["source"] == "post" and again["x"]["post_status"] == "dry_run"
    assert (
        again["x"]["text"] == "커피 ☕ 한 잔"
        and again["x"]["length"] == x_weighted_length("커피 ☕ 한 잔") == 13
    )
    assert again["threads"]["source"] == "composed"


# ---- approval ------------------------------------------------------------------------------------------


async def test_approval_rules_without_a_workflow_engine(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    p = await pipeline(client, tenant, approval_required=True)
    waiting = await seed_generated(app_pool, tenant.tenant_id, p["id"], status="awaiting_approval")
    aid = waiting["article"]
    viewer = await role_headers(client, tenant, "viewer")
    assert (await client.post(f"/v1/articles/{aid}/approve", headers=viewer, json={})).status_code == 403
    assert (
        await client.post(f"/v1/articles/{aid}/reject", headers=viewer, json={"reason": "no"})
    ).status_code == 403
    # The session's gateway runs with ICOP_WORKFLOW_ENGINE=none: nothing can reach the workflow.
    r = await client.post(f"/v1/articles/{aid}/approve", headers=tenant.h, json={})
    assert r.status_code == 503 and "ICOP_WORKFLOW_ENGINE=none" in r.json()["detail"]
    assert (await client.get(f"/v1/articles/{aid}", headers=tenant.h)).json()["status"] == "awaiting_approval"
    assert (await client.post(f"/v1/articles/{aid}/reject", headers=tenant.h, json={})).status_code == 422
    ready = await seed_generated(app_pool, tenant.tenant_id, p["id"], status="ready")
    r = await client.post(f"/v1/articles/{ready['article']}/approve", headers=tenant.h)
    assert r.status_code == 409 and "ready" in r.json()["detail"]
    orphan = await seed_generated(app_pool, tenant.tenant_id, None, status="awaiting_approval")
    r = await client.post(f"/v1/articles/{orphan['article']}/approve", headers=tenant.h, json={})
    assert r.status_code == 409


@pytest.fixture(scope="module")
async def temporal(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace)


@pytest.fixture
def queues() -> Queues:
    return Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def engine_api(
    settings: Settings, app_pool: asyncpg.Pool, queues: Queues
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with ICOP_WORKFLOW_ENGINE=temporal on this test's task queues."""
    engine = settings.model_copy(
        update={
            "workflow_engine": "temporal",
            "workflow_queue_prefix": queues.planning.removesuffix("-planning"),
            "run_max_concurrent_rows": 2,
        }
    )
    app: FastAPI = create_app(engine, pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


@pytest.fixture
def sheets_admin(settings: Settings) -> Iterator[EmulatorAdmin]:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    yield admin
    admin.close()


@pytest.mark.slow
async def test_approve_and_reject_signal_the_waiting_article_workflows(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    engine_api: httpx.AsyncClient,
    serve_apps: list[str],
) -> None:
    t = await sign_up(engine_api)
    sid = f"appr-{uuid.uuid4().hex[:10]}"
    await seed_tenant_sheet(
        settings,
        app_pool,
        sheets_admin,
        uuid.UUID(t.tenant_id),
        sid,
        {
            "ContentPlan": [HEADER, ["Cold brew at home", "", "en", ""], ["Pour-over basics", "", "en", ""]],
            "Subtopics": [["row", "topic", "sub-topic", "status", "url"]],
        },
    )
    p = await pipeline(engine_api, t, sheet_id=sid, subtopics_per_topic=1, approval_required=True)
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            r = await engine_api.post(f"/v1/pipelines/{p['id']}/runs", headers=t.h, json={})
            assert r.status_code == 202 and r.json()["workflow_id"], r.text
            run_id = r.json()["id"]

            async def waiting() -> list[dict[str, Any]] | None:
                page = await engine_api.get(
                    f"/v1/articles?run_id={run_id}&status=awaiting_approval", headers=t.h
                )
                items = page.json()["items"]
                return items if len(items) == 2 else None

            first, second = await wait_for(waiting, 600, "two articles awaiting approval")
            ok = await engine_api.post(f"/v1/articles/{first['id']}/approve", headers=t.h, json={})
            assert ok.status_code == 202 and ok.json()["status"] == "approved", ok.text
            twice = await engine_api.post(f"/v1/articles/{first['id']}/approve", headers=t.h, json={})
            assert twice.status_code == 409
            no = await engine_api.post(
                f"/v1/articles/{second['id']}/reject", headers=t.h, json={"reason": "off-brand tone"}
            )
            assert no.status_code == 202 and no.json()["status"] == "rejected", no.text

            async def finished() -> dict[str, Any] | None:
                run = (await engine_api.get(f"/v1/runs/{run_id}", headers=t.h)).json()
                return run if run["status"] in ("completed", "failed") else None

            run = await wait_for(finished, 600, "the run to finish")
    finally:
        await close(acts)
    assert run["status"] == "completed", run
    a1 = (await engine_api.get(f"/v1/articles/{first['id']}", headers=t.h)).json()
    a2 = (await engine_api.get(f"/v1/articles/{second['id']}", headers=t.h)).json()
    assert a1["status"] == "ready"  # the workflow went on after the signal (no targets: ready)
    assert a2["status"] == "rejected" and a2["error"] == "off-brand tone"
    # The workflows themselves recorded the decisions they were sent.
    for art, approved in ((first, True), (second, False)):
        wid = f"pipeline-run-{run_id}-article-{art['subtopic_id']}"
        history = await temporal.get_workflow_handle(wid).fetch_history()
        signals = [
            e.workflow_execution_signaled_event_attributes
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert [s.signal_name for s in signals] == ["approve"]
        payload = json.loads(signals[0].input.payloads[0].data)
        assert payload["approved"] is approved
    async with tenant_tx(app_pool, UUID(t.tenant_id)) as conn:
        actions = [
            r["action"]
            for r in await conn.fetch("SELECT action FROM audit_log WHERE target_type = 'article'")
        ]
    assert sorted(actions) == ["article.approved", "article.rejected"]
    # A decision for an article whose workflow is gone: the real signal path answers NOT_FOUND → 409.
    gone = await seed_generated(app_pool, t.tenant_id, p["id"], status="awaiting_approval")
    r = await engine_api.post(f"/v1/articles/{gone['article']}/approve", headers=t.h, json={})
    assert r.status_code == 409 and "no longer running" in r.json()["detail"]
    got = (await engine_api.get(f"/v1/articles/{gone['article']}", headers=t.h)).json()
    assert got["status"] == "awaiting_approval"  # nothing recorded


# ---- run rows and retry --------------------------------------------------------------------------------


async def seed_row_article(
    pool: asyncpg.Pool, tenant_id: str, pipeline_id: str, run_id: str, row: int, articles: list[str | None]
) -> None:
    """Sub-topics of one plan row in a run, each with an article in the given status (None: none)."""
    tid, unit = UUID(tenant_id), np.zeros(384, dtype=np.float32)
    unit[0] = 1.0
    async with tenant_tx(pool, tid) as conn:
        for status in articles:
            sub = await conn.fetchval(
                """INSERT INTO subtopics (tenant_id, pipeline_id, run_id, row_number, main_topic, label,
                                          embedding) VALUES ($1, $2, $3, $4, 't', 'l', $5) RETURNING id""",
                tid, UUID(pipeline_id), UUID(run_id), row, unit,
            )  # fmt: skip
            if status is not None:
                await conn.execute(
                    """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, subtopic_id, status)
                       VALUES ($1, $2, $3, $4, $5)""",
                    tid, UUID(pipeline_id), UUID(run_id), sub, status,
                )  # fmt: skip


async def test_run_rows_and_retry_rules(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    p = await pipeline(client, tenant)
    run = (await client.post(f"/v1/pipelines/{p['id']}/runs", headers=tenant.h, json={})).json()
    await seed_run_rows(
        app_pool, tenant.tenant_id, run["id"], ["done", "failed", "invalid", "done", "failed"]
    )
    rows = (await client.get(f"/v1/runs/{run['id']}/rows", headers=tenant.h)).json()
    assert [(r["row_number"], r["status"]) for r in rows["items"]] == [
        (2, "done"), (3, "failed"), (4, "invalid"), (5, "done"), (6, "failed")
    ]  # fmt: skip
    assert set(rows["items"][0]) == {
        "row_number",
        "topic",
        "language",
        "status",
        "reason",
        "reason_code",
        "reason_params",
        "kept_cells",
        "subtopics",
        "planned",
        "article_counts",
        "updated_at",
    }
    assert all(r["subtopics"] == 0 and r["article_counts"] == {} for r in rows["items"])
    # row 2 planned two sub-topics, one written and awaiting approval; row 5 none (a done row with nothing)
    await seed_row_article(app_pool, tenant.tenant_id, p["id"], run["id"], 2, ["awaiting_approval", None])
    rows = (await client.get(f"/v1/runs/{run['id']}/rows", headers=tenant.h)).json()
    by = {r["row_number"]: r for r in rows["items"]}
    assert (by[2]["subtopics"], by[2]["article_counts"]) == (2, {"awaiting_approval": 1})
    assert (by[5]["subtopics"], by[5]["article_counts"]) == (0, {})
    failed = (await client.get(f"/v1/runs/{run['id']}/rows?status=failed", headers=tenant.h)).json()
    assert [r["row_number"] for r in failed["items"]] == [3, 6]
    page1 = (await client.get(f"/v1/runs/{run['id']}/rows?limit=2", headers=tenant.h)).json()
    page2 = (
        await client.get(f"/v1/runs/{run['id']}/rows?limit=2&cursor={page1['next_cursor']}", headers=tenant.h)
    ).json()
    assert [r["row_number"] for r in page1["items"] + page2["items"]] == [2, 3, 4, 5]
    assert (await client.get(f"/v1/runs/{run['id']}/rows?cursor=zzz", headers=tenant.h)).status_code == 422
    assert (await client.get(f"/v1/runs/{run['id']}/rows", headers=other.h)).status_code == 404
    assert (await client.post(f"/v1/runs/{run['id']}/retry", headers=other.h)).status_code == 404
    viewer = await role_headers(client, tenant, "viewer")
    assert (await client.post(f"/v1/runs/{run['id']}/retry", headers=viewer)).status_code == 403

    busy = await client.post(f"/v1/runs/{run['id']}/retry", headers=tenant.h)
    assert busy.status_code == 409 and "in progress" in busy.json()["detail"]  # the run itself is active
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        await conn.execute("UPDATE pipeline_runs SET status = 'completed' WHERE id = $1", UUID(run["id"]))
    r = await client.post(f"/v1/runs/{run['id']}/retry", headers=tenant.h)
    assert r.status_code == 202, r.text
    new = r.json()
    assert new["id"] != run["id"] and new["kind"] == "manual" and new["status"] == "pending"
    assert new["progress"]["requested"] == {"kind": "manual", "retry_of": run["id"], "rows": [3, 4, 6]}

    clean = await seed_run(app_pool, tenant.tenant_id, p["id"])
    await seed_run_rows(app_pool, tenant.tenant_id, str(clean), ["done"])
    r = await client.post(f"/v1/runs/{clean}/retry", headers=tenant.h)
    assert r.status_code == 409 and "no row failed" in r.json()["detail"]


@pytest.mark.slow
async def test_retry_runs_only_the_failed_rows_through_the_workflow(
    settings: Settings,
    app_pool: asyncpg.Pool,
    temporal: Client,
    queues: Queues,
    sheets_admin: EmulatorAdmin,
    engine_api: httpx.AsyncClient,
    serve_apps: list[str],
) -> None:
    t = await sign_up(engine_api)
    sid = f"retry-{uuid.uuid4().hex[:10]}"
    await seed_tenant_sheet(
        settings,
        app_pool,
        sheets_admin,
        uuid.UUID(t.tenant_id),
        sid,
        {
            "ContentPlan": [
                HEADER,
                ["Left alone: still pending", "", "en", ""],
                ["Home espresso dialing in", "", "en", "error: the LLM timed out"],
                ["Already done", "", "en", "done", "https://example.test/done"],
            ],
            "Subtopics": [["row", "topic", "sub-topic", "status", "url"]],
        },
    )
    p = await pipeline(engine_api, t, sheet_id=sid, subtopics_per_topic=1)
    old = await seed_run(app_pool, t.tenant_id, p["id"], "completed")
    await seed_run_rows(app_pool, t.tenant_id, str(old), ["done", "failed", "done"])  # rows 2, 3, 4
    acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
    try:
        async with running_workers(temporal, acts, queues, MODULES):
            r = await engine_api.post(f"/v1/runs/{old}/retry", headers=t.h)
            assert r.status_code == 202 and r.json()["workflow_id"], r.text
            new_id = r.json()["id"]

            async def finished() -> dict[str, Any] | None:
                run = (await engine_api.get(f"/v1/runs/{new_id}", headers=t.h)).json()
                return run if run["status"] in ("completed", "failed") else None

            run = await wait_for(finished, 600, "the retry run to finish")
    finally:
        await close(acts)
    assert run["status"] == "completed" and run["progress"]["rows_total"] == 1, run
    rows = (await engine_api.get(f"/v1/runs/{new_id}/rows", headers=t.h)).json()["items"]
    assert [(r["row_number"], r["status"]) for r in rows] == [(3, "done")]
    plan = sheets_admin.read_sheet(sid)["ContentPlan"]
    assert plan[1][3:4] in ([], [""]), plan  # row 2 was pending and not part of the retry: untouched
    assert plan[2][3] == "done" and plan[3][3] == "done"


# ---- usage ---------------------------------------------------------------------------------------------


async def test_usage_reports_the_plan_and_this_months_figures(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool, settings: Settings
) -> None:
    u = (await client.get("/v1/usage", headers=tenant.h)).json()
    now = datetime.now(UTC)
    assert u["plan"] == "starter" and u["articles_limit"] == 200 and u["articles_used"] == 0
    assert u["active_runs"] == 0 and u["active_runs_limit"] == settings.tenant_max_active_runs
    assert datetime.fromisoformat(u["period_start"]) == now.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    assert datetime.fromisoformat(u["period_start"]) < now < datetime.fromisoformat(u["period_end"])
    assert (
        float(u["x_cost_usd_month"]) == 0
        and float(u["x_budget_usd_month"]) == settings.social_x_monthly_budget_usd
    )
    p = await pipeline(client, tenant)
    await client.post(f"/v1/pipelines/{p['id']}/runs", headers=tenant.h, json={})
    await seed_article(app_pool, tenant.tenant_id, p["id"], None)  # with one X post reserved at $0.015
    u = (await client.get("/v1/usage", headers=tenant.h)).json()
    assert u["articles_used"] == 1 and u["active_runs"] == 1 and u["pipelines"] == 1
    assert float(u["x_cost_usd_month"]) == 0.015
    assert (await client.get("/v1/usage")).status_code == 401


# ---- cron preview --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "zone"),
    [
        ("0 9 * * 1-5", "Asia/Seoul"),
        ("*/20 8-10 * * *", "UTC"),
        ("0 12 1 * 0", "Europe/Berlin"),  # a 1st that is a Sunday: Temporal wants both, not either
        ("30 2 * * *", "America/New_York"),  # a zone with daylight saving time
    ],
)
async def test_cron_preview_matches_temporals_schedule(
    client: httpx.AsyncClient, tenant: TenantHandle, temporal: Client, cron: str, zone: str
) -> None:
    r = await client.get(
        "/v1/pipelines/cron-preview", headers=tenant.h, params={"cron": cron, "timezone": zone}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    runs = [datetime.fromisoformat(x) for x in body["next_runs"]]
    assert body["cron"] == cron and body["timezone"] == zone and len(runs) == 5
    assert runs == sorted(runs) and runs[0] > datetime.now(UTC)
    # What Temporal (which runs the pipelines' schedules) computes for the same cron and zone.
    sid = f"cron-preview-{uuid.uuid4().hex[:10]}"
    handle = await temporal.create_schedule(
        sid,
        Schedule(
            action=ScheduleActionStartWorkflow(
                "NoSuchWorkflow", id=f"wf-{sid}", task_queue=f"tq-{uuid.uuid4().hex[:8]}"
            ),
            spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=zone),
        ),
    )
    try:
        theirs = (await handle.describe()).info.next_action_times
    finally:
        await handle.delete()
    n = min(len(theirs), 5)
    assert n >= 3 and [x.astimezone(UTC) for x in runs[:n]] == [x.astimezone(UTC) for x in theirs[:n]]


async def test_cron_preview_refuses_what_pipeline_create_refuses(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    for cron, zone, why in [
        ("61 * * * *", "UTC", "outside 0-59"),
        ("0 9 * *", "UTC", "five fields"),
        ("0 0 31 2 *", "UTC", "never fires"),
        ("5-1 * * * *", "UTC", "backwards"),
        ("0 9 * * *", "Mars/Base", "unknown time zone"),
    ]:
        r = await client.get(
            "/v1/pipelines/cron-preview", headers=tenant.h, params={"cron": cron, "timezone": zone}
        )
        assert r.status_code == 400 and why in r.json()["detail"], (cron, zone, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        made = await client.post(
            "/v1/pipelines",
            headers=tenant.h,
            json={"name": "c", "sheet_id": sheet(), "cron": cron, "timezone": zone},
        )
        assert made.status_code == 422, (cron, zone)  # the same rule refuses it at create
    assert (await client.get("/v1/pipelines/cron-preview", headers=tenant.h)).status_code == 422
    r = await client.get(
        "/v1/pipelines/cron-preview", headers=tenant.h, params={"cron": "0  9 * * *", "count": 2}
    )
    assert r.status_code == 200 and r.json()["cron"] == "0 9 * * *" and len(r.json()["next_runs"]) == 2
