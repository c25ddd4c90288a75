"""When a published post's metrics are collected: at fixed ages after publishing (settings
``insights_ages_s``, by default 1 h, 6 h, 24 h, 7 d and 28 d), then never again. The one home of that rule:
publishing asks it for the first time, the collector for each next one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icop.settings import Settings


def first_collection_s(s: Settings) -> float:
    """Seconds after publishing of a post's first collection."""
    return float(min(s.insights_ages_s))


def next_due(published_at: datetime, now: datetime, ages_s: Sequence[int]) -> datetime | None:
    """The first collection time after ``now`` (slots already passed are skipped: a post collected late is
    not collected again at once); None when the last age has passed: the post is done."""
    for age in sorted(ages_s):
        due = published_at + timedelta(seconds=age)
        if due > now:
            return due
    return None
