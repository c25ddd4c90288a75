"""Event types and their payload schemas (version 1). docs/events.md documents the same list.

A payload model is the ``data`` of an event; the envelope (id, type, tenant, time, version) is the same
for every type. Adding a field with a default keeps the version; changing or removing one is a new version.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunEvent(_Payload):
    run_id: UUID
    status: Literal["running", "completed", "failed", "cancelled"]
    progress: dict[str, Any] = {}
    error: str | None = None


class SubtopicsReady(_Payload):
    run_id: UUID
    row_number: int
    subtopic_ids: list[UUID]


class ArticleEvent(_Payload):
    article_id: UUID
    status: Literal["ready", "awaiting_approval"]


class PostEvent(_Payload):
    post_id: UUID
    article_id: UUID
    platform: str
    account_id: str
    status: Literal["published", "failed", "waiting_quota"]
    platform_post_id: str | None = None
    permalink: str | None = None
    reason: str | None = None
    not_before: datetime | None = None


class CredentialNeedsReauth(_Payload):
    credential_id: UUID
    platform: str
    account_id: str
    reason: str


class PipelinePaused(_Payload):
    pipeline_id: UUID
    reason: str


class ModelKeyPaused(_Payload):
    provider: str  # gpt | claude | gemini
    code: str  # model_key.rejected (401/403) | model_key.quota (quota or credits used up)
    reason: str  # what to do, in English (the code words it in the dashboard's language)


class BudgetNotice(_Payload):
    level: str  # warning (80 %) | exhausted (100 %: new articles wait)
    budget_usd: Decimal
    spent_usd: Decimal
    month: date


class QuotaNearlyExhausted(_Payload):
    platform: str
    account_id: str
    used: float
    limit: float
    window: str


class EngagementThreshold(_Payload):
    post_id: UUID
    article_id: UUID
    platform: str
    account_id: str
    threshold_id: UUID
    metric: str  # impressions | engagement | likes | comments | shares
    threshold: int
    value: int


class EndpointDisabled(_Payload):
    endpoint_id: UUID
    url: str
    reason: str


EVENT_TYPES: dict[str, type[_Payload]] = {
    "run.started": RunEvent,
    "run.progress": RunEvent,
    "run.completed": RunEvent,
    "run.failed": RunEvent,
    "run.cancelled": RunEvent,
    "subtopics.ready": SubtopicsReady,
    "article.ready": ArticleEvent,
    "article.awaiting_approval": ArticleEvent,
    "post.published": PostEvent,
    "post.failed": PostEvent,
    "post.waiting_quota": PostEvent,
    "post.engagement_threshold": EngagementThreshold,
    "credential.needs_reauth": CredentialNeedsReauth,
    "pipeline.paused": PipelinePaused,
    "model_key.paused": ModelKeyPaused,
    "quota.nearly_exhausted": QuotaNearlyExhausted,
    "budget.warning": BudgetNotice,
    "budget.exhausted": BudgetNotice,
    "webhook.endpoint_disabled": EndpointDisabled,
}
SCHEMA_VERSION = 1


class Envelope(BaseModel):
    """What every consumer receives (webhook body, RabbitMQ message body, SSE ``data:``)."""

    id: UUID
    type: str
    tenant_id: UUID
    occurred_at: datetime
    version: int
    data: dict[str, Any]


def validate_payload(event_type: str, data: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The JSON form of ``data`` after checking it against the type's schema; unknown types are refused."""
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise ValueError(f"unknown event type {event_type!r}")
    obj = data if isinstance(data, model) else model.model_validate(data)
    return obj.model_dump(mode="json")
