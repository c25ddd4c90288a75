from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from icop.events.schemas import EVENT_TYPES
from icop.statuses import DeliveryStatus

NO_NUL = r"^[^\x00]*$"


def _known_types(v: list[str] | None) -> list[str] | None:
    if v is None:
        return v
    unknown = sorted(set(v) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return sorted(set(v))


class WebhookCreate(BaseModel):
    url: str = Field(
        min_length=8, max_length=2048, pattern=NO_NUL, description="https:// URL of the receiver."
    )
    event_types: list[str] = Field(
        default_factory=list, max_length=len(EVENT_TYPES), description="Event types to send; empty: all."
    )
    description: str = Field(default="", max_length=500, pattern=NO_NUL)
    enabled: bool = True

    _check_types = field_validator("event_types")(_known_types)


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, min_length=8, max_length=2048, pattern=NO_NUL)
    event_types: list[str] | None = Field(default=None, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=500, pattern=NO_NUL)
    enabled: bool | None = Field(
        default=None, description="true re-enables an endpoint (failure count reset)."
    )

    _check_types = field_validator("event_types")(_known_types)


class WebhookOut(BaseModel):
    """A webhook endpoint. The signing secret is never part of it (only of the creation response)."""

    id: UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Signing secret (Standard Webhooks, whsec_…). Shown only in this response; store it now."
    )


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str = Field(description="The first 1 KiB of the receiver's answer.")


class DeliveryOut(BaseModel):
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut]
