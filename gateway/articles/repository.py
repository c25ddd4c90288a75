"""Every SQL statement about ``generated_articles``, their ``images``, their ``posts`` (read only) and the
limits their previews need."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from icop import audit

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
        rows: list[asyncpg.Record] = await conn.fetch(
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
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {SUMMARY}, markdown_key, seo, error, graph_state, edited_body, draft_writer, edited_at, "
            "(SELECT jsonb_build_object('id', s.id, 'label', s.label, 'choice', s.choice) FROM subtopics s "
            " WHERE s.tenant_id = g.tenant_id AND s.id = g.subtopic_id) AS subtopic "
            "FROM generated_articles g "
            "WHERE tenant_id = $1 AND id = $2",
            tenant_id,
            article_id,
        )

    async def images(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID
    ) -> builtins.list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT id, position, url, width, height, provider FROM images "
            "WHERE tenant_id = $1 AND article_id = $2 ORDER BY position",
            tenant_id,
            article_id,
        )
        return rows

    async def image(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID, position: int
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT storage_key FROM images WHERE tenant_id = $1 AND article_id = $2 AND position = $3",
            tenant_id,
            article_id,
            position,
        )

    async def lock_for_decision(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT id, status, run_id, subtopic_id FROM generated_articles WHERE tenant_id = $1 AND id = $2 "
            "FOR UPDATE",
            tenant_id,
            article_id,
        )

    async def lock_for_edit(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID
    ) -> asyncpg.Record | None:
        """What an edit starts from, locked against a decision (or another edit) meanwhile."""
        return await conn.fetchrow(
            "SELECT id, status, title, seo, graph_state, edited_body FROM generated_articles "
            "WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            tenant_id,
            article_id,
        )

    async def save_edit(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        article_id: UUID,
        *,
        title: str,
        summary: str,
        body: str,
        draft_writer: str | None,
    ) -> None:
        """A person's version of an article awaiting approval: its title (the SEO title too), summary
        (the meta description) and text; ``draft_writer`` when they chose another writer's draft."""
        await conn.execute(
            """UPDATE generated_articles
                  SET title = $3,
                      seo = seo || jsonb_build_object('title', $3::text, 'meta_description', $4::text),
                      edited_body = $5, draft_writer = coalesce($6, draft_writer), edited_at = now(),
                      updated_at = now()
                WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'""",
            tenant_id, article_id, title, summary, body, draft_writer,
        )  # fmt: skip

    async def set_regenerating(self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> None:
        """An article awaiting approval goes back to writing; a person's edits are dropped."""
        await conn.execute(
            """UPDATE generated_articles
                  SET status = 'writing', edited_body = NULL, draft_writer = NULL, edited_at = NULL,
                      updated_at = now()
                WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'""",
            tenant_id, article_id,
        )  # fmt: skip

    async def set_decision(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID, status: str, reason: str | None
    ) -> None:
        await conn.execute(
            "UPDATE generated_articles SET status = $3, error = $4, updated_at = now() "
            "WHERE tenant_id = $1 AND id = $2 AND status = 'awaiting_approval'",
            tenant_id,
            article_id,
            status,
            reason,
        )

    async def audit(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        actor_id: UUID,
        actor_kind: str,
        action: str,
        article_id: UUID,
        detail: dict[str, Any],
    ) -> None:
        await audit.record(conn, tenant_id, actor_id, actor_kind, action, "article", article_id, detail)

    async def posts(
        self, conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID
    ) -> builtins.list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT platform, account_id, status, text, cost_usd FROM posts "
            "WHERE tenant_id = $1 AND article_id = $2 ORDER BY platform, account_id",
            tenant_id,
            article_id,
        )
        return rows

    async def pipeline_targets(
        self, conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID
    ) -> builtins.list[dict[str, Any]]:
        targets = await conn.fetchval(
            "SELECT targets FROM content_pipelines WHERE tenant_id = $1 AND id = $2", tenant_id, pipeline_id
        )
        return [t for t in (targets or []) if isinstance(t, dict)]
