"""Every SQL statement about ``generated_articles`` and their ``images``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

SUMMARY = (
    "id, pipeline_id, run_id, subtopic_id, language, title, status, mode, markdown_url, "
    "created_at, updated_at"
)


class ArticleRepository:
    async def list(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        *,
        status: str | None,
        pipeline_id: UUID | None,
        run_id: UUID | None,
        language: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        return await conn.fetch(
            f"""SELECT {SUMMARY} FROM generated_articles
                WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
                  AND ($3::uuid IS NULL OR pipeline_id = $3) AND ($4::uuid IS NULL OR run_id = $4)
                  AND ($5::text IS NULL OR language = $5)
                  AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $8""",
            tenant_id,
            status,
            pipeline_id,
            run_id,
            language,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {SUMMARY}, markdown_key, seo, error FROM generated_articles WHERE tenant_id = $1 "
            f"AND id = $2",
            tenant_id,
            article_id,
        )

    async def images(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID
    ) -> list[asyncpg.Record]:
        return await conn.fetch(
            "SELECT id, position, url, width, height, provider FROM images "
            "WHERE tenant_id = $1 AND article_id = $2 ORDER BY position",
            tenant_id,
            article_id,
        )
