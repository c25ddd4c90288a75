"""Every SQL statement about ``posts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from icop import audit

# A post's time on a calendar: when it went out, when it is due, or else when it last changed (a failure).
CALENDAR_AT = """CASE WHEN p.status = 'published' AND p.published_at IS NOT NULL THEN p.published_at
                    WHEN p.status = 'scheduled' AND p.not_before IS NOT NULL THEN p.not_before
                    ELSE p.updated_at END"""
COLS = f"""p.id, p.article_id, p.platform, p.account_id, p.status, p.platform_post_id, p.permalink, p.text,
          p.media_urls, p.attempts, p.error, p.error_code, p.error_params, p.cost_usd, p.not_before,
           p.published_at, p.created_at, p.updated_at, a.title AS article_title, a.run_id, p.time_choice,
           {CALENDAR_AT} AS calendar_at"""
FROM = "posts p JOIN generated_articles a ON a.id = p.article_id AND a.tenant_id = p.tenant_id"


def contains(text: str) -> str:
    """An ILIKE pattern matching ``text`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PostRepository:
    async def list(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        *,
        platform: str | None,
        status: str | None,
        article_id: UUID | None,
        run_id: UUID | None = None,
        q: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        account_id: str | None = None,
        calendar_since: datetime | None = None,
        calendar_until: datetime | None = None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        pattern = None if not q else contains(q)
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM {FROM}
                WHERE p.tenant_id = $1 AND ($2::text IS NULL OR p.platform = $2)
                  AND ($3::text IS NULL OR p.status = $3)
                  AND ($4::uuid IS NULL OR p.article_id = $4)
                  AND ($5::timestamptz IS NULL OR (p.created_at, p.id) < ($5, $6::uuid))
                  AND ($8::uuid IS NULL OR a.run_id = $8)
                  AND ($9::text IS NULL OR p.text ILIKE $9 OR a.title ILIKE $9)
                  AND ($10::timestamptz IS NULL OR p.created_at >= $10)
                  AND ($11::timestamptz IS NULL OR p.created_at < $11)
                  AND ($12::text IS NULL OR p.account_id = $12)
                  AND ($13::timestamptz IS NULL OR {CALENDAR_AT} >= $13)
                  AND ($14::timestamptz IS NULL OR {CALENDAR_AT} < $14)
                ORDER BY p.created_at DESC, p.id DESC LIMIT $7""",
            tenant_id, platform, status, article_id,
            after[0] if after else None, after[1] if after else None, limit + 1,
            run_id, pattern, since, until, account_id, calendar_since, calendar_until,
        )  # fmt: skip
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM {FROM} WHERE p.tenant_id = $1 AND p.id = $2", tenant_id, post_id
        )

    async def lock_for_schedule(
        self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID
    ) -> asyncpg.Record | None:
        """The post with its article's workflow coordinates, locked against the publisher's claim."""
        return await conn.fetchrow(
            f"""SELECT p.id, p.status, p.platform, p.account_id, a.run_id, a.subtopic_id FROM {FROM}
                 WHERE p.tenant_id = $1 AND p.id = $2 FOR UPDATE OF p""",
            tenant_id, post_id,
        )  # fmt: skip

    async def audit(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        actor_id: UUID,
        actor_kind: str,
        action: str,
        post_id: UUID,
        detail: dict[str, Any],
    ) -> None:
        await audit.record(conn, tenant_id, actor_id, actor_kind, action, "post", post_id, detail)

    async def clear_time_choice(self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> None:
        await conn.execute(
            "UPDATE posts SET time_choice = NULL WHERE tenant_id = $1 AND id = $2", tenant_id, post_id
        )
