"""SQL for the fixed-window request counters (table ``rate_limit_counters``, migration 0002)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Hit:
    plan: str
    tenant_status: str
    hits: int
    retry_after_s: int


class RateLimitRepository:
    async def hit(self, conn: asyncpg.Connection, tenant_id: UUID, window_s: int) -> Hit | None:
        """Count one request in the current window; also return the tenant's plan and status."""
        row = await conn.fetchrow(
            """
            WITH t AS (SELECT plan, status FROM tenants WHERE id = $1),
                 w AS (SELECT date_bin(make_interval(secs => $2), now(), timestamptz 'epoch') AS start),
                 c AS (
                   INSERT INTO rate_limit_counters AS r (tenant_id, window_start, hits)
                   SELECT $1, w.start, 1 FROM w, t
                   ON CONFLICT (tenant_id, window_start) DO UPDATE SET hits = r.hits + 1
                   RETURNING hits, window_start)
            SELECT t.plan, t.status, c.hits,
                   ceil(extract(epoch FROM c.window_start + make_interval(secs => $2) - now()))::int AS retry
            FROM t, c
            """,
            tenant_id,
            float(window_s),
        )
        if row is None:
            return None
        return Hit(row["plan"], row["status"], row["hits"], row["retry"])

    async def prune(self, conn: asyncpg.Connection, tenant_id: UUID, keep_s: int) -> None:
        await conn.execute(
            "DELETE FROM rate_limit_counters WHERE tenant_id = $1 AND window_start < now() - "
            "make_interval(secs => $2)",
            tenant_id,
            float(keep_s),
        )
