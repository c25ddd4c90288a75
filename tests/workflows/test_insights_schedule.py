"""A connected account's insights schedule (Temporal Schedule → AccountInsightsWorkflow → collect_insights
activity) collects its due posts from the stack's social emulator into the session database."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow

from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.clients import OAuthTokens
from icop.social.tokens import VaultTokenStore
from icop.vault import Vault
from workflows.schedules import AccountRef, TemporalAccountSchedules
from workflows.types import Queues, insights_schedule_id
from workflows.worker import build_activities, close, running_workers

from ..social.insights_seed import seed_published

pytestmark = pytest.mark.slow


async def test_an_accounts_schedule_collects_its_due_posts(
    settings: Settings, app_pool: asyncpg.Pool, temporal: Client, queues: Queues
) -> None:
    tenant, account = uuid.uuid4(), f"x-ins-{uuid.uuid4().hex[:8]}"
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'insights schedule')", tenant)
    base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as emu:
        tok = (await emu.post("/_admin/tokens", json={"platform": "x", "account_id": account})).json()
        store = VaultTokenStore(app_pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
        await store.connect(tenant, "x", account, OAuthTokens(tok["token"], tok["refresh_token"], None))
        seeded = await seed_published(app_pool, emu, tenant, "x", account, ["Cold brew at home", "Iced tea"])

    schedules = TemporalAccountSchedules(temporal, queues, every_s=3600)
    ref = AccountRef(tenant, "x", account)
    assert await schedules.upsert(ref) == "created"
    assert await schedules.upsert(ref) == "updated"  # connecting again keeps one schedule
    handle = temporal.get_schedule_handle(insights_schedule_id(str(tenant), "x", account))
    d = await handle.describe()
    assert d.schedule.spec.intervals[0].every == timedelta(hours=1)
    action = d.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "AccountInsightsWorkflow"

    acts = await build_activities(settings, ["syndication"], pool=app_pool)
    try:
        async with running_workers(temporal, acts, queues, ["syndication"]):
            await handle.trigger()  # a fire now, as the interval would
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30:
                async with tenant_tx(app_pool, tenant) as conn:
                    n = await conn.fetchval("SELECT count(*) FROM post_metrics WHERE tenant_id = $1", tenant)
                if n == len(seeded):
                    break
                await asyncio.sleep(0.2)
            assert n == len(seeded)
    finally:
        await close(acts)
        assert await schedules.delete(ref)
    async with tenant_tx(app_pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT metrics_collections, impressions FROM posts WHERE tenant_id = $1", tenant
        )
    assert all(r["metrics_collections"] == 1 and r["impressions"] > 0 for r in rows)
