"""The article Markdown is stored beside its images and its URL kept on the article row."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from icop.articles.markdown import store_article_markdown
from icop.db import tenant_tx
from icop.errors import NotFound
from icop.storage import S3Store


async def _article(pool: asyncpg.Pool) -> tuple[uuid.UUID, uuid.UUID]:
    tenant, article = uuid.uuid4(), uuid.uuid4()
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'md')", tenant)
        await conn.execute(
            "INSERT INTO generated_articles (id, tenant_id, title) VALUES ($1, $2, 'T')", article, tenant
        )
    return tenant, article


async def test_markdown_beside_images_on_s3_and_url_on_the_row(
    app_pool: asyncpg.Pool, s3_store: S3Store
) -> None:
    s3_store.ensure_bucket(public_read=True)
    tenant, article = await _article(app_pool)
    md = "---\ntitle: 커피\n---\n\n# 커피\n\n![cover](https://cdn.example/x.jpg)\n"
    stored = await store_article_markdown(app_pool, s3_store, tenant, article, md)
    assert stored.key == f"tenants/{tenant}/articles/{article}.md"
    async with httpx.AsyncClient() as http:
        r = await http.get(stored.url)
    assert r.status_code == 200 and r.content.decode() == md
    async with tenant_tx(app_pool, tenant) as conn:
        row = await conn.fetchrow(
            "SELECT markdown_key, markdown_url FROM generated_articles WHERE id = $1", article
        )
    assert (row["markdown_key"], row["markdown_url"]) == (stored.key, stored.url)
    # Another tenant cannot attach Markdown to this article.
    other, _ = await _article(app_pool)
    with pytest.raises(NotFound):
        await store_article_markdown(app_pool, s3_store, other, article, "# nope")
