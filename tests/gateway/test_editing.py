"""Acting before publishing, through the API on the real database and object store: an article that awaits
approval is edited (title, summary, text) or given another writer's draft, its stored Markdown and its post
previews follow at once; edits, publish times and reschedules are refused with a reason when they cannot
apply. (The workflow's side, with real Temporal and the social emulator: tests/workflows/test_editing.py.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from icop.db import tenant_tx

from .conftest import TenantHandle
from .test_dashboard_api import connect, pipeline, role_headers, seed_generated

SEO: dict[str, Any] = {
    "title": "Cold brew at home",
    "meta_description": "How to steep it overnight.",
    "slug": "cold-brew-at-home",
    "keywords": ["cold brew"],
    "hashtags": ["#coldbrew"],
}
STATE: dict[str, Any] = {
    "article": "# Cold brew at home\n\nSteep coarse coffee for 12 hours [1].\n\nStrain it twice.",
    "seo": SEO,
    "language": "en",
    "mode": "compare",
    "drafts": [
        {"writer": "gpt", "model": "gpt-x", "text": "# Cold brew at home\n\nSteep it [1]."},
        {
            "writer": "claude",
            "model": "claude-x",
            "text": "# Claude's cold brew\n\nClaude's way [1].\n\nEnjoy.",
        },
    ],
    "chosen_writer": "gpt",
    "scores": {"gpt": {"total": 8.0}, "claude": {"total": 7.0}},
    "sources": [{"n": 1, "url": "https://example.test/steep", "title": "Steeping", "site": "example.test"}],
}


async def _awaiting(client: httpx.AsyncClient, app_pool: asyncpg.Pool, t: TenantHandle) -> str:
    await connect(client, t, "threads", "th-edit")
    p = await pipeline(
        client, t, approval_required=True, targets=[{"platform": "threads", "account_id": "th-edit"}]
    )
    ids = await seed_generated(
        app_pool, t.tenant_id, p["id"], status="awaiting_approval", title=SEO["title"], seo=SEO,
        graph_state=STATE,
    )  # fmt: skip
    return str(ids["article"])


async def test_an_article_awaiting_approval_is_edited_and_its_markdown_and_posts_follow(
    client: httpx.AsyncClient, app_pool: asyncpg.Pool, tenant: TenantHandle
) -> None:
    aid = await _awaiting(client, app_pool, tenant)
    a = (await client.get(f"/v1/articles/{aid}", headers=tenant.h)).json()
    assert a["body"] == "Steep coarse coffee for 12 hours [1].\n\nStrain it twice."
    assert a["draft_writer"] is None and a["edited_at"] is None

    change = {"title": "Cold brew, edited", "summary": "Edited summary.", "body": "Edited text [1].\n\nMore."}
    r = await client.patch(f"/v1/articles/{aid}", headers=tenant.h, json=change)
    assert r.status_code == 200, r.text
    a = r.json()
    assert (a["title"], a["body"], a["seo"]["meta_description"]) == (
        "Cold brew, edited", "Edited text [1].\n\nMore.", "Edited summary.",
    )  # fmt: skip
    assert a["status"] == "awaiting_approval" and a["edited_at"] and a["draft_writer"] is None
    md = a["markdown"]  # the stored object, rendered again with the graph's layout
    assert 'title: "Cold brew, edited"' in md and 'description: "Edited summary."' in md
    assert "# Cold brew, edited\n\nEdited text[^1].\n\nMore." in md and "[^1]: [Steeping]" in md
    assert "Strain it twice" not in md
    [preview] = (await client.get(f"/v1/articles/{aid}/previews", headers=tenant.h)).json()
    assert preview["source"] == "composed"
    assert "Cold brew, edited" in preview["text"] and "Edited summary." in preview["text"]

    # one field at a time: the rest stays as edited
    r = await client.patch(f"/v1/articles/{aid}", headers=tenant.h, json={"title": "Title only"})
    assert r.status_code == 200 and r.json()["body"] == "Edited text [1].\n\nMore.", r.text

    # another writer's draft: its heading becomes the title, its text the article's; the summary stays
    r = await client.post(f"/v1/articles/{aid}/draft", headers=tenant.h, json={"writer": "claude"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert (a["title"], a["body"], a["draft_writer"]) == (
        "Claude's cold brew",
        "Claude's way [1].\n\nEnjoy.",
        "claude",
    )
    assert a["seo"]["meta_description"] == "Edited summary." and "# Claude's cold brew" in a["markdown"]
    assert a["editor"]["winner"] == "gpt"  # the Editor's own decision stays on record

    bad = await client.post(f"/v1/articles/{aid}/draft", headers=tenant.h, json={"writer": "gemini"})
    assert bad.status_code == 422 and "no draft by gemini" in bad.json()["detail"]
    assert (await client.patch(f"/v1/articles/{aid}", headers=tenant.h, json={})).status_code == 422
    viewer = await role_headers(client, tenant, "viewer")
    assert (await client.patch(f"/v1/articles/{aid}", headers=viewer, json={"title": "x"})).status_code == 403
    assert (
        await client.post(f"/v1/articles/{aid}/draft", headers=viewer, json={"writer": "gpt"})
    ).status_code == 403
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        audit = await conn.fetch(
            "SELECT action, detail FROM audit_log WHERE target_id = $1 ORDER BY created_at", aid
        )
    assert [r["action"] for r in audit] == ["article.edited"] * 3
    assert audit[-1]["detail"] == {"draft": "claude"}


async def test_edits_publish_times_and_reschedules_are_refused_when_they_cannot_apply(
    client: httpx.AsyncClient, app_pool: asyncpg.Pool, tenant: TenantHandle
) -> None:
    aid = await _awaiting(client, app_pool, tenant)
    p = (await client.get(f"/v1/articles/{aid}", headers=tenant.h)).json()["pipeline_id"]
    ready = str(
        (await seed_generated(app_pool, tenant.tenant_id, p, status="ready", graph_state=STATE))["article"]
    )
    r = await client.patch(f"/v1/articles/{ready}", headers=tenant.h, json={"title": "late"})
    assert r.status_code == 409 and "only while it awaits approval" in r.json()["detail"], r.text
    r = await client.post(f"/v1/articles/{ready}/draft", headers=tenant.h, json={"writer": "claude"})
    assert r.status_code == 409

    now = datetime.now(UTC)
    for when, says in (
        ((now - timedelta(minutes=1)).isoformat(), "not in the future"),
        ((now + timedelta(days=400)).isoformat(), "at most 366 days"),
        ("2030-01-01T09:00:00", "timezone"),  # no offset: which 9 o'clock?
    ):
        r = await client.post(f"/v1/articles/{aid}/approve", headers=tenant.h, json={"publish_at": when})
        assert r.status_code == 422 and says in r.text, (when, r.text)
    # a usable time passes the checks and then needs the workflow engine (none in this session)
    later = (now + timedelta(hours=1)).isoformat()
    r = await client.post(f"/v1/articles/{aid}/approve", headers=tenant.h, json={"publish_at": later})
    assert r.status_code == 503, r.text
    assert (await client.get(f"/v1/articles/{aid}", headers=tenant.h)).json()["status"] == "awaiting_approval"

    posts = {s: await _post(app_pool, tenant, aid, s) for s in ("published", "scheduled")}
    r = await client.patch(f"/v1/posts/{posts['published']}", headers=tenant.h, json={"publish_at": later})
    assert r.status_code == 409 and "only a scheduled post" in r.json()["detail"], r.text
    past = (now - timedelta(seconds=5)).isoformat()
    r = await client.patch(f"/v1/posts/{posts['scheduled']}", headers=tenant.h, json={"publish_at": past})
    assert r.status_code == 422, r.text
    r = await client.patch(f"/v1/posts/{posts['scheduled']}", headers=tenant.h, json={"publish_at": later})
    assert r.status_code == 503, r.text  # nothing changed: the workflow could not be told
    got: dict[str, Any] = (await client.get(f"/v1/posts/{posts['scheduled']}", headers=tenant.h)).json()
    assert got["status"] == "scheduled" and got["not_before"].startswith("2031-"), got


async def _post(pool: asyncpg.Pool, t: TenantHandle, article_id: str, status: str) -> str:
    async with tenant_tx(pool, UUID(t.tenant_id)) as conn:
        return str(
            await conn.fetchval(
                """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                      not_before)
                   VALUES ($1, $2, 'threads', $3, $4, $5, '2031-01-01T00:00:00Z') RETURNING id""",
                UUID(t.tenant_id),
                UUID(article_id),
                f"th-{status}",
                status,
                f"k-{uuid.uuid4().hex}",
            )  # fmt: skip
        )
