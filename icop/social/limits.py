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
    reads_per_window: int | None = None
    """Insights requests per ``read_window`` (None: no cap). Meta counts publishing's calls with them."""
    read_window: timedelta = timedelta(hours=1)
    read_batch: int = 1
    """Posts one insights request reads (X: up to 100 ids)."""
    read_cost_usd: float = 0.0
    """Per post read (X pay-per-use), paid from the tenant's monthly X budget with publishing."""
    calls_per_post: int = 0
    """Rate-limited calls one publish makes, counted against ``reads_per_window`` where the platform counts
    them together (Meta)."""

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> PlatformLimits:
        """A copy with per-account overrides applied (unknown keys are refused)."""
        if not overrides:
            return self
        fields = {f.name for f in dataclasses.fields(self)} - {"platform"}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"unknown limit override(s) for {self.platform}: {sorted(unknown)}")
        values = dict(overrides)
        for key in ("window", "read_window"):
            if key in values and not isinstance(values[key], timedelta):
                values[key] = timedelta(seconds=float(values[key]))
        return dataclasses.replace(self, **values)


def default_limits(platform: Platform, s: Settings) -> PlatformLimits:
    per_post = s.insights_meta_calls_per_post  # Meta counts a publish's calls with the reads
    if platform == "facebook":
        return PlatformLimits(
            "facebook",
            max_chars=s.social_facebook_max_chars,
            reads_per_window=s.insights_facebook_calls_per_hour,
            calls_per_post=per_post,
        )
    if platform == "instagram":
        return PlatformLimits(
            "instagram",
            reads_per_window=s.insights_instagram_calls_per_hour,
            calls_per_post=per_post,
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
            reads_per_window=s.insights_threads_calls_per_hour,
            calls_per_post=per_post,
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
            reads_per_window=s.insights_x_lookups_per_window,
            read_window=timedelta(seconds=s.insights_x_window_s),
            read_batch=s.insights_x_ids_per_request,
            read_cost_usd=s.insights_x_cost_per_post_usd,
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
