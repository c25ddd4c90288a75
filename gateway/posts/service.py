from __future__ import annotations

from typing import Any
from uuid import UUID

from icop.errors import NotFound

from ..context import Tx
from ..pagination import decode_cursor, page_of
from .repository import PostRepository
from .schemas import PostOut

repo = PostRepository()


async def list_page(
    tx: Tx,
    *,
    platform: str | None,
    status: str | None,
    article_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows = await repo.list(
        tx.conn,
        tx.tenant_id,
        platform=platform,
        status=status,
        article_id=article_id,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return page_of(rows, limit, lambda r: PostOut(**dict(r)))


async def get(tx: Tx, post_id: UUID) -> PostOut:
    row = await repo.get(tx.conn, tx.tenant_id, post_id)
    if row is None:
        raise NotFound("no such post")
    return PostOut(**dict(row))
