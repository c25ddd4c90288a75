from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from icop.statuses import PostStatus

PostPlatform = Literal["facebook", "instagram", "threads", "x"]


class PostTimeChoice(BaseModel):
    """Why a post goes out at a learnt best hour rather than at once (the pipeline's learn_times)."""

    mode: Literal["best_hour"]
    at: datetime = Field(description="The publish time it was given.")
    platform: PostPlatform
    timezone: str = Field(description="The tenant's time zone, in which the hours are counted.")
    hour: int = Field(description="The local hour it was scheduled at (0-23).")
    engagement_rate: float = Field(description="The engagement rate of the tenant's posts at that hour.")
    hour_posts: int = Field(description="How many posts that rate comes from.")
    overall_rate: float = Field(description="The engagement rate of all its measured posts on the platform.")
    posts: int = Field(description="How many measured posts the hours were learnt from.")
    best_hours: list[int] = Field(description="The best hours, best first.")


class PostOut(BaseModel):
    id: UUID
    article_id: UUID
    article_title: str | None = Field(default=None, description="The title of the article it is made from.")
    run_id: UUID | None = Field(default=None, description="The run that wrote the article.")
    platform: PostPlatform
    account_id: str
    status: PostStatus
    platform_post_id: str | None
    permalink: str | None
    text: str
    media_urls: list[str]
    attempts: int
    error: str | None
    error_code: str | None = Field(
        default=None,
        description="The error (or why the post waits) as a stable code: post.refused, post.reauth, "
        "post.token_expired, post.rate_limited, post.temporary_failure, post.media_unreachable, "
        "post.no_answer, post.reconcile_failed, post.offline_content, quota.window, quota.platform, "
        "quota.x_monthly_cap, quota.x_budget.",
    )
    error_params: dict[str, Any] = Field(
        default_factory=dict,
        description="The values the error names (platform, account, the platform's message).",
    )
    cost_usd: Decimal
    not_before: datetime | None = Field(
        description="scheduled: its publish time; waiting for quota or a retry: when it is tried again."
    )
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    time_choice: PostTimeChoice | None = Field(
        default=None,
        description="Scheduled at a learnt best hour rather than sent at once (the pipeline's learn_times): "
        "when and why; cleared when a person moves the post.",
    )
    calendar_at: datetime = Field(
        description="Where the post sits on a calendar: published_at when published, not_before when "
        "scheduled, otherwise updated_at (e.g. when it failed)."
    )


class PostSchedule(BaseModel):
    publish_at: AwareDatetime = Field(
        description="The post's new publish time (with a time zone or offset; stored in UTC; in the future, "
        "at most 366 days ahead)."
    )
