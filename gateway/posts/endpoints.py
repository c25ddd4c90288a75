from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from icop.statuses import PostStatus

from ..context import EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import PostOut, PostPlatform, PostSchedule

router = APIRouter(prefix="/v1/posts", tags=["posts"], responses=errors(401, 403, 422, 429))


@router.get(
    "", response_model=Page[PostOut], summary="List posts by platform, status, article, run, text or date"
)
async def list_posts(
    tx: ViewerTx,
    platform: PostPlatform | None = None,
    status: PostStatus | None = None,
    article_id: UUID | None = None,
    run_id: UUID | None = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text in the post or the article's title."),
    ] = None,
    since: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Created before.")] = None,
    account_id: Annotated[str | None, Query(max_length=200, description="The platform's account id.")] = None,
    calendar_since: Annotated[
        datetime | None, Query(description="calendar_at at or after (a calendar's first day).")
    ] = None,
    calendar_until: Annotated[
        datetime | None, Query(description="calendar_at before (the day after a calendar's last).")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PostOut]:
    page = await service.list_page(
        tx, platform=platform, status=status, article_id=article_id, run_id=run_id, q=q, since=since,
        until=until, account_id=account_id, calendar_since=calendar_since, calendar_until=calendar_until,
        cursor=cursor, limit=limit,
    )  # fmt: skip
    return Page[PostOut](**page)


@router.get("/{post_id}", response_model=PostOut, responses=errors(404), summary="Get a post")
async def get_post(post_id: UUID, tx: ViewerTx) -> PostOut:
    return await service.get(tx, post_id)


@router.post(
    "/{post_id}/retry", status_code=202, response_model=PostOut, responses=errors(404, 409, 503),
    summary="Send a failed post again",
    description="For a failed post (or one whose account needed reconnecting): it goes back to pending and "
    "is published as the article's workflow publishes it, with its text, Markdown link and images built "
    "again. The platform never gets it twice. 409 for a post in any other state.",
)  # fmt: skip
async def retry_post(post_id: UUID, tx: EditorTx) -> PostOut:
    return await service.retry(tx, post_id)


@router.patch(
    "/{post_id}", response_model=PostOut, responses=errors(404, 409, 503),
    summary="Move a scheduled post to another publish time",
    description="For a post that is scheduled (its article was approved with a publish time) and not "
    "published yet; its workflow publishes it at the new time. 409 for a post in any other state; 503 "
    "when the workflow engine cannot be reached (nothing is changed then).",
)  # fmt: skip
async def reschedule_post(post_id: UUID, body: PostSchedule, tx: EditorTx) -> PostOut:
    return await service.reschedule(tx, post_id, body.publish_at)
