from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from ..context import ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import ArticleOut, ArticleStatus, ArticleSummary

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
    summary="Get an article with its Markdown location and image URLs",
)
async def get_article(article_id: UUID, tx: ViewerTx) -> ArticleOut:
    return await service.get(tx, article_id)
