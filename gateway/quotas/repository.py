"""SQL over ``platform_quota_usage``: rolling-window counts per connected account."""

from __future__ import annotations

from uuid import UUID

import asyncpg


class QuotaRepository:
    async def usage(
        self, conn: asyncpg.Connection, tenant_id: UUID, window_hours: dict[str, int]
    ) -> list[asyncpg.Record]:
        platforms = list(window_hours)
        hours = [window_hours[p] for p in platforms]
        rows: list[asyncpg.Record] = await conn.fetch(
            """
            WITH w AS (SELECT * FROM unnest($2::text[], $3::int[]) AS w(platform, hours)),
                 accounts AS (
                   SELECT platform, account_id FROM api_credentials
                   WHERE tenant_id = $1 AND platform <> 'google' AND status <> 'revoked'
                   UNION
                   SELECT platform, account_id FROM platform_quota_usage WHERE tenant_id = $1)
            SELECT a.platform, a.account_id, coalesce(w.hours, 24) AS window_hours,
                   count(u.id) FILTER (WHERE u.released_at IS NULL
                                        AND u.reserved_at > now() - make_interval(hours =>
                                          coalesce(w.hours, 24)))::int
                     AS used,
                   min(u.reserved_at) FILTER (WHERE u.released_at IS NULL
                                        AND u.reserved_at > now() - make_interval(hours =>
                                          coalesce(w.hours, 24)))
                     + make_interval(hours => coalesce(w.hours, 24)) AS resets_at,
                   coalesce(sum(u.cost_usd) FILTER (WHERE u.reserved_at >= date_trunc('month', now())), 0)
                     AS cost
            FROM accounts a LEFT JOIN w ON w.platform = a.platform
            LEFT JOIN platform_quota_usage u
                   ON u.tenant_id = $1 AND u.platform = a.platform AND u.account_id = a.account_id
            GROUP BY a.platform, a.account_id, w.hours
            ORDER BY a.platform, a.account_id
            """,
            tenant_id,
            platforms,
            hours,
        )
        return rows
