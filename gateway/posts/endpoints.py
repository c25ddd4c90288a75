from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from icop.statuses import PostStatus

from ..context import ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import PostOut, PostPlatform

router = APIRouter(prefix="/v1/posts", tags=["posts"], responses=errors(401, 403, 422, 429))


@router.get("", response_model=Page[PostOut], summary="List posts by platform, status or article")
async def list_posts(
    tx: ViewerTx,
    platform: PostPlatform | None = None,
    status: PostStatus | None = None,
    article_id: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PostOut]:
    page = await service.list_page(
        tx, platform=platform, status=status, article_id=article_id, cursor=cursor, limit=limit
    )
    return Page[PostOut](**page)


@router.get("/{post_id}", response_model=PostOut, responses=errors(404), summary="Get a post")
async def get_post(post_id: UUID, tx: ViewerTx) -> PostOut:
    return await service.get(tx, post_id)
