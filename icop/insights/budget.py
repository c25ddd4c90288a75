"""How many due posts one account may read now, as a pure function of what its window already holds.

The limits are the account's :class:`~icop.social.limits.PlatformLimits` (settings, overridable per
account): ``reads_per_window`` requests per ``read_window``, ``read_batch`` posts per request. Meta counts
every call of an account against one limit, so each post publishing sent inside the window counts as
``calls_per_post`` calls too. On X, reads cost money (``read_cost_usd`` a post) from the same monthly budget
that pays for posting (:func:`icop.social.repository.x_spent_since` sums both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from icop.social.limits import PlatformLimits
from icop.social.quota import next_month


@dataclass(frozen=True)
class Reads:
    """What may be read now: ``posts`` of the due ones in ``calls`` requests, costing ``cost_usd``; when
    nothing may, ``wait_until`` says when to look again (and ``code`` why, when it is not the window)."""

    posts: int
    calls: int
    cost_usd: Decimal
    wait_until: datetime | None = None
    code: str | None = None


def plan_reads(
    lim: PlatformLimits,
    due: int,
    now: datetime,
    calls: Sequence[tuple[datetime, int]],
    publishes: Sequence[datetime],
    spent_usd: Decimal = Decimal(0),
) -> Reads:
    """``calls``: this account's insights requests inside the window (when, how many); ``publishes``: its
    posts sent inside the window; ``spent_usd``: the tenant's X spending this month (X only)."""
    posts = due
    if lim.reads_per_window is not None:
        used = sum(n for _, n in calls) + len(publishes) * lim.calls_per_post
        free = max(lim.reads_per_window - used, 0)
        posts = min(posts, free * lim.read_batch)
        if posts <= 0:
            oldest = min([t for t, _ in calls] + list(publishes), default=now)
            return Reads(0, 0, Decimal(0), max(oldest + lim.read_window, now))
    price = Decimal(str(lim.read_cost_usd))
    budget = lim.monthly_budget_usd if lim.platform == "x" else None
    if price > 0 and budget is not None:
        left = Decimal(str(budget)) - spent_usd
        affordable = int(left / price) if left > 0 else 0
        posts = min(posts, affordable)
        if posts <= 0:
            return Reads(0, 0, Decimal(0), next_month(now), "insights.x_budget")
    return Reads(posts, math.ceil(posts / lim.read_batch), price * posts)
