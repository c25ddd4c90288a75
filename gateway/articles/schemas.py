from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

ArticleStatus = Literal[
    "pending", "writing", "awaiting_approval", "approved", "rejected", "ready", "published", "failed"
]


class ArticleSummary(BaseModel):
    id: UUID
    pipeline_id: UUID | None
    run_id: UUID | None
    subtopic_id: UUID | None
    language: str
    title: str
    status: ArticleStatus
    mode: Literal["compare", "merge"]
    markdown_url: str | None
    created_at: datetime
    updated_at: datetime


class ImageOut(BaseModel):
    id: UUID
    position: int
    url: str
    width: int
    height: int
    provider: str


class ArticleOut(ArticleSummary):
    markdown_key: str | None
    seo: dict[str, Any]
    error: str | None
    images: list[ImageOut]
