"""Engagement pulled back from the platforms: the emulator's insights in each platform's shape, and the
collector against the real database and the emulator over HTTP (deleted posts, a permission taken back,
many accounts inside every limit, thresholds announced once)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest

from icop.db import tenant_tx
from icop.insights.cadence import next_due
from icop.insights.collector import Collected, InsightsCollector
from icop.settings import Settings
from icop.social.clients import build_clients
from icop.social.publisher import Publisher
from icop.social.repository import x_spent_since
from icop.social.tokens import VaultTokenStore

from .conftest import Emu, connect_account, make_articles
from .insights_seed import make_due, seed_published
from .test_publish import ACCOUNTS, target

COFFEE = "Cold brew at home: a slow, sweet coffee guide for warm mornings #coffee"
TEA = "Green tea basics: water temperature, steeping time and what to buy first"


async def _seed_emulator_post(emu: Emu, platform: str, account: str, text: str, age_h: float) -> str:
    r = await emu.http.post(
        "/_admin/posts",
        json={
            "platform": platform,
            "account_id": account,
            "text": text,
            "created_at": time.time() - age_h * 3_600,
        },
    )
    return str(r.json()["id"])


async def test_emulator_insights_speak_each_platform(emu: Emu) -> None:
    http = emu.http
    toks = {p: (await emu.token(p, f"{p}-1"))["token"] for p in ("facebook", "instagram", "threads", "x")}
    ids = {p: await _seed_emulator_post(emu, p, f"{p}-1", COFFEE, 3) for p in toks}

    def auth(p: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {toks[p]}"}

    fb = await http.get(
        f"/v25.0/{ids['facebook']}/insights",
        headers=auth("facebook"),
        params={"metric": "post_media_view,post_reactions_by_type_total,post_clicks"},
    )
    assert fb.status_code == 200, fb.text
    first = fb.json()["data"][0]
    assert set(first) == {"name", "period", "values", "title", "description", "id"}
    assert first["period"] == "lifetime"
    assert first["id"] == f"{ids['facebook']}/insights/post_media_view/lifetime"
    assert isinstance(fb.json()["data"][1]["values"][0]["value"], dict)  # reactions by type
    retired = await http.get(
        f"/v25.0/{ids['facebook']}/insights",
        headers=auth("facebook"),
        params={"metric": "post_clicks,post_impressions_unique"},
    )
    assert retired.status_code == 400 and retired.json()["error"]["code"] == 100  # one bad metric fails all
    ig = await http.get(
        f"/v25.0/{ids['instagram']}/insights",
        headers=auth("instagram"),
        params={"metric": "views,reach,likes,comments,shares,saved"},
    )
    th = await http.get(
        f"/v1.0/{ids['threads']}/insights",
        headers=auth("threads"),
        params={"metric": "views,likes,replies,reposts,quotes,shares"},
    )
    ig_names = [d["name"] for d in ig.json()["data"]]
    assert ig_names == ["views", "reach", "likes", "comments", "shares", "saved"]
    assert [d["name"] for d in th.json()["data"]][-1] == "shares"

    # X: up to 100 ids, a missing one in `errors`, the window told in the headers.
    x = await http.get(
        "/2/tweets", headers=auth("x"), params={"ids": f"{ids['x']},1", "tweet.fields": "public_metrics"}
    )
    assert x.status_code == 200 and x.headers["x-rate-limit-remaining"] == "4999"
    assert set(x.json()["data"][0]["public_metrics"]) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }
    assert x.json()["errors"][0]["title"] == "Not Found Error"
    assert x.json()["errors"][0]["type"].endswith("/resource-not-found")
    too_many = await http.get("/2/tweets", headers=auth("x"), params={"ids": ",".join(map(str, range(101)))})
    assert too_many.status_code == 400

    # Deleted, and a permission taken back: the platforms' own errors.
    await http.delete(f"/_admin/posts/{ids['instagram']}")
    gone = await http.get(
        f"/v25.0/{ids['instagram']}/insights", headers=auth("instagram"), params={"metric": "views"}
    )
    assert (gone.json()["error"]["code"], gone.json()["error"]["error_subcode"]) == (100, 33)
    await http.post(
        "/_admin/tokens",
        json={
            "action": "deny",
            "platform": "threads",
            "account_id": "threads-1",
            "permission": "threads_manage_insights",
        },
    )
    denied = await http.get(
        f"/v1.0/{ids['threads']}/insights", headers=auth("threads"), params={"metric": "views"}
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == 10

    # The model: deterministic, growing with age, and a topic's hidden appeal shows.
    young = await _seed_emulator_post(emu, "x", "x-1", COFFEE + " ", 1)
    old = await _seed_emulator_post(emu, "x", "x-1", COFFEE + " ", 30)
    tea = await _seed_emulator_post(emu, "x", "x-1", TEA, 30)

    async def fig(pid: str) -> dict[str, int]:
        return dict((await http.get(f"/_admin/engagement/{pid}")).json())

    assert (await fig(old)) == (await fig(old))
    assert (await fig(old))["impressions"] > (await fig(young))["impressions"] > 0
    young_now = (await fig(young))["impressions"]
    moved = await http.post(f"/_admin/posts/{young}", json={"created_at": time.time() - 30 * 3_600})
    assert moved.json()["id"] == young and (await fig(young))["impressions"] > young_now  # time passed for it
    before = (await fig(old))["impressions"]
    await http.post("/_admin/appeal", json={"keyword": "cold brew", "factor": 3.0})
    assert (await fig(old))["impressions"] > 2.5 * before
    assert (await fig(tea))["impressions"] < (await fig(old))["impressions"]


@pytest.fixture
async def collector(
    app_pool: asyncpg.Pool, social_settings: Settings, token_store: VaultTokenStore
) -> AsyncIterator[tuple[InsightsCollector, Settings]]:
    s = social_settings.model_copy(
        update={
            "insights_x_lookups_per_window": 2,
            "insights_facebook_calls_per_hour": 4,
            "insights_instagram_calls_per_hour": 4,
            "insights_threads_calls_per_hour": 4,
            "insights_meta_calls_per_post": 2,
        }
    )
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        yield InsightsCollector(app_pool, s, build_clients(s, http), token_store), s


async def _posts(pool: asyncpg.Pool, tenant: uuid.UUID) -> dict[uuid.UUID, asyncpg.Record]:
    async with tenant_tx(pool, tenant) as conn:
        rows = await conn.fetch(
            """SELECT p.*, (SELECT count(*) FROM post_metrics m WHERE m.post_id = p.id) AS series
                 FROM posts p WHERE tenant_id = $1""",
            tenant,
        )
    return {r["id"]: r for r in rows}


async def test_deleted_post_and_revoked_permission_stop_with_a_reason_while_the_rest_go_on(
    emu: Emu,
    collector: tuple[InsightsCollector, Settings],
    token_store: VaultTokenStore,
    app_pool: asyncpg.Pool,
    tenant: uuid.UUID,
) -> None:
    c, s = collector
    await connect_account(emu, token_store, tenant, "x", "x-keep")
    await connect_account(emu, token_store, tenant, "facebook", "page-lost")
    xs = await seed_published(app_pool, emu.http, tenant, "x", "x-keep", [COFFEE, TEA, "Third post"])
    fbs = await seed_published(app_pool, emu.http, tenant, "facebook", "page-lost", [COFFEE, TEA])
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO engagement_thresholds (tenant_id, metric, value) VALUES ($1, 'impressions', 1)",
            tenant,
        )
    await emu.http.delete(f"/_admin/posts/{xs[1].platform_post_id}")
    await emu.http.post(
        "/_admin/tokens",
        json={
            "action": "deny",
            "platform": "facebook",
            "account_id": "page-lost",
            "permission": "read_insights",
        },
    )

    got_x = await c.collect(tenant, "x", "x-keep")
    got_fb = await c.collect(tenant, "facebook", "page-lost")
    assert (got_x.read, got_x.stopped, got_x.requests) == (2, {"insights.post_deleted": 1}, 1)
    assert (got_fb.read, got_fb.stopped) == (0, {"insights.permission_lost": 2})

    posts = await _posts(app_pool, tenant)
    gone = posts[xs[1].post_id]
    assert (gone["metrics_state"], gone["metrics_code"]) == ("stopped", "insights.post_deleted")
    assert gone["metrics_params"]["platform"] == "x" and gone["metrics_params"]["account"] == "x-keep"
    for f in fbs:
        p = posts[f.post_id]
        assert (p["metrics_state"], p["metrics_code"]) == ("stopped", "insights.permission_lost")
        assert p["metrics_params"]["account"] == "page-lost"
    for kept in (xs[0], xs[2]):
        p = posts[kept.post_id]
        assert p["metrics_state"] == "collecting" and p["series"] == 1 and p["impressions"] > 0
        due = next_due(p["published_at"], p["metrics_collected_at"], s.insights_ages_s)
        assert p["metrics_next_at"] == due
        assert p["metrics_next_at"] - p["published_at"] == timedelta(hours=6)  # 2 h old: the 6 h age is next

    # The next age: the kept posts are read again, the stopped ones never; each threshold is announced once.
    await make_due(app_pool, tenant)
    again = await c.collect(tenant, "x", "x-keep")
    assert (again.read, again.stopped) == (2, {})
    assert (await c.collect(tenant, "facebook", "page-lost")).due == 0
    posts = await _posts(app_pool, tenant)
    assert [posts[k.post_id]["series"] for k in (xs[0], xs[2])] == [2, 2]
    async with tenant_tx(app_pool, tenant) as conn:
        events = await conn.fetch(
            "SELECT payload FROM outbox WHERE tenant_id = $1 AND type = 'post.engagement_threshold'", tenant
        )
    announced = sorted(str(e["payload"]["post_id"]) for e in events)
    assert announced == sorted(str(k.post_id) for k in (xs[0], xs[2]))
    assert events[0]["payload"]["metric"] == "impressions" and events[0]["payload"]["threshold"] == 1

    # Connected again with the permission granted: its posts are collected again.
    await emu.http.post(
        "/_admin/tokens",
        json={
            "action": "grant",
            "platform": "facebook",
            "account_id": "page-lost",
            "permission": "read_insights",
        },
    )
    await connect_account(emu, token_store, tenant, "facebook", "page-lost")
    assert (await c.collect(tenant, "facebook", "page-lost")).read == 2


async def test_many_accounts_stay_inside_every_platform_limit(
    emu: Emu,
    collector: tuple[InsightsCollector, Settings],
    token_store: VaultTokenStore,
    app_pool: asyncpg.Pool,
    tenant: uuid.UUID,
) -> None:
    """30 posts on 6 X accounts and 18 on 3 Meta accounts, the emulator enforcing the same (tight) limits the
    settings say: one collection round reads what fits, leaves the rest for the window, and not one call is
    refused for a limit."""
    c, s = collector
    await emu.knobs(x_lookup_per_15min=2, meta_calls_per_hour=4)
    accounts: list[tuple[str, str]] = [("x", f"x-{i}") for i in range(6)]
    accounts += [("facebook", "page-1"), ("instagram", "ig-1"), ("threads", "th-1")]
    for platform, acct in accounts:
        await connect_account(emu, token_store, tenant, platform, acct)
        n = 5 if platform == "x" else 6
        await seed_published(
            app_pool,
            emu.http,
            tenant,
            platform,
            acct,
            [f"{acct} post {i}" for i in range(n)],
            image=platform == "instagram",
        )
    # One post went out on the Page within the hour: its calls count against the same Meta limit.
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO platform_quota_usage (tenant_id, platform, account_id)"
            " VALUES ($1, 'facebook', 'page-1')",
            tenant,
        )

    rounds: list[dict[tuple[str, str], Collected]] = []
    for _ in range(2):
        rounds.append({a: await c.collect(tenant, *a) for a in accounts})
        await make_due(app_pool, tenant)

    first = rounds[0]
    # one batch each on X
    assert all(first[a].read == 5 and first[a].requests == 1 for a in accounts if a[0] == "x")
    assert first[("facebook", "page-1")].read == 2  # 4 calls an hour, 2 of them counted for the publish
    assert first[("instagram", "ig-1")].read == 4 and first[("threads", "th-1")].read == 4
    second = rounds[1]
    assert all(second[a].read == 5 for a in accounts if a[0] == "x")  # the second request of the window
    assert all(second[a].read == 0 and second[a].waiting == {"window": 6} for a in accounts if a[0] != "x")

    report = (await emu.http.get("/_admin/insights")).json()["accounts"]
    counted = {(a["platform"], a["account_id"]): a for a in report}
    for platform, acct in accounts:
        seen = counted[(platform, acct)]
        limit = 2 if platform == "x" else 4
        assert seen["throttled"] == 0, seen
        assert seen["peak_in_window"] <= limit, seen
    assert counted[("facebook", "page-1")]["insights_requests"] == 2
    assert sum(counted[a]["insights_requests"] for a in accounts if a[0] == "x") == 12

    posts = await _posts(app_pool, tenant)
    waiting = [p for p in posts.values() if p["platform"] != "x" and p["series"] == 0]
    assert len(waiting) == 4 + 2 + 2 and all(p["metrics_state"] == "collecting" for p in waiting)
    # X reads are paid from the tenant's X budget, with publishing: 60 owned reads at $0.001.
    async with tenant_tx(app_pool, tenant) as conn:
        spent = await x_spent_since(conn, tenant, min(p["published_at"] for p in posts.values()))
    assert float(spent) == pytest.approx(60 * s.insights_x_cost_per_post_usd)


async def test_a_published_post_is_collected_an_hour_later(
    publisher: Publisher,
    emu: Emu,
    collector: tuple[InsightsCollector, Settings],
    token_store: VaultTokenStore,
    app_pool: asyncpg.Pool,
    tenant: uuid.UUID,
) -> None:
    c, _ = collector
    await connect_account(emu, token_store, tenant, "threads", ACCOUNTS["threads"])
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, "threads"))
    assert out.status == "published"
    async with tenant_tx(app_pool, tenant) as conn:
        row = await conn.fetchrow("SELECT * FROM posts WHERE id = $1", out.post_id)
    assert row["metrics_state"] == "collecting"
    assert row["metrics_next_at"] - row["published_at"] == timedelta(hours=1)
    assert (await c.collect(tenant, "threads", ACCOUNTS["threads"])).due == 0  # not yet
    await make_due(app_pool, tenant)
    got = await c.collect(tenant, "threads", ACCOUNTS["threads"])
    assert (got.read, got.stopped) == (1, {})
