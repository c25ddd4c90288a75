"""Every status name the platform stores, in one place.

The database's CHECK constraints, the Python code and the OpenAPI schema all use these enums (a test
compares each CHECK constraint with its enum), so a status cannot be spelled two ways or exist in one
layer only. They are ``StrEnum``: a member compares equal to its string and serialises as it.
"""

from __future__ import annotations

from enum import StrEnum


class PipelineStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BACKFILL = "backfill"


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def active(cls) -> tuple[RunStatus, ...]:
        """Statuses of a run that holds its pipeline (and counts against the tenant's bound)."""
        return (cls.PENDING, cls.RUNNING)

    @classmethod
    def finished(cls) -> tuple[RunStatus, ...]:
        return (cls.COMPLETED, cls.FAILED, cls.CANCELLED)


class RowStatus(StrEnum):
    """A plan row within one run (``run_rows``)."""

    PENDING = "pending"
    PLANNING = "planning"
    PLANNED = "planned"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"
    INVALID = "invalid"

    @classmethod
    def retryable(cls) -> tuple[RowStatus, ...]:
        """Rows a retry of the run takes again."""
        return (cls.FAILED, cls.INVALID)


class ArticleStatus(StrEnum):
    PENDING = "pending"
    WRITING = "writing"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    READY = "ready"
    PUBLISHED = "published"
    FAILED = "failed"


class PostStatus(StrEnum):
    PENDING = "pending"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    WAITING_QUOTA = "waiting_quota"
    NEEDS_REAUTH = "needs_reauth"
    DRY_RUN = "dry_run"
    UNKNOWN = "unknown"
    SCHEDULED = "scheduled"
    """Waits for its publish time (``not_before``), set when the article was approved or moved since."""

    @classmethod
    def resting(cls) -> tuple[PostStatus, ...]:
        """Statuses a publish call does not move on from by itself."""
        return (cls.PUBLISHED, cls.DRY_RUN, cls.FAILED, cls.NEEDS_REAUTH)


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    REVOKED = "revoked"


class DeliveryStatus(StrEnum):
    """A webhook delivery."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


# (table, column) → the enum its CHECK constraint must list exactly (tests/foundation/test_statuses.py).
CHECKED: dict[tuple[str, str], type[StrEnum]] = {
    ("content_pipelines", "status"): PipelineStatus,
    ("pipeline_runs", "kind"): RunKind,
    ("pipeline_runs", "status"): RunStatus,
    ("run_rows", "status"): RowStatus,
    ("generated_articles", "status"): ArticleStatus,
    ("posts", "status"): PostStatus,
    ("api_credentials", "status"): CredentialStatus,
    ("webhook_deliveries", "status"): DeliveryStatus,
    ("tenants", "status"): TenantStatus,
}
