"""Gateway knobs that are not secrets: token lifetimes and the rate-limit window.

Plan limits come from ``icop.plans`` (with the settings' overrides) and platform limits from
``icop.social.limits``: one home each, shared with the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icop.plans import DEFAULT_PLANS, PlanCatalog, PlanLimits


@dataclass(frozen=True)
class GatewayConfig:
    jwt_issuer: str = "icop"
    jwt_audience: str = "icop-api"
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 24 * 3600
    rate_window_s: int = 60
    plans: PlanCatalog = field(default_factory=lambda: PlanCatalog(DEFAULT_PLANS))
    """Replaced by ``create_app`` with the settings' catalogue (``icop.plans.plan_catalog``)."""

    def plan(self, name: str) -> PlanLimits:
        return self.plans.limits(name)
