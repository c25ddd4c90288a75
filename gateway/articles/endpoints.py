from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from icop.statuses import ArticleStatus

from ..context import EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import (
    ApproveBody,
    ArticleEdit,
    ArticleOut,
    ArticleSummary,
    DraftChoice,
    PreviewOut,
    RejectBody,
)

router = APIRouter(prefix="/v1/articles", tags=["articles"], responses=errors(401, 403, 422, 429))


@router.get("", response_model=Page[ArticleSummary], summary="List articles with filters, newest first")
async def list_articles(
    tx: ViewerTx,
    status: ArticleStatus | None = None,
    pipeline_id: UUID | None = None,
    run_id: UUID | None = None,
    language: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z-]+$")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ArticleSummary]:
    page = await service.list_page(
        tx,
        status=status,
        pipeline_id=pipeline_id,
        run_id=run_id,
        language=language,
        cursor=cursor,
        limit=limit,
    )
    return Page[ArticleSummary](**page)


@router.get(
    "/{article_id}",
    response_model=ArticleOut,
    responses=errors(404),
    summary="Get an article: its Markdown, images, the writers' drafts and the editor's decision",
)
async def get_article(article_id: UUID, tx: ViewerTx) -> ArticleOut:
    return await service.get(tx, article_id)


@router.get(
    "/{article_id}/images/{position}",
    response_class=Response,
    responses={
        200: {
            "description": "The image (JPEG).",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        },
        **errors(404),
    },
    summary="An article's image (JPEG bytes), by position",
)
async def get_article_image(
    article_id: UUID, position: Annotated[int, Path(ge=0, le=1000)], tx: ViewerTx
) -> Response:
    data = await service.image_bytes(tx, article_id, position)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/{article_id}/previews",
    response_model=list[PreviewOut],
    responses=errors(404),
    summary="Each target's post text with its length as the platform counts it",
    description="From the posts when they exist, else composed exactly as the publisher will compose them "
    "(same limits, per-account overrides included). X counts weighted characters (twitter-text).",
)
async def get_article_previews(article_id: UUID, tx: ViewerTx) -> list[PreviewOut]:
    return await service.previews(tx, article_id)


@router.patch(
    "/{article_id}",
    response_model=ArticleOut,
    responses=errors(404, 409, 503),
    summary="Edit an article that awaits approval: its title, summary or text",
    description="The stored Markdown is rendered again at once, and the posts are made from the article "
    "as approved. 409 once the article no longer awaits approval.",
)
async def edit_article(article_id: UUID, change: ArticleEdit, tx: EditorTx) -> ArticleOut:
    return await service.edit(tx, article_id, change)


@router.post(
    "/{article_id}/draft",
    response_model=ArticleOut,
    responses=errors(404, 409, 503),
    summary="Make another writer's draft the article, before approving it",
    description="The draft's heading becomes the title and its text the article's; the summary stays. "
    "409 once the article no longer awaits approval; 422 when it has no draft by that writer.",
)
async def choose_draft(article_id: UUID, choice: DraftChoice, tx: EditorTx) -> ArticleOut:
    return await service.choose_draft(tx, article_id, choice.writer)


@router.post(
    "/{article_id}/approve",
    status_code=202,
    response_model=ArticleOut,
    responses=errors(404, 409, 503),
    summary="Approve an article that awaits approval (its workflow then publishes it, or schedules it)",
    description="With publish_at, its posts wait as scheduled until then. 409 unless the article is "
    "awaiting_approval; 503 when the workflow engine cannot be reached (nothing is recorded then).",
)
async def approve_article(article_id: UUID, tx: EditorTx, body: ApproveBody | None = None) -> ArticleOut:
    return await service.decide(tx, article_id, approved=True, publish_at=body.publish_at if body else None)


@router.post(
    "/{article_id}/reject",
    status_code=202,
    response_model=ArticleOut,
    responses=errors(404, 409, 503),
    summary="Reject an article that awaits approval (it is not published)",
    description="409 unless the article is awaiting_approval; 503 when the workflow engine cannot be "
    "reached (nothing is recorded then).",
)
async def reject_article(article_id: UUID, body: RejectBody, tx: EditorTx) -> ArticleOut:
    return await service.decide(tx, article_id, approved=False, reason=body.reason)


@router.post(
    "/{article_id}/regenerate",
    status_code=202,
    response_model=ArticleOut,
    responses=errors(404, 409, 503),
    summary="Write an article awaiting approval again (new research, drafts and editor's choice)",
    description="The article goes back to `writing`, an editor's changes are dropped, and it awaits "
    "approval again once written. 409 unless the article is awaiting_approval; 503 when the workflow "
    "engine cannot be reached (nothing is recorded then).",
)
async def regenerate_article(article_id: UUID, tx: EditorTx) -> ArticleOut:
    return await service.regenerate(tx, article_id)
