"""The analytics API over collected engagement: posts sorted and paginated with filters, one post's series,
summaries, engagement thresholds, and another tenant seeing none of it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from icop.db import tenant_tx

from .conftest import TenantHandle

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)


async def seed_collected(pool: asyncpg.Pool, tenant_id: str, specs: list[tuple[str, str, int]]) -> list[UUID]:
    """One published post per (platform, account, engagement), a day apart, each with two collections."""
    tid, ids = UUID(tenant_id), []
    async with tenant_tx(pool, tid) as conn:
        for i, (platform, account, engagement) in enumerate(specs):
            article = await conn.fetchval(
                "INSERT INTO generated_articles (tenant_id, title) VALUES ($1, $2) RETURNING id", tid, f"A{i}"
            )
            published = NOW - timedelta(days=i)
            post = await conn.fetchval(
                """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                      platform_post_id, published_at, metrics_state, metrics_collections,
                                      metrics_collected_at, impressions, engagement)
                   VALUES ($1, $2, $3, $4, 'published', $5, $6, $7, 'collecting', 2, $7, $8, $9)
                   RETURNING id""",
                tid, article, platform, account, f"t:{uuid.uuid4()}", str(i), published, engagement * 10,
                engagement,
            )  # fmt: skip
            for age, share in ((3600, 0.5), (21600, 1.0)):
                await conn.execute(
                    """INSERT INTO post_metrics (tenant_id, post_id, collected_at, age_s, impressions, likes,
                                                 engagement, raw)
                       VALUES ($1, $2, $3, $4, $5, $6, $6, ($7::text)::jsonb)""",
                    tid, post, published + timedelta(seconds=age), age, int(engagement * 10 * share),
                    int(engagement * share), json.dumps({"like_count": int(engagement * share)}),
                )  # fmt: skip
            ids.append(post)
    return ids


async def test_posts_sorted_filtered_paginated_with_their_series(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    specs = [
        ("x", "x-1", 5),
        ("x", "x-2", 50),
        ("facebook", "p-1", 20),
        ("x", "x-1", 0),
        ("threads", "t", 35),
    ]
    ids = await seed_collected(app_pool, tenant.tenant_id, specs)
    h = tenant.h

    seen: list[dict[str, Any]] = []
    url: str | None = "/v1/analytics/posts?limit=2"
    while url:
        r = await client.get(url, headers=h)
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cur = r.json()["next_cursor"]
        url = f"/v1/analytics/posts?limit=2&cursor={cur}" if cur else None
    assert [p["engagement"] for p in seen] == [50, 35, 20, 5, 0]  # best first, every post once
    top = seen[0]
    assert (
        top["impressions"] == 500 and top["engagement_rate"] == 0.1 and top["metrics_state"] == "collecting"
    )

    r = await client.get("/v1/analytics/posts", headers=h, params={"platform": "x", "account_id": "x-1"})
    assert [p["engagement"] for p in r.json()["items"]] == [5, 0]
    since = (NOW - timedelta(days=2, hours=1)).isoformat()
    r = await client.get("/v1/analytics/posts", headers=h, params={"since": since, "sort": "published_at"})
    assert [p["post_id"] for p in r.json()["items"]] == [str(i) for i in ids[:3]]  # newest first
    bad = await client.get("/v1/analytics/posts", headers=h, params={"cursor": "nonsense!"})
    assert bad.status_code == 422

    series = (await client.get(f"/v1/posts/{ids[1]}/metrics", headers=h)).json()
    assert [p["age_s"] for p in series["points"]] == [3600, 21600]
    assert [p["impressions"] for p in series["points"]] == [250, 500] and series["post"]["engagement"] == 50

    by_platform = (await client.get("/v1/analytics/summary?group_by=platform", headers=h)).json()
    assert [(i["key"], i["posts"], i["engagement"]) for i in by_platform["items"]] == [
        ("x", 3, 55), ("threads", 1, 35), ("facebook", 1, 20),
    ]  # fmt: skip
    by_day = (await client.get("/v1/analytics/summary?group_by=day", headers=h)).json()["items"]
    assert [i["key"] for i in by_day] == sorted(i["key"] for i in by_day) and len(by_day) == 5

    # Another tenant: nothing, and the post's series is not found.
    assert (await client.get("/v1/analytics/posts", headers=other.h)).json()["items"] == []
    assert (await client.get("/v1/analytics/summary", headers=other.h)).json()["items"] == []
    assert (await client.get(f"/v1/posts/{ids[1]}/metrics", headers=other.h)).status_code == 404


async def test_engagement_thresholds(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle
) -> None:
    h = tenant.h
    r = await client.post("/v1/engagement-thresholds", headers=h, json={"metric": "engagement", "value": 100})
    assert r.status_code == 201, r.text
    th = r.json()
    assert (th["metric"], th["value"], th["platform"], th["hits"]) == ("engagement", 100, None, 0)
    r = await client.post("/v1/engagement-thresholds", headers=h, json={"metric": "views", "value": 1})
    assert r.status_code == 422
    listed = (await client.get("/v1/engagement-thresholds", headers=h)).json()
    assert [t["id"] for t in listed] == [th["id"]]
    assert (await client.get("/v1/engagement-thresholds", headers=other.h)).json() == []
    assert (await client.delete(f"/v1/engagement-thresholds/{th['id']}", headers=other.h)).status_code == 404
    assert (await client.delete(f"/v1/engagement-thresholds/{th['id']}", headers=h)).status_code == 204
    assert (await client.get("/v1/engagement-thresholds", headers=h)).json() == []
