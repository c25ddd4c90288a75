"""Quota decisions as pure functions: given what is reserved, may one more post go now, and if not, when?

The publisher reads the counts (``icop.social.repository``) inside the transaction that holds the
account's quota lock, asks :func:`decide`, and reserves or waits. Nothing here touches the database or
the clock, so every rule is tested on plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from icop.events.hooks import crosses

from .clients import PublishingLimit
from .limits import PlatformLimits


@dataclass(frozen=True)
class Window:
    """The count cap that applies: the platform's live figure when it reported one, else the settings'."""

    cap: int | None
    length: timedelta

    @property
    def hours(self) -> int:
        return int(self.length.total_seconds() // 3600)


def window_of(lim: PlatformLimits, live: PublishingLimit | None) -> Window:
    if live is not None:
        return Window(live.quota_total, timedelta(seconds=live.quota_duration_s))
    return Window(lim.posts_per_window, lim.window)


@dataclass(frozen=True)
class Usage:
    """What is reserved and not released, as the account's quota lock sees it."""

    window_reserved: Sequence[datetime]
    """Reservation times inside the window, oldest first."""
    month_posts: int = 0
    """X: this account's reservations this calendar month (UTC)."""
    month_spent_usd: Decimal = Decimal(0)
    """X: the tenant's reserved cost this calendar month (UTC), all accounts."""


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str
    code: str = "quota.window"  # the reason as a stable code, with ``params``, for a client's wording
    params: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class NearlyExhausted:
    """A reservation that crosses 80 % of a cap (announced as ``quota.nearly_exhausted``)."""

    used: float
    limit: float
    unit: str


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(now: datetime) -> datetime:
    return (month_start(now) + timedelta(days=32)).replace(day=1)


def decide(
    platform: str,
    lim: PlatformLimits,
    window: Window,
    live: PublishingLimit | None,
    usage: Usage,
    cost_usd: Decimal,
    now: datetime,
    recheck: timedelta,
) -> Wait | None:
    """None: one more post fits every cap; otherwise when to look again, and why."""
    if window.cap is not None:
        used = len(usage.window_reserved)
        if used >= window.cap:
            frees = usage.window_reserved[used - window.cap] + window.length
            return Wait(
                frees, f"{platform} limit of {window.cap} posts per {window.hours} h reached", "quota.window",
                {"platform": platform, "cap": window.cap, "hours": window.hours},
            )  # fmt: skip
        if live is not None and live.quota_usage >= live.quota_total:
            return Wait(
                now + recheck, f"{platform} reports its publishing quota used up", "quota.platform",
                {"platform": platform},
            )  # fmt: skip
    if platform != "x":
        return None
    if lim.monthly_post_cap is not None and usage.month_posts >= lim.monthly_post_cap:
        return Wait(
            next_month(now), f"X monthly cap of {lim.monthly_post_cap} posts reached", "quota.x_monthly_cap",
            {"cap": lim.monthly_post_cap},
        )  # fmt: skip
    budget = lim.monthly_budget_usd
    if budget is not None and usage.month_spent_usd + cost_usd > Decimal(str(budget)):
        return Wait(
            next_month(now),
            f"monthly X budget of ${budget:.2f} would be exceeded (spent ${usage.month_spent_usd:.3f}, "
            f"this post ${cost_usd:.3f})",
            "quota.x_budget",
            {"budget": f"{budget:.2f}", "spent": f"{usage.month_spent_usd:.3f}", "cost": f"{cost_usd:.3f}"},
        )
    return None


def crossings(
    platform: str, lim: PlatformLimits, window: Window, usage: Usage, cost_usd: Decimal
) -> list[NearlyExhausted]:
    """The 80 % marks this reservation crosses: posts per window, and on X the tenant's monthly budget."""
    out = []
    used = len(usage.window_reserved)
    if window.cap is not None and crosses(used, 1, window.cap):
        out.append(NearlyExhausted(used + 1, window.cap, f"posts per {window.hours} h"))
    budget = lim.monthly_budget_usd if platform == "x" else None
    if budget and crosses(float(usage.month_spent_usd), float(cost_usd), float(budget)):
        out.append(NearlyExhausted(float(usage.month_spent_usd + cost_usd), float(budget), "USD per month"))
    return out
