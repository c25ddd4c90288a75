"""Every SQL statement of insights collection: due posts, the metrics series, the posts' collection state,
the requests made per account (rate limits, X cost) and the tenant's engagement thresholds.

Each function takes a connection opened by ``icop.db.tenant_tx`` and still filters by tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from .clients import Metrics


async def due_posts(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, limit: int
) -> list[asyncpg.Record]:
    """The account's posts whose collection is due, oldest due first, with the database's clock."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT id, article_id, platform, account_id, platform_post_id, published_at, metrics_collections,
                  now() AS db_now
             FROM posts
            WHERE tenant_id = $1 AND platform = $2 AND account_id = $3 AND metrics_state = 'collecting'
              AND metrics_next_at <= now() AND platform_post_id IS NOT NULL
            ORDER BY metrics_next_at LIMIT $4""",
        tenant_id, platform, account_id, limit,
    )  # fmt: skip
    return rows


async def collecting_accounts(conn: asyncpg.Connection, tenant_id: UUID) -> list[tuple[str, str]]:
    """(platform, account) of every connected account that has posts to collect, now or later."""
    rows = await conn.fetch(
        """SELECT DISTINCT p.platform, p.account_id FROM posts p
             JOIN api_credentials c ON c.tenant_id = p.tenant_id AND c.platform = p.platform
                                   AND c.account_id = p.account_id
            WHERE p.tenant_id = $1 AND p.metrics_state = 'collecting' ORDER BY 1, 2""",
        tenant_id,
    )
    return [(r["platform"], r["account_id"]) for r in rows]


async def calls_since(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, since: datetime
) -> list[tuple[datetime, int]]:
    """Insights requests of one account after ``since``: (when, calls), oldest first."""
    rows = await conn.fetch(
        """SELECT requested_at, calls FROM insights_requests
            WHERE tenant_id = $1 AND platform = $2 AND account_id = $3 AND requested_at > $4
            ORDER BY requested_at""",
        tenant_id, platform, account_id, since,
    )  # fmt: skip
    return [(r["requested_at"], r["calls"]) for r in rows]


async def publishes_since(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, since: datetime
) -> list[datetime]:
    """When the account's posts were sent (or about to be) after ``since``: publishing's quota reservations,
    released or not (a released one may still have made calls)."""
    rows = await conn.fetch(
        """SELECT reserved_at FROM platform_quota_usage
            WHERE tenant_id = $1 AND platform = $2 AND account_id = $3 AND reserved_at > $4
            ORDER BY reserved_at""",
        tenant_id, platform, account_id, since,
    )  # fmt: skip
    return [r["reserved_at"] for r in rows]


async def record_requests(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    platform: str,
    account_id: str,
    calls: int,
    posts: int,
    cost_usd: Decimal,
) -> None:
    await conn.execute(
        """INSERT INTO insights_requests (tenant_id, platform, account_id, calls, posts, cost_usd)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        tenant_id, platform, account_id, calls, posts, cost_usd,
    )  # fmt: skip


async def store_metrics(
    conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID, age_s: int, m: Metrics
) -> None:
    await conn.execute(
        """INSERT INTO post_metrics (tenant_id, post_id, age_s, impressions, reach, likes, comments, shares,
                                     saves, clicks, engagement, raw)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ($12::text)::jsonb)""",
        tenant_id, post_id, max(age_s, 0), m.impressions, m.reach, m.likes, m.comments, m.shares, m.saves,
        m.clicks, m.engagement, json.dumps(m.raw),
    )  # fmt: skip


async def collected(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post_id: UUID,
    m: Metrics,
    next_at: datetime | None,
) -> asyncpg.Record:
    """The post's latest figures and its next collection (None: done); any earlier wait's reason cleared."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET metrics_collections = metrics_collections + 1, metrics_collected_at = now(),
                  impressions = $3, engagement = $4, metrics_next_at = $5,
                  metrics_state = CASE WHEN $5::timestamptz IS NULL THEN 'done' ELSE 'collecting' END,
                  metrics_code = NULL, metrics_params = '{}'
            WHERE tenant_id = $1 AND id = $2
            RETURNING id, article_id, platform, account_id""",
        tenant_id, post_id, m.impressions, m.engagement, next_at,
    )  # fmt: skip
    assert row is not None
    return row


async def stop(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post_ids: Sequence[UUID],
    code: str,
    params: Mapping[str, str],
) -> None:
    """Collection of these posts ends for good, with why (``insights.post_deleted``, …)."""
    await conn.execute(
        """UPDATE posts SET metrics_state = 'stopped', metrics_next_at = NULL, metrics_code = $3,
                  metrics_params = ($4::text)::jsonb
            WHERE tenant_id = $1 AND id = ANY($2::uuid[])""",
        tenant_id, list(post_ids), code, json.dumps(dict(params)),
    )  # fmt: skip


async def postpone(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post_ids: Sequence[UUID],
    at: datetime,
    code: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """These posts are looked at again at ``at``; with a code, the reason they wait."""
    await conn.execute(
        """UPDATE posts SET metrics_next_at = $3,
                  metrics_code = coalesce($4, metrics_code),
                  metrics_params = CASE WHEN $4::text IS NULL THEN metrics_params ELSE ($5::text)::jsonb END
            WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND metrics_state = 'collecting'""",
        tenant_id, list(post_ids), at, code, json.dumps(dict(params or {})),
    )  # fmt: skip


async def resume_account(conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str) -> int:
    """An account connected again: its posts stopped for a lost permission are collected again (the cadence
    skips the ages that passed meanwhile)."""
    done: str = await conn.execute(
        """UPDATE posts SET metrics_state = 'collecting', metrics_next_at = now(), metrics_code = NULL,
                  metrics_params = '{}'
            WHERE tenant_id = $1 AND platform = $2 AND account_id = $3 AND metrics_state = 'stopped'
              AND metrics_code = 'insights.permission_lost'""",
        tenant_id, platform, account_id,
    )  # fmt: skip
    return int(done.split()[-1])


async def thresholds(conn: asyncpg.Connection, tenant_id: UUID, platform: str) -> list[asyncpg.Record]:
    """The tenant's thresholds that apply to ``platform`` (its own, and those for every platform)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT id, metric, value FROM engagement_thresholds
            WHERE tenant_id = $1 AND (platform IS NULL OR platform = $2)""",
        tenant_id, platform,
    )  # fmt: skip
    return rows


async def record_hit(
    conn: asyncpg.Connection, tenant_id: UUID, threshold_id: UUID, post_id: UUID, value: int
) -> bool:
    """Whether this is the first time the post reached the threshold (so the event goes out once)."""
    hit = await conn.fetchval(
        """INSERT INTO engagement_threshold_hits (tenant_id, threshold_id, post_id, value)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        tenant_id, threshold_id, post_id, value,
    )  # fmt: skip
    return bool(hit)
