from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

Platform = Literal["facebook", "instagram", "threads", "x"]
MetricsState = Literal["none", "collecting", "done", "stopped"]
ThresholdMetric = Literal["impressions", "engagement", "likes", "comments", "shares"]
SummaryGroup = Literal["day", "platform", "pipeline", "subtopic"]
PostSort = Literal["engagement", "impressions", "published_at"]

METRICS_CODE = (
    "Why collection stopped or waits, as a stable code: insights.post_deleted (deleted on the platform), "
    "insights.permission_lost (the account's insights permission was taken back; resumes when it is "
    "connected again), insights.account_needs_reauth, insights.rate_limited, insights.temporary_failure, "
    "insights.x_budget, insights.refused. Null while all is well."
)


class PostAnalytics(BaseModel):
    post_id: UUID
    article_id: UUID
    article_title: str | None = None
    pipeline_id: UUID | None = None
    run_id: UUID | None = None
    subtopic_id: UUID | None = None
    platform: Platform
    account_id: str
    permalink: str | None
    published_at: datetime | None
    impressions: int | None = Field(description="Latest collected views / impressions (null: none yet).")
    engagement: int | None = Field(
        description="Latest collected interactions: likes + comments + shares + saves + clicks."
    )
    engagement_rate: float | None = Field(description="engagement / impressions (null without impressions).")
    metrics_state: MetricsState = Field(
        description="none (not published), collecting, done (the last age was collected) or stopped."
    )
    metrics_collections: int
    metrics_collected_at: datetime | None
    metrics_next_at: datetime | None = Field(description="When the next collection is due.")
    metrics_code: str | None = Field(default=None, description=METRICS_CODE)
    metrics_params: dict[str, Any] = Field(
        default_factory=dict, description="What the code names (platform, account, the platform's message)."
    )


class MetricsPoint(BaseModel):
    collected_at: datetime
    age_s: int = Field(description="The post's age at collection, in seconds.")
    impressions: int | None
    reach: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    clicks: int | None
    engagement: int


class PostMetricsSeries(BaseModel):
    post: PostAnalytics
    points: list[MetricsPoint] = Field(description="Every collection, oldest first (lifetime figures).")


class SummaryItem(BaseModel):
    key: str | None = Field(
        description="The group: a UTC day (YYYY-MM-DD), a platform, or a pipeline or sub-topic id (null: "
        "posts not tied to one)."
    )
    label: str | None = Field(default=None, description="The pipeline's name or the sub-topic's label.")
    posts: int = Field(description="Published posts with at least one collection.")
    impressions: int
    engagement: int
    engagement_rate: float | None = Field(description="engagement / impressions.")


class SummaryOut(BaseModel):
    group_by: SummaryGroup
    since: datetime | None
    until: datetime | None
    items: list[SummaryItem] = Field(description="By day oldest first; otherwise most engagement first.")


class ThresholdIn(BaseModel):
    metric: ThresholdMetric
    value: int = Field(gt=0, le=10**12, description="The post's metric at or above which the event fires.")
    platform: Platform | None = Field(default=None, description="Only posts on this platform (null: all).")


class ThresholdOut(BaseModel):
    id: UUID
    metric: ThresholdMetric
    value: int
    platform: Platform | None
    created_at: datetime
    hits: int = Field(description="Posts that reached it so far (each announced once).")
