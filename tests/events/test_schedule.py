"""The retry schedule: exponential back-off with jitter, capped; dead after the retry window."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from icop.db import tenant_tx
from icop.events.delivery import AttemptResult, Claimed, Sender, backoff, secret_ref
from icop.settings import Settings
from icop.vault import Vault
from tests.gateway.conftest import TenantHandle


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    s = Settings(webhook_retry_base_s=5, webhook_retry_max_s=3600)
    rng = random.Random(7)
    for attempt in range(1, 15):
        full = min(3600, 5 * 2 ** (attempt - 1))
        d = backoff(s, attempt, rng)
        assert full / 2 <= d <= full
    # with the defaults, ≥ 24 h of retries fit in the 25 h window before a delivery is dead
    defaults = Settings()
    total, n = 0.0, 0
    while total < 24 * 3600:
        n += 1
        total += min(defaults.webhook_retry_max_s, defaults.webhook_retry_base_s * 2 ** (n - 1))
    assert defaults.webhook_retry_window_s >= 24 * 3600 and n < 40


async def _delivery(pool: asyncpg.Pool, vault: Vault, tid: UUID) -> Claimed:
    ep, event = uuid4(), uuid4()
    async with tenant_tx(pool, tid) as conn:  # a disabled endpoint: the session's worker leaves it alone
        await conn.execute(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, secret_enc, enabled) "
            "VALUES ($1, $2, $3, $4, false)",
            ep,
            tid,
            "http://127.0.0.1:9/x",
            vault.encrypt("whsec_" + "A" * 43 + "=", secret_ref(tid, ep)),
        )
        row = await conn.fetchrow(
            "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, body, attempts,"
            " window_start) VALUES ($1, $2, $3, 'run.started', '{}', 1, now() - interval '2 hours')"
            " RETURNING id, window_start",
            tid,
            ep,
            event,
        )
    return Claimed(row["id"], tid, ep, event, "{}", 1, row["window_start"], "http://127.0.0.1:9/x", b"")


async def test_failure_after_the_retry_window_is_dead_and_before_it_is_rescheduled(
    app_pool: asyncpg.Pool, settings: Settings, vault: Vault, tenant: TenantHandle
) -> None:
    tid = UUID(tenant.tenant_id)
    failed = AttemptResult(datetime.now(UTC), 502, 12.5, "HTTP 502", "bad gateway")
    for window_h, expected in ((1, "dead"), (3, "pending")):
        s = settings.model_copy(update={"webhook_retry_window_s": window_h * 3600.0})
        c = await _delivery(app_pool, vault, tid)
        await Sender(app_pool, s, vault)._record(c, failed)
        async with tenant_tx(app_pool, tid) as conn:
            d = await conn.fetchrow(
                "SELECT status, next_attempt_at, last_status_code FROM webhook_deliveries WHERE id = $1", c.id
            )
            a = await conn.fetchrow("SELECT * FROM webhook_attempts WHERE delivery_id = $1", c.id)
        assert d["status"] == expected and d["last_status_code"] == 502
        assert a["status_code"] == 502 and a["response_excerpt"] == "bad gateway" and a["latency_ms"] == 12.5
        if expected == "pending":
            wait = d["next_attempt_at"] - datetime.now(UTC)
            assert timedelta(seconds=1) < wait <= timedelta(seconds=s.webhook_retry_base_s)
