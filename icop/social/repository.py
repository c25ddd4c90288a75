"""Every SQL statement of publishing: post rows, quota reservations, per-account limit overrides.

Each function takes a connection opened by ``icop.db.tenant_tx`` and still filters by tenant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from icop.statuses import PostStatus


async def account_overrides(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str | None = None, account_id: str | None = None
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Per-account limit overrides of the tenant (of one account, when given)."""
    rows = await conn.fetch(
        """SELECT platform, account_id, limits FROM social_account_limits
           WHERE tenant_id = $1 AND ($2::text IS NULL OR platform = $2)
             AND ($3::text IS NULL OR account_id = $3)""",
        tenant_id,
        platform,
        account_id,
    )
    return {(r["platform"], r["account_id"]): r["limits"] for r in rows}


async def ensure_post(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    article_id: UUID,
    platform: str,
    account_id: str,
    key: str,
    text: str,
    media_urls: list[str],
    cost_usd: Decimal,
) -> asyncpg.Record:
    """The post row of (article, platform, account), created once."""
    # No conflict target: the key is a function of (article, platform, account), so a racing insert
    # conflicts on both unique indexes and a targeted ON CONFLICT would raise on the other one.
    await conn.execute(
        """INSERT INTO posts (tenant_id, article_id, platform, account_id, idempotency_key, text, media_urls,
                              cost_usd)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT DO NOTHING""",
        tenant_id,
        article_id,
        platform,
        account_id,
        key,
        text,
        media_urls,
        cost_usd,
    )
    row = await post(conn, tenant_id, article_id, platform, account_id)
    assert row is not None
    return row


async def post(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    article_id: UUID,
    platform: str,
    account_id: str,
    *,
    for_update: bool = False,
) -> asyncpg.Record | None:
    """The post row with the database's clock (``db_now``); locked with ``for_update``."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT *, now() AS db_now FROM posts WHERE tenant_id = $1 AND article_id = $2 AND platform = $3 "
        "AND account_id = $4" + (" FOR UPDATE" if for_update else ""),
        tenant_id,
        article_id,
        platform,
        account_id,
    )
    return row


async def update_post(
    conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID, **values: Any
) -> asyncpg.Record:
    """Set columns of one post (and ``updated_at``); the row as it is now."""
    names = list(values)
    sets = ", ".join(f"{n} = ${i + 3}" for i, n in enumerate(names))
    row: asyncpg.Record | None = await conn.fetchrow(
        f"UPDATE posts SET {sets}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *",
        tenant_id,
        post_id,
        *(values[n].value if isinstance(values[n], PostStatus) else values[n] for n in names),
    )
    assert row is not None
    return row


async def claim(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post_id: UUID,
    text: str,
    media_urls: list[str],
    cost: Decimal,
    reconcile_required: bool,
) -> asyncpg.Record:
    """Mark the post 'publishing' (a lease) with what is about to be sent, and count the attempt."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET status = 'publishing', reconcile_required = $6, text = $3, media_urls = $4,
                  cost_usd = $5, attempts = attempts + 1, not_before = NULL, updated_at = now()
           WHERE tenant_id = $1 AND id = $2 RETURNING *""",
        tenant_id,
        post_id,
        text,
        media_urls,
        cost,
        reconcile_required,
    )
    assert row is not None
    return row


async def mark_published(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post_id: UUID,
    platform_post_id: str,
    permalink: str | None,
    first_metrics_after_s: float,
) -> asyncpg.Record:
    """Published now; its metrics are first collected ``first_metrics_after_s`` later (icop.insights)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET status = 'published', platform_post_id = $3, permalink = $4, error = NULL,
                  error_code = NULL, not_before = NULL, published_at = now(), updated_at = now(),
                  reconcile_required = false, metrics_state = 'collecting',
                  metrics_next_at = now() + make_interval(secs => $5)
           WHERE tenant_id = $1 AND id = $2 RETURNING *""",
        tenant_id,
        post_id,
        platform_post_id,
        permalink,
        first_metrics_after_s,
    )
    assert row is not None
    return row


def quota_lock_key(tenant_id: UUID, platform: str, account_id: str) -> int:
    digest = hashlib.sha256(f"icop-quota|{tenant_id}|{platform}|{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_quota(conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str) -> None:
    """Serialises the reservations of one account (or, with ``account_id=""`` and platform ``x-budget``,
    the tenant's X budget) until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", quota_lock_key(tenant_id, platform, account_id))


async def holds_reservation(conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> bool:
    held = await conn.fetchval(
        "SELECT 1 FROM platform_quota_usage WHERE tenant_id = $1 AND post_id = $2 AND released_at IS NULL",
        tenant_id,
        post_id,
    )
    return bool(held)


async def reserved_since(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, since: datetime
) -> list[datetime]:
    """Unreleased reservation times of one account after ``since``, oldest first."""
    rows = await conn.fetch(
        """SELECT reserved_at FROM platform_quota_usage WHERE tenant_id = $1 AND platform = $2
           AND account_id = $3 AND released_at IS NULL AND reserved_at > $4 ORDER BY reserved_at""",
        tenant_id,
        platform,
        account_id,
        since,
    )
    return [r["reserved_at"] for r in rows]


async def count_reserved_since(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, since: datetime
) -> int:
    n: int = await conn.fetchval(
        """SELECT count(*) FROM platform_quota_usage WHERE tenant_id = $1 AND platform = $2
           AND account_id = $3 AND released_at IS NULL AND reserved_at >= $4""",
        tenant_id,
        platform,
        account_id,
        since,
    )
    return n


async def x_spent_since(conn: asyncpg.Connection, tenant_id: UUID, since: datetime) -> Decimal:
    """The tenant's X cost since ``since``, all accounts: unreleased publishing reservations and the reads of
    insights (one budget pays for both, as X bills both)."""
    spent: Decimal = await conn.fetchval(
        """SELECT (SELECT coalesce(sum(cost_usd), 0) FROM platform_quota_usage WHERE tenant_id = $1
                     AND platform = 'x' AND released_at IS NULL AND reserved_at >= $2)
                + (SELECT coalesce(sum(cost_usd), 0) FROM insights_requests WHERE tenant_id = $1
                     AND platform = 'x' AND requested_at >= $2)""",
        tenant_id,
        since,
    )
    return spent


async def reserve(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str, post_id: UUID, cost: Decimal
) -> None:
    await conn.execute(
        """INSERT INTO platform_quota_usage (tenant_id, platform, account_id, post_id, cost_usd)
           VALUES ($1, $2, $3, $4, $5)""",
        tenant_id,
        platform,
        account_id,
        post_id,
        cost,
    )


async def release(conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> None:
    await conn.execute(
        "UPDATE platform_quota_usage SET released_at = now()"
        " WHERE tenant_id = $1 AND post_id = $2 AND released_at IS NULL",
        tenant_id,
        post_id,
    )


async def schedule_post(
    conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID, at: datetime
) -> asyncpg.Record | None:
    """A fresh post (pending, never tried) to ``scheduled`` for ``at``; None when it is in another state."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET status = 'scheduled', not_before = $3, error = NULL, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND attempts = 0
              AND NOT reconcile_required
            RETURNING *""",
        tenant_id, post_id, at,
    )  # fmt: skip
    return row


async def reschedule_post(
    conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID, at: datetime
) -> asyncpg.Record | None:
    """A scheduled post's new publish time; None when the post is no longer scheduled."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET not_before = $3, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' RETURNING *""",
        tenant_id, post_id, at,
    )  # fmt: skip
    return row


RETRYABLE = ("failed", "needs_reauth")


async def reopen_post(conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    """A failed post (or one that waited for a reconnected account) back to ``pending``, for a retry the
    user asked for; None when it is in another state. A post that may have been sent is never reopened:
    those are reconciled with the platform, not failed."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE posts SET status = 'pending', error = NULL, error_code = NULL, not_before = NULL,
                  updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = ANY($3::text[]) AND NOT reconcile_required
            RETURNING *""",
        tenant_id, post_id, list(RETRYABLE),
    )  # fmt: skip
    return row


async def post_material(conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    """What a post is made from again: its target, the article's title, SEO fields, language and stored
    Markdown, and its images' storage keys in order."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT p.status, p.article_id, p.platform, p.account_id, a.title, a.seo, a.language,
                  a.markdown_key, a.markdown_url,
                  coalesce((SELECT array_agg(i.storage_key ORDER BY i.position) FROM images i
                             WHERE i.tenant_id = p.tenant_id AND i.article_id = p.article_id), '{}')
                    AS media_keys
             FROM posts p JOIN generated_articles a ON a.id = p.article_id AND a.tenant_id = p.tenant_id
            WHERE p.tenant_id = $1 AND p.id = $2""",
        tenant_id, post_id,
    )  # fmt: skip
    return row
