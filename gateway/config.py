"""Gateway knobs that are not secrets: token lifetimes, per-plan rate and volume limits, platform quotas.

Defaults live here; ``create_app`` takes an override so tests and benchmarks can tighten or loosen them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Plan = str  # 'starter' | 'growth' | 'enterprise'


@dataclass(frozen=True)
class PlanLimits:
    requests_per_window: int
    pipelines: int
    connected_accounts: int
    articles_per_month: int


DEFAULT_PLANS: dict[Plan, PlanLimits] = {
    "starter": PlanLimits(requests_per_window=300, pipelines=3, connected_accounts=3, articles_per_month=200),
    "growth": PlanLimits(
        requests_per_window=1_500, pipelines=25, connected_accounts=20, articles_per_month=2_000
    ),
    "enterprise": PlanLimits(
        requests_per_window=10_000, pipelines=1_000, connected_accounts=500, articles_per_month=100_000
    ),
}

# Publishing caps per account per rolling window (hours); the syndication module reads live values later.
DEFAULT_PLATFORM_QUOTAS: dict[str, tuple[int, int]] = {
    "instagram": (100, 24),
    "threads": (250, 24),
    "x": (100, 24),
    "facebook": (200, 24),
}


@dataclass(frozen=True)
class GatewayConfig:
    jwt_issuer: str = "icop"
    jwt_audience: str = "icop-api"
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 24 * 3600
    rate_window_s: int = 60
    plans: dict[Plan, PlanLimits] = field(default_factory=lambda: dict(DEFAULT_PLANS))
    platform_quotas: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_PLATFORM_QUOTAS))

    def plan(self, name: str) -> PlanLimits:
        return self.plans.get(name, self.plans["starter"])
