"""Per-tenant request rate limits shared through PostgreSQL, and plan volume limits."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from icop.db import create_pool, tenant_tx
from icop.errors import RateLimited
from icop.settings import Settings

from .conftest import TenantHandle, client_for, remember, sheet, sign_up


def _tight(settings: Settings, requests: int) -> Settings:
    return settings.model_copy(update={"plan_limits": {"starter": {"requests_per_window": requests}}})


async def well_inside_a_window(need_s: float = 15.0) -> None:
    """Wait, if need be, until the gateway's current fixed window (a minute, on the clock) has ``need_s``
    left: the requests a test counts all fall in one window, as a tenant's burst within a minute would."""
    import asyncio
    import time

    from gateway.config import GatewayConfig

    window = GatewayConfig().rate_window_s
    left = window - time.time() % window
    if left < need_s:
        await asyncio.sleep(left + 0.2)


async def test_rate_limit_is_shared_by_gateway_processes(settings: Settings, app_pool: asyncpg.Pool) -> None:
    """Two gateway instances with their own pools (as two processes would) share one tenant budget."""
    second_pool = await create_pool(settings.pg_dsn("app"), max_size=2)
    try:
        a = client_for(create_app(_tight(settings, 4), pool=app_pool))
        b = client_for(create_app(_tight(settings, 4), pool=second_pool))
        async with a, b:
            t = await sign_up(a)
            g = await sign_up(
                a, plan="growth", pool=app_pool
            )  # a different plan and tenant keeps its own budget
            await well_inside_a_window()
            codes = [(await c.get("/v1/pipelines", headers=t.h)).status_code for c in (a, b, a, b)]
            assert codes == [200, 200, 200, 200]
            r = await b.get("/v1/pipelines", headers=t.h)
            assert r.status_code == 429
            assert r.headers["content-type"].startswith("application/problem+json")
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert "starter plan allows 4 requests" in r.json()["detail"]
            assert (await a.get("/v1/pipelines", headers=t.h)).status_code == 429
            assert (await a.get("/v1/pipelines", headers=g.h)).status_code == 200
    finally:
        await second_pool.close()


async def test_a_tenants_concurrent_requests_count_without_waiting_for_each_other(
    settings: Settings, app_pool: asyncpg.Pool
) -> None:
    """Two of a tenant's requests in flight at once each count while the other's transaction is still open
    (one shared counter row made every request wait for the previous one's commit), and the window's total
    stays exact: the limit refuses the first request over it."""
    import asyncio

    from gateway.config import GatewayConfig
    from gateway.ratelimit.service import RateLimiter
    from icop.plans import plan_catalog

    async with client_for(create_app(_tight(settings, 5), pool=app_pool)) as c:
        t = await sign_up(c)  # sign-up and login are not counted; the tenant is on the starter plan
    tid = uuid.UUID(t.tenant_id)
    await well_inside_a_window()
    limiter = RateLimiter(GatewayConfig(plans=plan_catalog(_tight(settings, 5))))
    pool = await create_pool(settings.pg_dsn("app"), 2, 2)
    try:
        async with tenant_tx(pool, tid) as first:
            await limiter.check(first, tid)
            async with tenant_tx(pool, tid) as second:  # the first transaction is still open
                await asyncio.wait_for(limiter.check(second, tid), 5)
        for _ in range(3):  # 2 counted above; 3 more reach the limit of 5
            async with tenant_tx(pool, tid) as conn:
                assert await limiter.check(conn, tid) == "starter"
        with pytest.raises(RateLimited):
            async with tenant_tx(pool, tid) as conn:
                await limiter.check(conn, tid)
    finally:
        await pool.close()


async def test_rate_limit_counts_api_keys_too(settings: Settings, app_pool: asyncpg.Pool) -> None:
    async with client_for(create_app(_tight(settings, 2), pool=app_pool)) as c:
        t = await sign_up(c)
        await well_inside_a_window()
        key = (await c.post("/v1/api-keys", headers=t.h, json={"name": "k"})).json()["key"]
        remember(key)
        assert (await c.get("/v1/auth/me", headers={"X-API-Key": key})).status_code == 200
        r = await c.get("/v1/auth/me", headers={"X-API-Key": key})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


async def test_plan_limits_on_pipelines_and_accounts(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for i in range(3):
        r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": f"p{i}", "sheet_id": sheet()})
        assert r.status_code == 201, r.text
    r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "p4", "sheet_id": sheet()})
    assert (
        r.status_code == 403
        and r.json()["title"] == "Plan limit reached"
        and "3 pipelines" in r.json()["detail"]
    )
    for acct in ("a", "b", "c"):
        tok = f"t-{acct}-{tenant.user_id}"
        remember(tok)
        r = await client.post(
            "/v1/credentials",
            headers=tenant.h,
            json={"platform": "facebook", "account_id": acct, "access_token": tok},
        )
        assert r.status_code == 201
    r = await client.post(
        "/v1/credentials",
        headers=tenant.h,
        json={"platform": "facebook", "account_id": "d", "access_token": "t-d-xyz"},
    )
    assert r.status_code == 403 and "connected accounts" in r.json()["detail"]
    remember("t-d-xyz")
    # Reconnecting an existing account replaces its tokens and is not a new account.
    r = await client.post(
        "/v1/credentials",
        headers=tenant.h,
        json={"platform": "facebook", "account_id": "a", "access_token": "t-a-new-1234"},
    )
    remember("t-a-new-1234")
    assert r.status_code == 200
    # Deleting one frees a slot.
    cid = (await client.get("/v1/credentials", headers=tenant.h)).json()[0]["id"]
    assert (await client.delete(f"/v1/credentials/{cid}", headers=tenant.h)).status_code == 204
    r = await client.post(
        "/v1/credentials",
        headers=tenant.h,
        json={"platform": "facebook", "account_id": "d", "access_token": "t-d-xyz"},
    )
    assert r.status_code == 201
