"""Rules: the month is the calendar month in UTC, as the plan's article limit and the X budget count it;
the X spend is the sum of the month's live X reservations (what the publisher checks the budget against)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from icop.budgets.service import month_of

from ..context import Tx
from .repository import UsageRepository
from .schemas import UsageOut

repo = UsageRepository()


async def usage(tx: Tx) -> UsageOut:
    s = tx.services.settings
    plan = tx.services.config.plan(tx.who.plan)
    start, end = month_of(datetime.now(UTC))
    c = await repo.counts(tx.conn, tx.tenant_id, start, end)
    budget = s.social_x_monthly_budget_usd
    return UsageOut(
        plan=tx.who.plan,
        period_start=start,
        period_end=end,
        articles_used=c["articles"],
        articles_limit=plan.articles_per_month,
        active_runs=c["active_runs"],
        active_runs_limit=s.tenant_max_active_runs,
        pipelines=c["pipelines"],
        pipelines_limit=plan.pipelines,
        connected_accounts=c["accounts"],
        connected_accounts_limit=plan.connected_accounts,
        x_cost_usd_month=c["x_cost"],
        x_budget_usd_month=Decimal(str(budget)) if budget else None,
    )
