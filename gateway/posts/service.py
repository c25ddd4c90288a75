from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from icop.errors import Conflict, NotFound
from icop.runs.service import EngineUnavailable
from icop.social import repository as social_repo

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
    run_id: UUID | None = None,
    q: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows = await repo.list(
        tx.conn,
        tx.tenant_id,
        platform=platform,
        status=status,
        article_id=article_id,
        run_id=run_id,
        q=q,
        since=since,
        until=until,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return page_of(rows, limit, lambda r: PostOut(**dict(r)))


async def get(tx: Tx, post_id: UUID) -> PostOut:
    row = await repo.get(tx.conn, tx.tenant_id, post_id)
    if row is None:
        raise NotFound("no such post")
    return PostOut(**dict(row))


async def retry(tx: Tx, post_id: UUID) -> PostOut:
    """A failed post (or one whose account needed reconnecting) sent again: back to ``pending`` here, then
    published by a PostRetryWorkflow as the article's own workflow publishes (one post per target, so
    never twice)."""
    row = await repo.get(tx.conn, tx.tenant_id, post_id)
    if row is None:
        raise NotFound("no such post")
    retrier = tx.services.engine.post_retrier
    if retrier is None:
        raise EngineUnavailable(
            "no workflow engine runs here (ICOP_WORKFLOW_ENGINE=none): posts cannot be sent"
        )
    reopened = await social_repo.reopen_post(tx.conn, tx.tenant_id, post_id)
    if reopened is None:
        raise Conflict(
            f"this post is {row['status']}; only failed posts (or those whose account needed reconnecting) "
            "can be retried",
            code="post.not_retryable",
            params={"status": row["status"]},
        )
    await retrier.start(tx.tenant_id, post_id, int(reopened["attempts"]))
    now = await repo.get(tx.conn, tx.tenant_id, post_id)
    assert now is not None
    return PostOut(**dict(now))
