"""Publish times: when a post may go out, as an editor asks for it at approval or moves it later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icop.errors import InvalidRequest

MAX_AHEAD = timedelta(days=366)
"""How far ahead a post can be scheduled."""


def publish_time(at: datetime, now: datetime) -> datetime:
    """``at`` in UTC, when it is a usable publish time: in the future and within :data:`MAX_AHEAD`."""
    if at.tzinfo is None:
        raise InvalidRequest("publish_at needs a time zone or an offset, e.g. 2026-12-24T09:00:00Z")
    at = at.astimezone(UTC)
    if at <= now:
        raise InvalidRequest(
            f"publish_at {at:%Y-%m-%d %H:%M:%S} UTC is not in the future; pick a later time, or approve "
            "without one to publish at once"
        )
    if at > now + MAX_AHEAD:
        raise InvalidRequest(f"publish_at can be at most {MAX_AHEAD.days} days ahead")
    return at
