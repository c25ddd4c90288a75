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
