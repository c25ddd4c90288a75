"""The events that existing state changes emit, each called inside the transaction of that change.

Kept here so that the modules that change state need one line each (see docs/events.md for the list).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from .outbox import emit
from .schemas import (
    ArticleEvent,
    BudgetNotice,
    CredentialNeedsReauth,
    EngagementThreshold,
    ModelKeyPaused,
    PipelinePaused,
    PostEvent,
    QuotaNearlyExhausted,
    RunEvent,
    SubtopicsReady,
)

NEARLY = 0.8  # share of a quota whose crossing is announced (once per crossing)

RUN_TRANSITIONS = {"running": "run.started", "completed": "run.completed", "failed": "run.failed",
                   "cancelled": "run.cancelled"}  # fmt: skip
ARTICLE_EVENTS = {"ready": "article.ready", "awaiting_approval": "article.awaiting_approval"}
POST_EVENTS = {"published": "post.published", "failed": "post.failed", "waiting_quota": "post.waiting_quota"}


async def run_status_changed(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    run_id: UUID,
    old: str | None,
    requested: str,
    progress: dict[str, Any],
    error: str | None,
) -> None:
    """``old`` is the status before the update; a cancelled run stays cancelled (as the update does)."""
    new = old if old == "cancelled" else requested
    if old is None or new not in RUN_TRANSITIONS:
        return
    if new != old:
        event = RUN_TRANSITIONS[new]
    elif new == "running" and progress:
        event = "run.progress"
    else:
        return
    await emit(conn, tenant_id, event, RunEvent(run_id=run_id, status=new, progress=progress, error=error))


async def article_status_changed(
    conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID, old: str | None, new: str
) -> None:
    if new != old and new in ARTICLE_EVENTS:
        await emit(conn, tenant_id, ARTICLE_EVENTS[new], ArticleEvent(article_id=article_id, status=new))


async def post_status_changed(conn: asyncpg.Connection, tenant_id: UUID, row: asyncpg.Record | None) -> None:
    """``row`` is the post as the update returned it (``RETURNING *``)."""
    if row is None or row["status"] not in POST_EVENTS:
        return
    data = PostEvent(
        post_id=row["id"],
        article_id=row["article_id"],
        platform=row["platform"],
        account_id=row["account_id"],
        status=row["status"],
        platform_post_id=row["platform_post_id"],
        permalink=row["permalink"],
        reason=row["error"],
        not_before=row["not_before"],
    )
    await emit(conn, tenant_id, POST_EVENTS[row["status"]], data)


async def credential_needs_reauth(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    credential_id: UUID,
    platform: str,
    account_id: str,
    reason: str,
) -> None:
    data = CredentialNeedsReauth(
        credential_id=credential_id, platform=platform, account_id=account_id, reason=reason[:500]
    )
    await emit(conn, tenant_id, "credential.needs_reauth", data)


async def pipeline_paused(conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID, reason: str) -> None:
    await emit(
        conn, tenant_id, "pipeline.paused", PipelinePaused(pipeline_id=pipeline_id, reason=reason[:500])
    )


async def model_key_paused(
    conn: asyncpg.Connection, tenant_id: UUID, provider: str, code: str, reason: str
) -> None:
    """The vendor refused the tenant's own key of ``provider`` (or its quota): its writer is skipped."""
    data = ModelKeyPaused(provider=provider, code=code, reason=reason[:500])
    await emit(conn, tenant_id, "model_key.paused", data)


async def subtopics_ready(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID | None, row_number: int | None, ids: list[UUID]
) -> None:
    """New sub-topics of one plan row were stored (nothing for a row whose candidates were all covered)."""
    if run_id is not None and row_number is not None and ids:
        data = SubtopicsReady(run_id=run_id, row_number=row_number, subtopic_ids=ids)
        await emit(conn, tenant_id, "subtopics.ready", data)


def crosses(used: float, adding: float, limit: float, share: float = NEARLY) -> bool:
    """Whether ``used`` → ``used + adding`` crosses ``share`` of ``limit`` (so it is announced once)."""
    mark = share * limit
    return limit > 0 and used < mark <= used + adding


async def budget_notice(
    conn: asyncpg.Connection, tenant_id: UUID, level: str, budget: Decimal, spent: Decimal, month: datetime
) -> None:
    """The tenant's spending crossed 80 % (``budget.warning``) or 100 % (``budget.exhausted``) of its
    monthly budget."""
    data = BudgetNotice(level=level, budget_usd=budget, spent_usd=spent, month=month.date())
    await emit(conn, tenant_id, f"budget.{level}", data)


async def quota_nearly_exhausted(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    platform: str,
    account_id: str,
    used: float,
    limit: float,
    window: str,
) -> None:
    data = QuotaNearlyExhausted(
        platform=platform, account_id=account_id, used=used, limit=limit, window=window
    )
    await emit(conn, tenant_id, "quota.nearly_exhausted", data)


async def engagement_threshold(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    post: asyncpg.Record,
    threshold_id: UUID,
    metric: str,
    threshold: int,
    value: int,
) -> None:
    """A post's ``metric`` reached a threshold the tenant set (once per post and threshold)."""
    data = EngagementThreshold(
        post_id=post["id"], article_id=post["article_id"], platform=post["platform"],
        account_id=post["account_id"], threshold_id=threshold_id, metric=metric, threshold=threshold,
        value=value,
    )  # fmt: skip
    await emit(conn, tenant_id, "post.engagement_threshold", data)
