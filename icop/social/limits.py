"""Per-platform limits: defaults from :class:`~icop.settings.Settings`, overridable per account.

Platforms change their numbers; none is hard-coded outside the settings. Where a platform reports
its own figure (Instagram ``content_publishing_limit``, Threads ``threads_publishing_limit``), the
publisher prefers the live value over these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from icop.settings import Settings

Platform = Literal["facebook", "instagram", "threads", "x"]
PLATFORMS: tuple[Platform, ...] = ("facebook", "instagram", "threads", "x")


def as_platform(name: str) -> Platform:
    """A stored platform name as :data:`Platform` (ValueError for anything else)."""
    for p in PLATFORMS:
        if p == name:
            return p
    raise ValueError(f"not a publishing platform: {name!r}; one of {', '.join(PLATFORMS)}")


@dataclass(frozen=True)
class PlatformLimits:
    """What one account on one platform may post."""

    platform: Platform
    max_chars: int
    """Text limit: code points for Meta platforms, weighted characters for X."""
    max_hashtags: int | None = None
    posts_per_window: int | None = None
    """Publishing cap per rolling window (None: no count cap)."""
    window: timedelta = timedelta(hours=24)
    monthly_post_cap: int | None = None
    """X legacy plan cap per calendar month (None: none)."""
    url_weight: int = 23
    carousel_max: int = 10
    cost_create_usd: float = 0.0
    cost_create_with_url_usd: float = 0.0
    monthly_budget_usd: float | None = None
    """Per tenant and calendar month (X pay-per-use)."""
    link_in_text: bool = True

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> PlatformLimits:
        """A copy with per-account overrides applied (unknown keys are refused)."""
        if not overrides:
            return self
        fields = {f.name for f in dataclasses.fields(self)} - {"platform"}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"unknown limit override(s) for {self.platform}: {sorted(unknown)}")
        values = dict(overrides)
        if "window" in values and not isinstance(values["window"], timedelta):
            values["window"] = timedelta(seconds=float(values["window"]))
        return dataclasses.replace(self, **values)


def default_limits(platform: Platform, s: Settings) -> PlatformLimits:
    if platform == "facebook":
        return PlatformLimits("facebook", max_chars=s.social_facebook_max_chars)
    if platform == "instagram":
        return PlatformLimits(
            "instagram",
            max_chars=s.social_instagram_caption_max_chars,
            max_hashtags=s.social_instagram_max_hashtags,
            posts_per_window=s.social_instagram_posts_per_window,
            window=timedelta(seconds=s.social_instagram_window_s),
        )
    if platform == "threads":
        return PlatformLimits(
            "threads",
            max_chars=s.social_threads_max_chars,
            posts_per_window=s.social_threads_posts_per_window,
            window=timedelta(seconds=s.social_threads_window_s),
            carousel_max=s.social_threads_carousel_max,
        )
    if platform == "x":
        return PlatformLimits(
            "x",
            max_chars=s.social_x_max_weighted_chars,
            posts_per_window=s.social_x_posts_per_window,
            window=timedelta(seconds=s.social_x_window_s),
            monthly_post_cap=s.social_x_monthly_post_cap or None,
            url_weight=s.social_x_url_weight,
            cost_create_usd=s.social_x_cost_create_usd,
            cost_create_with_url_usd=s.social_x_cost_create_with_url_usd,
            monthly_budget_usd=s.social_x_monthly_budget_usd,
            link_in_text=s.social_x_link_in_text,
        )
    raise ValueError(f"unknown platform {platform!r}")


def limits_for(platform: Platform, s: Settings, overrides: Mapping[str, Any] | None = None) -> PlatformLimits:
    """The limits for one account: settings defaults, then the account's overrides."""
    return default_limits(platform, s).with_overrides(overrides)


@dataclass(frozen=True)
class AccountLimits:
    """A tenant's limits per account: what the publisher enforces and what the quota API, the previews and
    the dashboard show — the settings' defaults with each account's overrides, through one function."""

    settings: Settings
    overrides: Mapping[tuple[str, str], Mapping[str, Any]]

    def of(self, platform: str, account_id: str) -> PlatformLimits:
        """Raises ValueError for an unknown platform or an override that names no limit."""
        return limits_for(as_platform(platform), self.settings, self.overrides.get((platform, account_id)))
