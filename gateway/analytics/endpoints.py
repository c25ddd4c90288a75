"""Engagement analytics: published posts with their latest collected figures (filtered, sorted, paginated),
one post's series, summaries by day, platform, pipeline or sub-topic, and the tenant's engagement thresholds
(event ``post.engagement_threshold``, once per post and threshold)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ..context import EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .repository import AnalyticsRepository
from .schemas import (
    Platform,
    PostAnalytics,
    PostMetricsSeries,
    PostSort,
    SummaryGroup,
    SummaryOut,
    ThresholdIn,
    ThresholdOut,
)

router = APIRouter(tags=["analytics"], responses=errors(401, 403, 422, 429))

Since = Annotated[datetime | None, Query(description="Published at or after (ISO 8601).")]
Until = Annotated[datetime | None, Query(description="Published before (ISO 8601).")]
AccountQ = Annotated[str | None, Query(max_length=200, description="The platform's account id.")]


@router.get(
    "/v1/analytics/posts", response_model=Page[PostAnalytics],
    summary="Published posts with their latest engagement, best first",
    description="Each published post's latest collected figures (collected at 1 h, 6 h, 24 h, 7 d and 28 d "
    "of age), its collection state and, when collection stopped or waits, why (metrics_code). Sorted by "
    "engagement (default), impressions or publish time, newest or largest first; posts without figures yet "
    "come last. Pass next_cursor as cursor for the next page.",
)  # fmt: skip
async def list_post_analytics(
    tx: ViewerTx,
    platform: Platform | None = None,
    account_id: AccountQ = None,
    pipeline_id: UUID | None = None,
    run_id: UUID | None = None,
    since: Since = None,
    until: Until = None,
    sort: PostSort = "engagement",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PostAnalytics]:
    filters = AnalyticsRepository.filters(platform, account_id, pipeline_id, run_id, since, until)
    return Page[PostAnalytics](**await service.list_posts(tx, filters, sort, cursor, limit))


@router.get(
    "/v1/analytics/summary", response_model=SummaryOut,
    summary="Engagement summed by day, platform, pipeline or sub-topic",
    description="The latest figures of the published posts collected at least once, summed per group, with "
    "the same filters as /v1/analytics/posts. Days are UTC days of publishing.",
)  # fmt: skip
async def get_summary(
    tx: ViewerTx,
    group_by: SummaryGroup = "day",
    platform: Platform | None = None,
    account_id: AccountQ = None,
    pipeline_id: UUID | None = None,
    run_id: UUID | None = None,
    since: Since = None,
    until: Until = None,
) -> SummaryOut:
    filters = AnalyticsRepository.filters(platform, account_id, pipeline_id, run_id, since, until)
    return await service.summary(tx, filters, group_by)


@router.get(
    "/v1/posts/{post_id}/metrics", response_model=PostMetricsSeries, responses=errors(404),
    summary="A post's engagement over time",
    description="Every collection of the post's lifetime figures, oldest first, with its age at each.",
)  # fmt: skip
async def get_post_metrics(post_id: UUID, tx: ViewerTx) -> PostMetricsSeries:
    return await service.series(tx, post_id)


@router.get(
    "/v1/engagement-thresholds", response_model=list[ThresholdOut], summary="List engagement thresholds"
)
async def list_thresholds(tx: ViewerTx) -> list[ThresholdOut]:
    return await service.list_thresholds(tx)


@router.post(
    "/v1/engagement-thresholds", status_code=201, response_model=ThresholdOut, responses=errors(409),
    summary="Be told when a post reaches a figure",
    description="When a collected post's metric reaches the value (on one platform, or any), the event "
    "post.engagement_threshold is sent once for that post and threshold (webhooks, live stream). At most "
    f"{service.MAX_THRESHOLDS} per tenant (409 threshold.too_many).",
)  # fmt: skip
async def add_threshold(body: ThresholdIn, tx: EditorTx) -> ThresholdOut:
    return await service.add_threshold(tx, body)


@router.delete(
    "/v1/engagement-thresholds/{threshold_id}", status_code=204, responses=errors(404),
    summary="Remove an engagement threshold",
)  # fmt: skip
async def delete_threshold(threshold_id: UUID, tx: EditorTx) -> Response:
    await service.delete_threshold(tx, threshold_id)
    return Response(status_code=204)
