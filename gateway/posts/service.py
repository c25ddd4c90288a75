from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from temporalio.service import RPCError, RPCStatusCode

from icop.errors import Conflict, NotFound
from icop.runs.service import EngineUnavailable
from icop.social import repository as social_repo
from icop.social.schedule import publish_time
from workflows.types import Reschedule, article_workflow_id

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
    account_id: str | None = None,
    calendar_since: datetime | None = None,
    calendar_until: datetime | None = None,
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
        account_id=account_id,
        calendar_since=calendar_since,
        calendar_until=calendar_until,
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


async def reschedule(tx: Tx, post_id: UUID, publish_at: datetime) -> PostOut:
    """A scheduled post's new publish time: stored on the post and sent to the article's workflow, in one
    transaction (if the signal cannot be delivered, nothing changes). The publisher never sends a
    scheduled post before its stored time, so a move that crosses the workflow's own timer still holds."""
    row = await repo.lock_for_schedule(tx.conn, tx.tenant_id, post_id)
    if row is None:
        raise NotFound("no such post")
    if row["status"] != "scheduled":
        raise Conflict(
            f"this post is {row['status']}; only a scheduled post (approved with a publish time and not "
            "published yet) can be given another publish time"
        )
    if row["run_id"] is None or row["subtopic_id"] is None:
        raise Conflict("this post's article was not written by a pipeline run: no workflow publishes it")
    at = publish_time(publish_at, datetime.now(UTC))
    signaller = tx.services.engine.approvals
    if signaller is None:
        raise EngineUnavailable(
            "a publish time reaches the article's workflow, and this gateway runs without a workflow engine "
            "(ICOP_WORKFLOW_ENGINE=none)"
        )
    await social_repo.reschedule_post(tx.conn, tx.tenant_id, post_id, at)
    await repo.clear_time_choice(tx.conn, tx.tenant_id, post_id)  # a person's time, not a learnt one
    await repo.audit(
        tx.conn, tx.tenant_id, tx.who.actor_id, tx.who.actor_kind, "post.rescheduled", post_id,
        {"publish_at": at.isoformat()},
    )  # fmt: skip
    wid = article_workflow_id(str(row["run_id"]), str(row["subtopic_id"]))
    try:
        await signaller.reschedule(wid, Reschedule(row["platform"], row["account_id"], at.isoformat()))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(
                "the article's workflow is no longer running (cancelled or timed out); nothing was changed"
            ) from None
        raise EngineUnavailable(f"the new time could not be delivered ({e.status.name}); try again") from None
    except (OSError, RuntimeError) as e:  # connection refused, timeouts
        raise EngineUnavailable(
            f"the new time could not be delivered ({type(e).__name__}); try again"
        ) from None
    return await get(tx, post_id)
