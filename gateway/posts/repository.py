"""Every SQL statement about ``posts``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

COLS = """id, article_id, platform, account_id, status, platform_post_id, permalink, text, media_urls,
  attempts,
          error, cost_usd, not_before, published_at, created_at, updated_at"""


class PostRepository:
    async def list(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        *,
        platform: str | None,
        status: str | None,
        article_id: UUID | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM posts
                WHERE tenant_id = $1 AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR
                  status = $3)
                  AND ($4::uuid IS NULL OR article_id = $4)
                  AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $7""",
            tenant_id,
            platform,
            status,
            article_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM posts WHERE tenant_id = $1 AND id = $2", tenant_id, post_id
        )
