"""SQL for the fixed-window request counters (table ``rate_limit_counters``, migrations 0002 and 0020)."""

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
    session_role: str | None = None
    """With a session to check: the user's role if that login session lives (else None)."""


class RateLimitRepository:
    async def hit(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        window_s: int,
        session: tuple[UUID, UUID] | None = None,
    ) -> Hit | None:
        """Count one request in the current window; also return the tenant's plan and status, and with a
        ``session`` (user id, session id) the user's role if that login session lives (``session_role``,
        migration 0022), in the same round trip.

        The count goes to this connection's own row (``backend``: the server process's id), so concurrent
        requests of one tenant never wait for each other's row lock; ``hits`` is the window's total: this
        row's new count plus every other connection's committed ones."""
        row = await conn.fetchrow(
            """
            WITH t AS (SELECT plan, status,
                              CASE WHEN $3::uuid IS NOT NULL THEN session_role($1, $3, $4) END AS role
                       FROM tenants WHERE id = $1),
                 w AS (SELECT date_bin(make_interval(secs => $2), now(), timestamptz 'epoch') AS start),
                 c AS (
                   INSERT INTO rate_limit_counters AS r (tenant_id, window_start, backend, hits)
                   SELECT $1, w.start, pg_backend_pid(), 1 FROM w, t
                   ON CONFLICT (tenant_id, window_start, backend) DO UPDATE SET hits = r.hits + 1
                   RETURNING hits, window_start),
                 o AS (
                   SELECT coalesce(sum(r.hits), 0) AS hits FROM rate_limit_counters r, w
                   WHERE r.tenant_id = $1 AND r.window_start = w.start AND r.backend <> pg_backend_pid())
            SELECT t.plan, t.status, t.role, c.hits + o.hits AS hits,
                   ceil(extract(epoch FROM c.window_start + make_interval(secs => $2) - now()))::int AS retry
            FROM t, c, o
            """,
            tenant_id,
            float(window_s),
            *(session or (None, None)),
        )
        if row is None:
            return None
        return Hit(row["plan"], row["status"], row["hits"], row["retry"], row["role"])

    async def prune(self, conn: asyncpg.Connection, tenant_id: UUID, keep_s: int) -> None:
        await conn.execute(
            "DELETE FROM rate_limit_counters WHERE tenant_id = $1 AND window_start < now() - "
            "make_interval(secs => $2)",
            tenant_id,
            float(keep_s),
        )
