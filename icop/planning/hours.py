"""Posting at the tenant's best hours: per platform, the local hours (in the tenant's time zone) at which
its published posts drew the highest engagement rate, once there are enough posts to say so.

A pipeline with ``learn_times`` sends a post that has no publish time of its own at the next of those
hours rather than at once; the post keeps why (``posts.time_choice``), which the dashboard words as
"scheduled for 09:00, the best hour on X: posts then averaged 6.1% engagement (12 posts), 2.3% overall".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from . import repository

MIN_POSTS = 20  # measured posts on the platform before its hours say anything
MIN_PER_HOUR = 3  # posts at an hour before that hour can be a best one
TOP = 3  # best hours kept
WINDOW_DAYS = 90  # engagement older than this is not read


@dataclass(frozen=True)
class HourRate:
    hour: int  # local, 0-23
    posts: int
    engagement_rate: float


@dataclass(frozen=True)
class BestHours:
    hours: list[HourRate]  # best first
    overall_rate: float
    posts: int


def best_hours(
    samples: Iterable[tuple[int, int, int, int]], *, min_posts: int = MIN_POSTS,
    min_per_hour: int = MIN_PER_HOUR, top: int = TOP,
) -> BestHours | None:  # fmt: skip
    """From (local hour, posts, engagement, impressions) per hour: the hours with at least
    ``min_per_hour`` posts whose engagement rate beats the platform's overall, best first (at most
    ``top``); None with fewer than ``min_posts`` posts in all, or no hour above the overall rate."""
    rows = [(h, n, e, i) for h, n, e, i in samples if n > 0 and i > 0]
    posts = sum(n for _, n, _, _ in rows)
    impressions = sum(i for _, _, _, i in rows)
    if posts < min_posts or impressions <= 0:
        return None
    overall = sum(e for _, _, e, _ in rows) / impressions
    hours = [HourRate(h, n, e / i) for h, n, e, i in rows if n >= min_per_hour and e / i > overall]
    if not hours:
        return None
    hours.sort(key=lambda r: (-r.engagement_rate, r.hour))
    return BestHours(hours[:top], overall, posts)


def next_best_time(now: datetime, timezone: str, best: BestHours) -> tuple[datetime, HourRate] | None:
    """The start of the next best hour after ``now`` (local to ``timezone``), and that hour; None when
    ``now`` is within one of them (the post goes out at once)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if any(h.hour == local.hour for h in best.hours):
        return None
    options = []
    for h in best.hours:
        day = local.date()
        at = datetime(day.year, day.month, day.day, h.hour, tzinfo=zone)
        if at <= local:
            day += timedelta(days=1)
            at = datetime(day.year, day.month, day.day, h.hour, tzinfo=zone)
        options.append((at, h))
    return min(options, key=lambda o: o[0])


@dataclass(frozen=True)
class TimeChoice:
    """When a post goes out, and why (stored on the post as ``time_choice``)."""

    at: datetime
    platform: str
    timezone: str
    hour: HourRate
    best: BestHours

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": "best_hour",
            "at": self.at.isoformat(),
            "platform": self.platform,
            "timezone": self.timezone,
            "hour": self.hour.hour,
            "engagement_rate": round(self.hour.engagement_rate, 6),
            "hour_posts": self.hour.posts,
            "overall_rate": round(self.best.overall_rate, 6),
            "posts": self.best.posts,
            "best_hours": [h.hour for h in self.best.hours],
        }


async def learned_time(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, now: datetime
) -> TimeChoice | None:
    """The next of the tenant's best hours on ``platform``; None without enough data or within one."""
    timezone, rows = await repository.hourly_engagement(conn, tenant_id, platform, WINDOW_DAYS)
    best = best_hours((r["hour"], r["posts"], r["engagement"], r["impressions"]) for r in rows)
    if best is None:
        return None
    found = next_best_time(now, timezone, best)
    if found is None:
        return None
    at, hour = found
    return TimeChoice(at, platform, timezone, hour, best)
