"""Every SQL statement of the analytics API: posts with their latest figures, a post's series, summaries,
engagement thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

COLS = """p.id AS post_id, p.article_id, a.title AS article_title, a.pipeline_id, a.run_id, a.subtopic_id,
          p.platform, p.account_id, p.permalink, p.published_at, p.impressions, p.engagement,
          p.metrics_state, p.metrics_collections, p.metrics_collected_at, p.metrics_next_at, p.metrics_code,
          p.metrics_params"""
FROM = "posts p JOIN generated_articles a ON a.id = p.article_id AND a.tenant_id = p.tenant_id"
# The filters every analytics query shares: $1 tenant, then platform, account, pipeline, run, since, until
# (on the publish time). Only published posts count.
WHERE = """p.tenant_id = $1 AND p.published_at IS NOT NULL
           AND ($2::text IS NULL OR p.platform = $2) AND ($3::text IS NULL OR p.account_id = $3)
           AND ($4::uuid IS NULL OR a.pipeline_id = $4) AND ($5::uuid IS NULL OR a.run_id = $5)
           AND ($6::timestamptz IS NULL OR p.published_at >= $6)
           AND ($7::timestamptz IS NULL OR p.published_at < $7)"""
SORT_KEYS = {
    "engagement": "coalesce(p.engagement, -1)",
    "impressions": "coalesce(p.impressions, -1)",
    "published_at": "extract(epoch FROM p.published_at)",
}


class AnalyticsRepository:
    async def posts(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        filters: tuple[Any, ...],
        sort: str,
        after: tuple[float, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        """Published posts, best first by ``sort`` (then id), after the keyset ``after``."""
        key = SORT_KEYS[sort]
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS}, {key}::float8 AS sort_key FROM {FROM}
                 WHERE {WHERE} AND ($8::float8 IS NULL OR ({key}::float8, p.id) < ($8, $9::uuid))
                 ORDER BY {key} DESC, p.id DESC LIMIT $10""",
            tenant_id, *filters, after[0] if after else None, after[1] if after else None, limit + 1,
        )  # fmt: skip
        return rows

    async def post(self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM {FROM} WHERE p.tenant_id = $1 AND p.id = $2", tenant_id, post_id
        )

    async def series(self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT collected_at, age_s, impressions, reach, likes, comments, shares, saves, clicks,
                      engagement
                 FROM post_metrics WHERE tenant_id = $1 AND post_id = $2 ORDER BY collected_at""",
            tenant_id, post_id,
        )  # fmt: skip
        return rows

    async def summary(
        self, conn: asyncpg.Connection, tenant_id: UUID, filters: tuple[Any, ...], group_by: str
    ) -> list[asyncpg.Record]:
        """Collected posts' latest figures summed per group."""
        key, label, join = {
            "day": ("to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "NULL::text", ""),
            "platform": ("p.platform", "NULL::text", ""),
            "pipeline": (
                "a.pipeline_id::text", "cp.name",
                "LEFT JOIN content_pipelines cp ON cp.id = a.pipeline_id AND cp.tenant_id = a.tenant_id",
            ),
            "subtopic": (
                "a.subtopic_id::text", "s.label",
                "LEFT JOIN subtopics s ON s.id = a.subtopic_id AND s.tenant_id = a.tenant_id",
            ),
        }[group_by]  # fmt: skip
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {key} AS key, min({label}) AS label, count(*) AS posts,
                       coalesce(sum(p.impressions), 0)::bigint AS impressions,
                       coalesce(sum(p.engagement), 0)::bigint AS engagement
                  FROM {FROM} {join}
                 WHERE {WHERE} AND p.metrics_collections > 0
                 GROUP BY 1""",
            tenant_id, *filters,
        )  # fmt: skip
        return rows

    async def thresholds(self, conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT t.id, t.metric, t.value, t.platform, t.created_at,
                      (SELECT count(*) FROM engagement_threshold_hits h
                        WHERE h.tenant_id = t.tenant_id AND h.threshold_id = t.id) AS hits
                 FROM engagement_thresholds t WHERE t.tenant_id = $1 ORDER BY t.created_at, t.id""",
            tenant_id,
        )
        return rows

    async def count_thresholds(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM engagement_thresholds WHERE tenant_id = $1", tenant_id
        )
        return n

    async def add_threshold(
        self, conn: asyncpg.Connection, tenant_id: UUID, metric: str, value: int, platform: str | None
    ) -> asyncpg.Record:
        row: asyncpg.Record = await conn.fetchrow(
            """INSERT INTO engagement_thresholds (tenant_id, metric, value, platform) VALUES ($1, $2, $3, $4)
               RETURNING id, metric, value, platform, created_at, 0::bigint AS hits""",
            tenant_id, metric, value, platform,
        )  # fmt: skip
        return row

    async def delete_threshold(self, conn: asyncpg.Connection, tenant_id: UUID, threshold_id: UUID) -> bool:
        done = await conn.fetchval(
            "DELETE FROM engagement_thresholds WHERE tenant_id = $1 AND id = $2 RETURNING true",
            tenant_id, threshold_id,
        )  # fmt: skip
        return bool(done)

    @staticmethod
    def filters(
        platform: str | None,
        account_id: str | None,
        pipeline_id: UUID | None,
        run_id: UUID | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[Any, ...]:
        return (platform, account_id, pipeline_id, run_id, since, until)
