"""What each plan allows: one table, read by the API, scheduled fires, back-fills and per-article admission.

The defaults live here; an operator overrides any figure with ``ICOP_PLAN_LIMITS`` (JSON, e.g.
``{"starter": {"articles_per_month": 500}}``), which :func:`plan_catalog` applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from icop.settings import Settings


class Plan(StrEnum):
    STARTER = "starter"
    GROWTH = "growth"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class PlanLimits:
    requests_per_window: int
    pipelines: int
    connected_accounts: int
    articles_per_month: int


DEFAULT_PLANS: dict[str, PlanLimits] = {
    Plan.STARTER: PlanLimits(
        requests_per_window=300, pipelines=3, connected_accounts=3, articles_per_month=200
    ),
    Plan.GROWTH: PlanLimits(
        requests_per_window=1_500, pipelines=25, connected_accounts=20, articles_per_month=2_000
    ),
    Plan.ENTERPRISE: PlanLimits(
        requests_per_window=10_000, pipelines=1_000, connected_accounts=500, articles_per_month=100_000
    ),
}


@dataclass(frozen=True)
class PlanCatalog:
    """The limits of every plan; an unknown plan name gets the starter plan's (the safe default)."""

    plans: Mapping[str, PlanLimits]

    def limits(self, plan: str | None) -> PlanLimits:
        return self.plans.get(plan or Plan.STARTER, self.plans[Plan.STARTER])


def plan_catalog(settings: Settings) -> PlanCatalog:
    """The defaults with the operator's overrides (``Settings.plan_limits``) applied."""
    plans = dict(DEFAULT_PLANS)
    for name, figures in settings.plan_limits.items():
        if name not in plans:
            raise ValueError(f"ICOP_PLAN_LIMITS names an unknown plan {name!r}; plans: {sorted(plans)}")
        known = {f.name for f in dataclasses.fields(PlanLimits)}
        unknown = set(figures) - known
        if unknown:
            raise ValueError(f"ICOP_PLAN_LIMITS[{name!r}] has unknown figures {sorted(unknown)}")
        plans[name] = dataclasses.replace(plans[name], **figures)
    return PlanCatalog(plans)
