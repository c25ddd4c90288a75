"""The quota API reports the limits the publisher enforces: one function, for every platform and with a
per-account override."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.limits import PLATFORMS
from icop.social.publisher import Publisher

from .conftest import TenantHandle, remember


async def _connect(client: httpx.AsyncClient, t: TenantHandle, platform: str, account: str) -> None:
    tok = f"tok-{uuid.uuid4().hex}"
    remember(tok)
    body = {"platform": platform, "account_id": account, "account_name": "Acme", "access_token": tok}
    r = await client.post("/v1/credentials", headers=t.h, json=body)
    assert r.status_code == 201, r.text


async def test_quota_api_and_publisher_agree_per_platform_and_override(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool, settings: Settings
) -> None:
    tid = UUID(tenant.tenant_id)
    for platform in PLATFORMS[:3]:  # the starter plan allows 3 accounts: X gets its own tenant below
        await _connect(client, tenant, platform, f"{platform}-acct")
    override: dict[str, Any] = {"posts_per_window": 7, "window": 3600}
    async with tenant_tx(app_pool, tid) as conn:
        await conn.execute(
            "INSERT INTO social_account_limits (tenant_id, platform, account_id, limits) "
            "VALUES ($1, $2, $3, $4)",
            tid,
            "threads",
            "threads-acct",
            override,
        )
    publisher = Publisher(app_pool, settings, {}, tokens=None)  # type: ignore[arg-type]  # limits only
    reported = {q["platform"]: q for q in (await client.get("/v1/quotas", headers=tenant.h)).json()}
    assert set(reported) == set(PLATFORMS[:3])
    for platform in PLATFORMS[:3]:
        enforced = await publisher.limits(tid, platform, f"{platform}-acct")
        q = reported[platform]
        assert q["limit"] == enforced.posts_per_window, platform
        assert q["window_hours"] == int(enforced.window.total_seconds() // 3600), platform
    assert reported["threads"]["limit"] == 7 and reported["threads"]["window_hours"] == 1  # the override
    assert reported["instagram"]["limit"] == settings.social_instagram_posts_per_window


async def test_quota_api_reports_x_as_enforced(
    client: httpx.AsyncClient, other: TenantHandle, app_pool: asyncpg.Pool, settings: Settings
) -> None:
    await _connect(client, other, "x", "x-acct")
    publisher = Publisher(app_pool, settings, {}, tokens=None)  # type: ignore[arg-type]  # limits only
    enforced = await publisher.limits(UUID(other.tenant_id), "x", "x-acct")
    (q,) = (await client.get("/v1/quotas", headers=other.h)).json()
    assert (q["limit"], q["window_hours"]) == (
        enforced.posts_per_window,
        enforced.window.total_seconds() // 3600,
    )
    assert q["monthly_budget_usd"] == enforced.monthly_budget_usd == settings.social_x_monthly_budget_usd
    assert q["monthly_post_cap"] == enforced.monthly_post_cap
