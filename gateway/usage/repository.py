"""Every SQL statement of the usage overview (counts only)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


class UsageRepository:
    async def counts(
        self, conn: asyncpg.Connection, tenant_id: UUID, start: datetime, end: datetime
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            """SELECT
                 (SELECT count(*) FROM generated_articles
                   WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3)::int AS articles,
                 (SELECT count(*) FROM pipeline_runs
                   WHERE tenant_id = $1 AND status IN ('pending', 'running'))::int AS active_runs,
                 (SELECT count(*) FROM content_pipelines WHERE tenant_id = $1)::int AS pipelines,
                 (SELECT count(*) FROM api_credentials
                   WHERE tenant_id = $1 AND status <> 'revoked')::int AS accounts,
                 (SELECT coalesce(sum(cost_usd), 0) FROM platform_quota_usage
                   WHERE tenant_id = $1 AND platform = 'x' AND released_at IS NULL
                     AND reserved_at >= $2 AND reserved_at < $3) AS x_cost""",
            tenant_id,
            start,
            end,
        )
