"""SQL over ``platform_quota_usage``: rolling-window counts per connected account."""

from __future__ import annotations

from uuid import UUID

import asyncpg


class QuotaRepository:
    async def accounts(self, conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
        """Connected publishing accounts, and any account that still has reservations."""
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT platform, account_id FROM api_credentials
               WHERE tenant_id = $1 AND platform <> 'google' AND status <> 'revoked'
               UNION
               SELECT platform, account_id FROM platform_quota_usage WHERE tenant_id = $1
               ORDER BY platform, account_id""",
            tenant_id,
        )
        return rows

    async def usage(
        self, conn: asyncpg.Connection, tenant_id: UUID, windows: list[tuple[str, str, int]]
    ) -> list[asyncpg.Record]:
        """Per (platform, account, window in seconds): reservations in the window, when the oldest leaves
        it, and the money spent this calendar month (UTC)."""
        rows: list[asyncpg.Record] = await conn.fetch(
            """
            WITH a AS (SELECT * FROM unnest($2::text[], $3::text[], $4::int[]) AS a(platform, account_id, s))
            SELECT a.platform, a.account_id,
                   count(u.id) FILTER (WHERE u.reserved_at > now() - make_interval(secs => a.s))::int AS used,
                   min(u.reserved_at) FILTER (WHERE u.reserved_at > now() - make_interval(secs => a.s))
                     + make_interval(secs => a.s) AS resets_at,
                   coalesce(sum(u.cost_usd) FILTER (WHERE u.reserved_at >=
                     date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0) AS cost
            FROM a LEFT JOIN platform_quota_usage u
                   ON u.tenant_id = $1 AND u.platform = a.platform AND u.account_id = a.account_id
                  AND u.released_at IS NULL
            GROUP BY a.platform, a.account_id, a.s
            ORDER BY a.platform, a.account_id
            """,
            tenant_id,
            [w[0] for w in windows],
            [w[1] for w in windows],
            [w[2] for w in windows],
        )
        return rows
