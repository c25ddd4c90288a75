"""Publishing moves the post and provider metrics: posts by platform and the status they ended in, and
every platform request by its outcome (the social emulator over HTTP, the session's PostgreSQL)."""

from __future__ import annotations

import uuid

import asyncpg
from prometheus_client import REGISTRY

from icop.social.publisher import Publisher
from icop.social.tokens import VaultTokenStore

from .conftest import Emu, connect_account, make_articles
from .test_publish import ACCOUNTS, target


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_posts_and_platform_calls_are_counted(
    publisher: Publisher, emu: Emu, token_store: VaultTokenStore, tenant: uuid.UUID, app_pool: asyncpg.Pool
) -> None:
    await connect_account(emu, token_store, tenant, "x", ACCOUNTS["x"])
    a1, a2 = await make_articles(app_pool, tenant, 2)
    names = [
        ("icop_posts_total", {"platform": "x", "status": "published"}),
        ("icop_posts_total", {"platform": "x", "status": "waiting_quota"}),
        ("icop_provider_calls_total", {"provider": "x", "outcome": "ok"}),
        ("icop_provider_calls_total", {"provider": "x", "outcome": "rate_limited"}),
    ]
    before = [sample(n, **labels) for n, labels in names]
    assert (await publisher.publish(target(tenant, a1, "x"))).status == "published"
    await emu.knobs(error_next=1, error_status=429, retry_after_s=120, platform="x")
    assert (await publisher.publish(target(tenant, a2, "x"))).status == "waiting_quota"
    moved = [sample(n, **labels) - b for (n, labels), b in zip(names, before, strict=True)]
    published, waiting, ok, limited = moved
    assert (published, waiting, limited) == (1, 1, 1)
    assert ok >= 1  # the post itself, and whatever the flow reads from the platform around it
