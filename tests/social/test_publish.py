"""The publisher against the social emulator over HTTP and the session's real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import httpx
import pytest

from icop.articles.repository import mark_offline_content
from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.clients import InstagramClient, PostRequest, build_clients
from icop.social.errors import ErrorKind, PlatformError
from icop.social.limits import Platform
from icop.social.publisher import OFFLINE_CONTENT, Publisher, PublishTarget
from icop.social.text import ArticleText
from icop.social.tokens import VaultTokenStore

from .conftest import Emu, connect_account, make_articles

ACCOUNTS = {"facebook": "1001", "instagram": "17841400000001", "threads": "27000001", "x": "4400001"}


def article(i: int | str = 1, url: bool = True) -> ArticleText:
    return ArticleText(
        title=f"Autumn festivals in Seoul, part {i}",
        summary="Where to go, when, and how to get there: a short guide to the season's best festivals.",
        url=f"https://example.com/articles/{i}" if url else None,
        hashtags=["Seoul", "travel"],
    )


def target(
    tenant: uuid.UUID, article_id: uuid.UUID, platform: str, media: tuple[str, ...] = (), **kw
) -> PublishTarget:
    return PublishTarget(
        tenant,
        article_id,
        cast(Platform, platform),  # the cases name platforms as plain strings
        ACCOUNTS[platform],
        article(str(article_id)[:8]),
        media_urls=media,
        **kw,
    )


async def post_row(pool: asyncpg.Pool, tenant: uuid.UUID, post_id: uuid.UUID) -> asyncpg.Record:
    async with tenant_tx(pool, tenant) as conn:
        return await conn.fetchrow("SELECT * FROM posts WHERE id = $1", post_id)


def media_for(platform: str, media_server: str) -> tuple[str, ...]:
    return (f"{media_server}/square.jpg",) if platform in ("instagram", "facebook-photo") else ()


@pytest.mark.parametrize("case", ["facebook", "facebook-photo", "instagram", "threads", "x"])
async def test_happy_path(
    case: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    platform = case.split("-")[0]
    await connect_account(emu, token_store, tenant, platform, ACCOUNTS[platform])
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, platform, media_for(case, media_server)))
    assert out.status == "published", out.reason
    posts = await emu.posts(platform, ACCOUNTS[platform])
    assert [p["id"] for p in posts] == [out.platform_post_id]
    assert posts[0]["media_urls"] == list(media_for(case, media_server))
    if platform == "facebook" and not posts[0]["media_urls"]:
        assert posts[0]["link"].startswith("https://example.com/articles/")
    row = await post_row(app_pool, tenant, out.post_id)
    assert row["text"] == posts[0]["text"] and row["platform_post_id"] == out.platform_post_id
    assert row["published_at"] is not None
    # Publishing again is a no-op: exactly one post per article x platform x account.
    again = await publisher.publish(target(tenant, aid, platform, media_for(case, media_server)))
    assert again.status == "published" and again.platform_post_id == out.platform_post_id
    assert len(await emu.posts(platform, ACCOUNTS[platform])) == 1


async def test_instagram_carousel_and_threads_image(
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    for p in ("instagram", "threads"):
        await connect_account(emu, token_store, tenant, p, ACCOUNTS[p])
    a1, a2 = await make_articles(app_pool, tenant, 2)
    imgs = (f"{media_server}/square.jpg", f"{media_server}/portrait.jpg")
    out = await publisher.publish(target(tenant, a1, "instagram", imgs))
    assert out.status == "published", out.reason
    [post] = await emu.posts("instagram")
    assert post["media_urls"] == list(imgs)
    out = await publisher.publish(target(tenant, a2, "threads", (f"{media_server}/square.png",)))
    assert out.status == "published", out.reason  # Threads takes PNG too
    [a3] = await make_articles(app_pool, tenant, 1, title="carousel")
    many = tuple(f"{media_server}/{n}" for n in ("square.jpg", "square.png", "portrait.jpg"))
    out = await publisher.publish(target(tenant, a3, "threads", many))
    assert out.status == "published", out.reason
    threads = {p["id"]: p for p in await emu.posts("threads")}
    assert threads[out.platform_post_id]["media_urls"] == list(many)


async def test_instagram_rejects_non_jpeg_and_the_client_never_sends_one(
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    tok = await connect_account(emu, token_store, tenant, "instagram", ACCOUNTS["instagram"])
    # The emulator, like Instagram, refuses a PNG with the Graph API error shape.
    r = await emu.http.post(
        f"/v21.0/{ACCOUNTS['instagram']}/media",
        data={"image_url": f"{media_server}/square.png", "access_token": tok["token"]},
    )
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == 9004 and err["error_subcode"] == 2207052
    assert set(err) >= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    await emu.http.post("/_admin/reset")
    tok = await connect_account(emu, token_store, tenant, "instagram", ACCOUNTS["instagram"])
    # Our code checks the bytes first and never hands a non-JPEG to the platform.
    for i, name in enumerate(("square.png", "square.webp")):
        [aid] = await make_articles(app_pool, tenant, title=f"nonjpeg{i}")
        out = await publisher.publish(target(tenant, aid, "instagram", (f"{media_server}/{name}",)))
        assert out.status == "failed" and "JPEG" in (out.reason or "")
    log = await emu.requests()
    assert not [r for r in log["requests"] if r["method"] == "POST"]
    assert log["fetches"] == []  # the platform never even fetched them
    async with tenant_tx(app_pool, tenant) as conn:  # quota released
        assert await conn.fetchval("SELECT count(*) FROM platform_quota_usage WHERE released_at IS NULL") == 0


@pytest.mark.slow
async def test_burst_of_150_instagram_posts_publishes_exactly_100_in_the_window(
    app_pool: asyncpg.Pool,
    social_settings: Settings,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    media_server: str,
) -> None:
    acct = ACCOUNTS["instagram"]
    await connect_account(emu, token_store, tenant, "instagram", acct)
    await emu.knobs(container_in_progress_polls=0)
    ids = await make_articles(app_pool, tenant, 150)
    # Three workers, each with its own HTTP client and publisher, sharing only the database.
    https = [httpx.AsyncClient(timeout=10, trust_env=False) for _ in range(3)]
    workers = [
        Publisher(app_pool, social_settings, build_clients(social_settings, h), token_store) for h in https
    ]
    started = datetime.now(UTC)
    try:
        outs = await asyncio.gather(
            *[
                workers[i % 3].publish(target(tenant, aid, "instagram", (f"{media_server}/square.jpg",)))
                for i, aid in enumerate(ids)
            ]
        )
        await _check_burst(outs, ids, started, workers[0], emu, app_pool, tenant, acct, media_server)
    finally:
        for h in https:
            await h.aclose()


async def _check_burst(outs, ids, started, worker, emu, app_pool, tenant, acct, media_server) -> None:
    statuses = [o.status for o in outs]
    assert statuses.count("published") == 100, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count("waiting_quota") == 50
    waiting = [o for o in outs if o.status == "waiting_quota"]
    row = await post_row(app_pool, tenant, waiting[0].post_id)
    assert row["error_code"] == "quota.window" and row["error_params"]["cap"] > 0, dict(row)
    for o in waiting:  # scheduled for when the rolling window reopens, not failed
        assert o.not_before is not None
        assert (
            started + timedelta(hours=23, minutes=59)
            < o.not_before
            < datetime.now(UTC) + timedelta(hours=24, seconds=5)
        )
    assert len(await emu.posts("instagram", acct)) == 100
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT count(*) FROM posts WHERE status = 'failed'") == 0
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM platform_quota_usage WHERE account_id = $1 AND released_at IS NULL",
                acct,
            )
            == 100
        )
    # A waiting post does not hammer the platform when retried early.
    before = len((await emu.requests())["requests"])
    again = await worker.publish(
        target(tenant, ids[statuses.index("waiting_quota")], "instagram", (f"{media_server}/square.jpg",))
    )
    assert again.status == "waiting_quota"
    assert len((await emu.requests())["requests"]) == before


@pytest.mark.parametrize("platform", ["facebook", "instagram", "threads", "x"])
async def test_lost_response_is_reconciled_without_a_duplicate(
    platform: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    await connect_account(emu, token_store, tenant, platform, ACCOUNTS[platform])
    [aid] = await make_articles(app_pool, tenant)
    await emu.knobs(lose_response_next=1, platform=platform)  # the post is made, the answer is lost
    out = await publisher.publish(target(tenant, aid, platform, media_for(platform, media_server)))
    assert out.status == "published", out.reason
    posts = await emu.posts(platform, ACCOUNTS[platform])
    assert len(posts) == 1 and posts[0]["id"] == out.platform_post_id
    assert (await post_row(app_pool, tenant, out.post_id))["platform_post_id"] == posts[0]["id"]
    assert (await emu.knobs())["lose_response_next"] == 0  # the fault really fired


async def test_timeout_after_send_is_reconciled(
    social_settings: Settings,
    app_pool: asyncpg.Pool,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
) -> None:
    s = social_settings.model_copy(update={"social_http_timeout_s": 1.0})
    async with httpx.AsyncClient(timeout=1.0, trust_env=False) as http:
        pub = Publisher(app_pool, s, build_clients(s, http), token_store)
        await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
        [aid] = await make_articles(app_pool, tenant)
        await emu.knobs(lose_response_next=1, lose_mode="hang", hang_s=3.0, platform="x")
        out = await pub.publish(target(tenant, aid, "x"))
    assert out.status == "published", out.reason
    assert [p["id"] for p in await emu.posts("x")] == [out.platform_post_id]


async def test_unknown_post_is_reconciled_before_any_resend(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    """A worker crashed after sending: the next attempt finds the post instead of posting again."""
    await connect_account(emu, token_store, tenant, "threads", ACCOUNTS["threads"])
    [aid] = await make_articles(app_pool, tenant)
    # First attempt: lose the answer and make reconciliation fail too (platform errors on the look-up).
    await emu.knobs(lose_response_next=1, platform="threads")
    t = target(tenant, aid, "threads")

    real_reconcile = publisher.clients["threads"].reconcile

    async def broken(*a, **k):
        raise PlatformError("threads", ErrorKind.RETRYABLE, "look-up failed")

    publisher.clients["threads"].reconcile = broken  # type: ignore[method-assign]  # the test swaps the look-up
    out = await publisher.publish(t)
    assert out.status == "unknown" and out.not_before is not None
    publisher.clients["threads"].reconcile = real_reconcile  # type: ignore[method-assign]  # and puts it back
    out = await publisher.publish(t)
    assert out.status == "published"
    assert len(await emu.posts("threads")) == 1


async def test_expired_x_token_is_refreshed_with_rotation_and_the_post_goes_out(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    acct = ACCOUNTS["x"]
    old = await connect_account(emu, token_store, tenant, "x", acct, expires_in=-60)  # expired a minute ago
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, "x"))
    assert out.status == "published", out.reason
    cred = await token_store.get(tenant, "x", acct)
    assert (
        cred is not None and cred.access_token != old["token"] and cred.refresh_token != old["refresh_token"]
    )
    assert cred.expires_at is not None and cred.expires_at > datetime.now(UTC)
    # Rotation: the old refresh token is spent.
    r = await emu.http.post(
        "/2/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # The stored values are ciphertext, not the tokens.
    async with tenant_tx(app_pool, tenant) as conn:
        enc = await conn.fetchval("SELECT access_token_enc FROM api_credentials WHERE account_id = $1", acct)
    assert cred.access_token.encode() not in bytes(enc)


async def test_x_401_mid_flight_triggers_one_refresh(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    acct = ACCOUNTS["x"]
    tok = await connect_account(emu, token_store, tenant, "x", acct, expires_in=3600)  # we think it is valid
    await emu.token_action("expire", tok["token"])  # the platform disagrees
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, "x"))
    assert out.status == "published", out.reason
    assert len(await emu.posts("x")) == 1


@pytest.mark.parametrize("platform", ["x", "facebook"])
async def test_revoked_token_needs_reauth_and_stops_only_that_target(
    platform: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
) -> None:
    other = "threads"
    tok = await connect_account(
        emu, token_store, tenant, platform, ACCOUNTS[platform], expires_in=-60 if platform == "x" else None
    )
    await connect_account(emu, token_store, tenant, other, ACCOUNTS[other])
    await emu.token_action("revoke", tok["token"])
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, platform))
    assert out.status == "needs_reauth" and "sign in again" in (out.reason or "")
    cred = await token_store.get(tenant, platform, ACCOUNTS[platform])
    assert cred is not None and cred.status == "needs_reauth" and cred.status_reason
    assert await emu.posts(platform) == []
    row = await post_row(app_pool, tenant, out.post_id)
    assert row["error_code"] == "post.reauth" and row["error_params"]["platform"] == platform, dict(row)
    ok = await publisher.publish(target(tenant, aid, other))
    assert ok.status == "published"
    # Retrying the stopped target does not call the platform again until someone signs in.
    before = len((await emu.requests())["requests"])
    assert (await publisher.publish(target(tenant, aid, platform))).status == "needs_reauth"
    assert len((await emu.requests())["requests"]) == before
    async with tenant_tx(app_pool, tenant) as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM platform_quota_usage WHERE released_at IS NULL AND platform = $1",
                platform,
            )
            == 0
        )


async def test_dry_run_stores_the_text_and_sends_nothing(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
    [aid] = await make_articles(app_pool, tenant)
    t = target(tenant, aid, "x", dry_run=True)
    out = await publisher.publish(t)
    assert out.status == "dry_run"
    preview = await publisher.preview(t)
    row = await post_row(app_pool, tenant, out.post_id)
    assert row["text"] == preview.text and row["cost_usd"] == preview.cost_usd
    assert (await emu.requests())["requests"] == []


async def test_offline_content_is_refused_with_its_reason_and_only_dry_runs(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    """An article holding an offline provider's text or images (development without keys) never goes out:
    the post fails with a reason that says what to do, nothing reaches the platform, no quota is held.
    A dry run still shows the post; an article without offline content goes out."""
    await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
    offline, written = await make_articles(app_pool, tenant, 2)
    async with tenant_tx(app_pool, tenant) as conn:
        await mark_offline_content(conn, tenant, offline)
    assert (await publisher.publish(target(tenant, offline, "x", dry_run=True))).status == "dry_run"
    out = await publisher.publish(target(tenant, offline, "x"))
    assert out.status == "failed" and out.reason == OFFLINE_CONTENT
    assert "offline provider" in OFFLINE_CONTENT and "providers' keys" in OFFLINE_CONTENT
    row = await post_row(app_pool, tenant, out.post_id)
    assert row["error"] == OFFLINE_CONTENT and row["platform_post_id"] is None and row["published_at"] is None
    assert row["error_code"] == "post.offline_content" and row["error_params"]["platform"] == "x"
    assert (await emu.requests())["requests"] == [] and await emu.posts("x", ACCOUNTS["x"]) == []
    async with tenant_tx(app_pool, tenant) as conn:
        held = await conn.fetchval(
            "SELECT count(*) FROM platform_quota_usage WHERE post_id = $1 AND released_at IS NULL",
            out.post_id,
        )
    assert held == 0
    again = await publisher.publish(target(tenant, offline, "x"))  # a retry changes nothing
    assert again.status == "failed" and again.reason == OFFLINE_CONTENT
    assert (await publisher.publish(target(tenant, written, "x"))).status == "published"


async def test_x_monthly_budget_and_cap_make_posts_wait_for_next_month(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    acct = ACCOUNTS["x"]
    await connect_account(emu, token_store, tenant, "x", acct)
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO social_account_limits (tenant_id, platform, account_id, limits) "
            "VALUES ($1, 'x', $2, $3)",
            tenant,
            acct,
            {"monthly_budget_usd": 0.25},
        )
    a1, a2, a3 = await make_articles(app_pool, tenant, 3)
    first = await publisher.publish(target(tenant, a1, "x"))  # with URL: $0.20
    assert first.status == "published"
    second = await publisher.publish(target(tenant, a2, "x"))  # another $0.20 would exceed $0.25
    assert second.status == "waiting_quota" and "budget" in (second.reason or "")
    assert second.not_before is not None and second.not_before.day == 1
    third = await publisher.publish(target(tenant, a3, "x", link_in_text=False))  # $0.015 still fits
    assert third.status == "published"
    async with tenant_tx(app_pool, tenant) as conn:
        spent = await conn.fetchval(
            "SELECT sum(cost_usd) FROM platform_quota_usage WHERE released_at IS NULL"
        )
    assert float(spent) == pytest.approx(0.215)
    # the first post crossed 80 % of the budget: announced once, in the reservation's transaction
    [event] = await quota_events(app_pool, tenant)
    assert (event["platform"], event["window"], event["limit"]) == ("x", "USD per month", 0.25)
    assert event["used"] == pytest.approx(0.2)


async def quota_events(pool: asyncpg.Pool, tenant: uuid.UUID) -> list[dict[str, object]]:
    async with tenant_tx(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox WHERE type = 'quota.nearly_exhausted' ORDER BY seq"
        )
    return [dict(r["payload"]) for r in rows]


async def test_concurrent_workers_on_the_same_target_post_once(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    await connect_account(emu, token_store, tenant, "facebook", ACCOUNTS["facebook"])
    await emu.knobs(latency_ms=50)
    [aid] = await make_articles(app_pool, tenant)
    outs = await asyncio.gather(*[publisher.publish(target(tenant, aid, "facebook")) for _ in range(5)])
    assert sum(o.status == "published" for o in outs) >= 1
    assert {o.status for o in outs} <= {"published", "publishing"}
    assert len(await emu.posts("facebook")) == 1


async def test_rate_limit_and_server_errors_release_quota_and_schedule_a_retry(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
    a1, a2 = await make_articles(app_pool, tenant, 2)
    await emu.knobs(error_next=1, error_status=429, retry_after_s=120, platform="x")
    out = await publisher.publish(target(tenant, a1, "x"))
    assert out.status == "waiting_quota" and out.not_before is not None
    assert timedelta(seconds=100) < out.not_before - datetime.now(UTC) < timedelta(seconds=125)
    await emu.knobs(error_next=1, error_status=503, retry_after_s=5, platform="x")
    out2 = await publisher.publish(target(tenant, a2, "x"))
    assert out2.status == "pending" and out2.not_before is not None
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT count(*) FROM platform_quota_usage WHERE released_at IS NULL") == 0
    assert await emu.posts("x") == []


async def test_x_text_too_long_is_refused_by_the_emulator(emu: Emu) -> None:
    tok = await emu.token("x", "1")
    r = await emu.http.post(
        "/2/tweets", json={"text": "한" * 141}, headers={"Authorization": f"Bearer {tok['token']}"}
    )
    assert r.status_code == 400
    r = await emu.http.post(
        "/2/tweets", json={"text": "한" * 140}, headers={"Authorization": f"Bearer {tok['token']}"}
    )
    assert r.status_code == 201


async def test_graph_expired_token_error_shape(
    emu: Emu, social_settings: Settings, media_server: str
) -> None:
    tok = await emu.token("instagram", "55", expires_in=-1)
    ig = InstagramClient(social_settings.social_graph_base_url)
    try:
        with pytest.raises(PlatformError) as e:
            await ig.publish("55", tok["token"], PostRequest("hi", (f"{media_server}/square.jpg",)))
    finally:
        await ig.aclose()
    assert e.value.kind is ErrorKind.AUTH_EXPIRED and e.value.code == 190 and e.value.subcode == 463


async def test_instagram_live_publishing_limit_wins_over_the_setting(
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    await connect_account(emu, token_store, tenant, "instagram", ACCOUNTS["instagram"])
    await emu.knobs(ig_quota_total=3, ig_quota_duration_s=3600, container_in_progress_polls=0)
    ids = await make_articles(app_pool, tenant, 5)
    outs = [
        await publisher.publish(target(tenant, a, "instagram", (f"{media_server}/square.jpg",))) for a in ids
    ]
    assert [o.status for o in outs] == ["published"] * 3 + ["waiting_quota"] * 2
    nb = outs[-1].not_before
    assert nb is not None and timedelta(minutes=59) < nb - datetime.now(UTC) <= timedelta(hours=1)
    assert len(await emu.posts("instagram")) == 3
    [event] = await quota_events(app_pool, tenant)  # the third post crossed 80 % of 3
    assert (event["platform"], event["used"], event["limit"]) == ("instagram", 3, 3)


async def test_x_monthly_post_cap(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    acct = ACCOUNTS["x"]
    await connect_account(emu, token_store, tenant, "x", acct)
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO social_account_limits (tenant_id, platform, account_id, limits) "
            "VALUES ($1, 'x', $2, $3)",
            tenant,
            acct,
            {"monthly_post_cap": 2},
        )
    ids = await make_articles(app_pool, tenant, 3)
    outs = [await publisher.publish(target(tenant, a, "x")) for a in ids]
    assert [o.status for o in outs] == ["published", "published", "waiting_quota"]
    assert "monthly cap" in (outs[-1].reason or "")


async def test_maybe_sent_post_is_reconciled_even_after_a_reauth(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    """Answer lost, then the token is revoked before anyone could look: after the account is connected
    again, the post is found on the platform instead of being sent a second time."""
    acct = ACCOUNTS["facebook"]
    tok = await connect_account(emu, token_store, tenant, "facebook", acct)
    [aid] = await make_articles(app_pool, tenant)
    t = target(tenant, aid, "facebook")
    client = publisher.clients["facebook"]
    real_reconcile = client.reconcile

    async def revoke_then_reconcile(*a, **k):
        await emu.token_action("revoke", tok["token"])  # revoked between the send and the look-up
        return await real_reconcile(*a, **k)

    await emu.knobs(lose_response_next=1, platform="facebook")
    client.reconcile = revoke_then_reconcile  # type: ignore[method-assign]  # the test swaps the look-up
    try:
        out = await publisher.publish(t)
    finally:
        client.reconcile = real_reconcile  # type: ignore[method-assign]  # and puts it back
    assert out.status == "needs_reauth"
    row = await post_row(app_pool, tenant, out.post_id)
    assert row["reconcile_required"] is True
    await connect_account(emu, token_store, tenant, "facebook", acct)  # the owner signs in again
    out = await publisher.publish(t)
    assert out.status == "published"
    posts = await emu.posts("facebook")
    assert len(posts) == 1 and posts[0]["id"] == out.platform_post_id


@pytest.mark.parametrize("platform", ["instagram", "threads"])
async def test_meta_long_lived_token_is_extended_before_it_expires(
    platform: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    acct = ACCOUNTS[platform]
    old = await connect_account(emu, token_store, tenant, platform, acct, expires_in=2 * 86_400)
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, platform, media_for(platform, media_server)))
    assert out.status == "published", out.reason
    cred = await token_store.get(tenant, platform, acct)
    assert cred is not None and cred.access_token != old["token"]
    assert cred.expires_at is not None and cred.expires_at > datetime.now(UTC) + timedelta(days=59)


async def test_x_post_with_images_attached(
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
    [aid] = await make_articles(app_pool, tenant)
    imgs = (f"{media_server}/square.jpg", f"{media_server}/square.png")
    await emu.knobs(lose_response_next=1, platform="x")  # the post is made, its answer lost
    out = await publisher.publish(target(tenant, aid, "x", imgs))
    assert out.status == "published", out.reason
    [post] = await emu.posts("x")
    assert len(post["media_urls"]) == 2 and all(u.startswith("x-media:") for u in post["media_urls"])


@pytest.mark.parametrize("platform", ["facebook", "instagram", "threads", "x"])
async def test_two_articles_with_the_same_text_are_reconciled_by_their_own_reference(
    platform: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    media_server: str,
) -> None:
    """Two articles whose posts read the same on one account: the second one's answer is lost, and the
    publisher finds *its* post by the reference the text ends with, not the first one by its text (X
    would also refuse the second as duplicate content without it)."""
    await connect_account(emu, token_store, tenant, platform, ACCOUNTS[platform])
    a1, a2 = await make_articles(app_pool, tenant, 2)
    same = article("twin", url=False)
    media = media_for(platform, media_server)

    def twin(aid: uuid.UUID) -> PublishTarget:
        return PublishTarget(
            tenant, aid, cast(Platform, platform), ACCOUNTS[platform], same, media_urls=media
        )

    first = await publisher.publish(twin(a1))
    assert first.status == "published", first.reason
    await emu.knobs(lose_response_next=1, platform=platform)  # the second is made, its answer lost
    second = await publisher.publish(twin(a2))
    assert second.status == "published", second.reason
    assert (await emu.knobs())["lose_response_next"] == 0  # the fault really fired
    posts = {p["id"]: p for p in await emu.posts(platform, ACCOUNTS[platform])}
    assert set(posts) == {first.platform_post_id, second.platform_post_id} and len(posts) == 2
    texts = [posts[str(o.platform_post_id)]["text"].splitlines() for o in (first, second)]
    assert texts[0][:-1] == texts[1][:-1]  # the same post, but for its reference ...
    refs = [t[-1] for t in texts]
    assert all(r.startswith("ref:") for r in refs) and refs[0] != refs[1]  # ... which tells them apart
    for o in (first, second):
        row = await post_row(app_pool, tenant, o.post_id)
        assert (
            row["platform_post_id"] == o.platform_post_id
            and row["text"] == posts[row["platform_post_id"]]["text"]
        )
