"""Rules: only published posts count; lists are keyset-paginated on the sort key and the post id; a tenant
keeps at most ``MAX_THRESHOLDS`` engagement thresholds."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from icop.errors import Conflict, InvalidRequest, NotFound

from ..context import Tx
from .repository import AnalyticsRepository
from .schemas import (
    MetricsPoint,
    PostAnalytics,
    PostMetricsSeries,
    PostSort,
    SummaryGroup,
    SummaryItem,
    SummaryOut,
    ThresholdIn,
    ThresholdOut,
)

repo = AnalyticsRepository()
MAX_THRESHOLDS = 50


def _rate(engagement: int | None, impressions: int | None) -> float | None:
    return round(engagement / impressions, 6) if impressions and engagement is not None else None


def _post(r: Mapping[str, Any]) -> PostAnalytics:
    fields = {k: r[k] for k in PostAnalytics.model_fields if k != "engagement_rate"}
    return PostAnalytics(**fields, engagement_rate=_rate(r["engagement"], r["impressions"]))


def _cursor(key: float, post_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{key!r}|{post_id}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[float, UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        key, _, pid = raw.partition("|")
        return float(key), UUID(pid)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidRequest("invalid cursor") from e


def _period(since: datetime | None, until: datetime | None) -> None:
    if since and until and since >= until:
        raise InvalidRequest("since must be before until")


async def list_posts(
    tx: Tx, filters: tuple[Any, ...], sort: PostSort, cursor: str | None, limit: int
) -> dict[str, Any]:
    _period(filters[4], filters[5])
    rows = await repo.posts(tx.conn, tx.tenant_id, filters, sort, _after(cursor), limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _cursor(rows[-1]["sort_key"], rows[-1]["post_id"]) if more and rows else None
    return {"items": [_post(r) for r in rows], "next_cursor": nxt}


async def series(tx: Tx, post_id: UUID) -> PostMetricsSeries:
    row = await repo.post(tx.conn, tx.tenant_id, post_id)
    if row is None:
        raise NotFound("no such post")
    points = [MetricsPoint(**dict(p)) for p in await repo.series(tx.conn, tx.tenant_id, post_id)]
    return PostMetricsSeries(post=_post(row), points=points)


async def summary(tx: Tx, filters: tuple[Any, ...], group_by: SummaryGroup) -> SummaryOut:
    _period(filters[4], filters[5])
    rows = await repo.summary(tx.conn, tx.tenant_id, filters, group_by)
    items = [
        SummaryItem(
            key=r["key"],
            label=r["label"],
            posts=r["posts"],
            impressions=r["impressions"],
            engagement=r["engagement"],
            engagement_rate=_rate(r["engagement"], r["impressions"]),
        )  # fmt: skip
        for r in rows
    ]
    if group_by == "day":
        items.sort(key=lambda i: i.key or "")
    else:
        items.sort(key=lambda i: (-i.engagement, i.key or ""))
    return SummaryOut(group_by=group_by, since=filters[4], until=filters[5], items=items)


async def list_thresholds(tx: Tx) -> list[ThresholdOut]:
    return [ThresholdOut(**dict(r)) for r in await repo.thresholds(tx.conn, tx.tenant_id)]


async def add_threshold(tx: Tx, body: ThresholdIn) -> ThresholdOut:
    if await repo.count_thresholds(tx.conn, tx.tenant_id) >= MAX_THRESHOLDS:
        raise Conflict(
            f"a tenant keeps at most {MAX_THRESHOLDS} engagement thresholds; remove one first",
            code="threshold.too_many",
            params={"limit": MAX_THRESHOLDS},
        )
    row = await repo.add_threshold(tx.conn, tx.tenant_id, body.metric, body.value, body.platform)
    return ThresholdOut(**dict(row))


async def delete_threshold(tx: Tx, threshold_id: UUID) -> None:
    if not await repo.delete_threshold(tx.conn, tx.tenant_id, threshold_id):
        raise NotFound("no such engagement threshold")
