"""The final article Markdown is stored beside its images (``tenants/{t}/articles/{id}.md``) and its
URL kept on the article row. It is rendered from the graph's state and, once a person edited the article
before approval, from the title and text they left (:func:`article_markdown`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.errors import NotFound
from icop.storage import ObjectStore, StoredObject, put_article_markdown

from . import repository
from .layout import render_markdown, title_and_body


def current_body(graph_state: Mapping[str, Any], edited_body: str | None) -> str:
    """The article's text under its title: as a person edited it, else as the graph finished it."""
    if edited_body is not None:
        return edited_body
    return title_and_body(str(graph_state.get("article") or ""))[1]


def article_markdown(
    graph_state: Mapping[str, Any],
    *,
    title: str,
    seo: Mapping[str, Any],
    edited_body: str | None,
    image_urls: Sequence[str],
) -> str:
    """The final Markdown: the graph's state with the row's title and SEO fields (a person may have
    changed them) and, once the article was edited, the title over the edited text."""
    state = dict(graph_state)
    state["seo"] = {**(graph_state.get("seo") or {}), **seo}
    if edited_body is not None:
        state["article"] = f"# {title}\n\n{edited_body}"
    state["image_urls"] = list(image_urls)
    return render_markdown(state)


async def store_article_markdown(
    pool: asyncpg.Pool, store: ObjectStore, tenant_id: UUID, article_id: UUID, markdown: str
) -> StoredObject:
    """Write the Markdown (idempotent: the same key every time) and record its key and URL."""
    stored = await asyncio.to_thread(put_article_markdown, store, tenant_id, article_id, markdown)
    async with tenant_tx(pool, tenant_id) as conn:
        if not await repository.set_markdown_location(conn, tenant_id, article_id, stored.key, stored.url):
            raise NotFound(f"article {article_id} does not exist for this tenant")
    return stored
