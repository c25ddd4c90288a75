from __future__ import annotations

from typing import Any
from uuid import UUID

from icop.errors import NotFound

from ..context import Tx
from ..pagination import decode_cursor, page_of
from .repository import ArticleRepository
from .schemas import ArticleOut, ArticleSummary, ImageOut

repo = ArticleRepository()


async def list_page(
    tx: Tx,
    *,
    status: str | None,
    pipeline_id: UUID | None,
    run_id: UUID | None,
    language: str | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows = await repo.list(
        tx.conn,
        tx.tenant_id,
        status=status,
        pipeline_id=pipeline_id,
        run_id=run_id,
        language=language,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return page_of(rows, limit, lambda r: ArticleSummary(**dict(r)))


async def get(tx: Tx, article_id: UUID) -> ArticleOut:
    row = await repo.get(tx.conn, tx.tenant_id, article_id)
    if row is None:
        raise NotFound("no such article")
    images = [ImageOut(**dict(i)) for i in await repo.images(tx.conn, tx.tenant_id, article_id)]
    return ArticleOut(**dict(row), images=images)
