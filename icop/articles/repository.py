"""Every SQL statement about generated articles used outside the gateway."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def set_markdown_location(conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID, key: str,
                                url: str) -> bool:  # fmt: skip
    status: str = await conn.execute(
        "UPDATE generated_articles SET markdown_key = $3, markdown_url = $4, updated_at = now() "
        "WHERE tenant_id = $1 AND id = $2",
        tenant_id, article_id, key, url,
    )  # fmt: skip
    return status == "UPDATE 1"


async def mark_offline_content(conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> None:
    """The article holds text or images of an offline provider: it can never be published for real.
    Never cleared: what was made offline stays in the article's history (graph state, images)."""
    await conn.execute(
        "UPDATE generated_articles SET offline_content = true, updated_at = now() "
        "WHERE tenant_id = $1 AND id = $2 AND NOT offline_content",
        tenant_id, article_id,
    )  # fmt: skip


async def offline_content(conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> bool:
    """Whether the article holds text or images of an offline provider (never published for real)."""
    return bool(
        await conn.fetchval(
            "SELECT offline_content FROM generated_articles WHERE tenant_id = $1 AND id = $2",
            tenant_id,
            article_id,
        )  # fmt: skip
    )


async def material(conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> asyncpg.Record | None:
    """What the article's Markdown and posts are made from now: the graph's state, the title and SEO
    fields (a person may have changed them before approval), the edited text, and the stored Markdown."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT graph_state, title, seo, edited_body, language, markdown_key, markdown_url
             FROM generated_articles WHERE tenant_id = $1 AND id = $2""",
        tenant_id, article_id,
    )  # fmt: skip
    return row


async def image_urls(conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID) -> list[str]:
    """The stored images' URLs, in their order in the article."""
    rows = await conn.fetch(
        "SELECT url FROM images WHERE tenant_id = $1 AND article_id = $2 ORDER BY position",
        tenant_id, article_id,
    )  # fmt: skip
    return [str(r["url"]) for r in rows]
