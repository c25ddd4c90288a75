"""The final article Markdown is stored beside its images (``tenants/{t}/articles/{id}.md``) and its
URL kept on the article row."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.errors import NotFound
from icop.storage import ObjectStore, StoredObject, put_article_markdown

from . import repository


async def store_article_markdown(
    pool: asyncpg.Pool, store: ObjectStore, tenant_id: UUID, article_id: UUID, markdown: str
) -> StoredObject:
    """Write the Markdown (idempotent: the same key every time) and record its key and URL."""
    stored = await asyncio.to_thread(put_article_markdown, store, tenant_id, article_id, markdown)
    async with tenant_tx(pool, tenant_id) as conn:
        if not await repository.set_markdown_location(conn, tenant_id, article_id, stored.key, stored.url):
            raise NotFound(f"article {article_id} does not exist for this tenant")
    return stored
