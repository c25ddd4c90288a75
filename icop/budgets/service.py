"""The budget rule, in one place: a tenant's usage this month (UTC calendar month), priced with the price
table, against its monthly budget. Below 80 %: fine; from 80 %: a warning (event ``budget.warning``, once
per month and budget); from 100 %: new articles wait (event ``budget.exhausted``) until the budget is
raised or the month ends. Articles already being written finish, so the month can end a little above the
budget (by what the articles in flight spend)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg

from icop.costs import PriceTable, price_usage
from icop.events import hooks

from . import repository as repo

WARN_AT = Decimal("0.8")


def month_of(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month around ``now``: [start, end)."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class BudgetState:
    budget_usd: Decimal | None
    spent_usd: Decimal
    period_start: datetime
    period_end: datetime

    @property
    def share(self) -> float | None:
        if self.budget_usd is None:
            return None
        return float(self.spent_usd / self.budget_usd) if self.budget_usd else 1.0

    @property
    def status(self) -> str:
        """``none`` (no budget), ``ok``, ``warning`` (from 80 %) or ``exhausted`` (from 100 %)."""
        if self.budget_usd is None:
            return "none"
        if self.spent_usd >= self.budget_usd:
            return "exhausted"
        return "warning" if self.spent_usd >= self.budget_usd * WARN_AT else "ok"


async def state(
    conn: asyncpg.Connection, tenant_id: UUID, prices: PriceTable, now: datetime | None = None
) -> BudgetState:
    start, end = month_of(now or datetime.now(UTC))
    budget = await repo.budget(conn, tenant_id)
    lines = await repo.usage_lines(conn, tenant_id, "tenant", start, end)
    spent = sum((g.total_usd for g in price_usage(lines, prices)), Decimal(0))
    return BudgetState(budget, spent, start, end)


async def check(conn: asyncpg.Connection, tenant_id: UUID, prices: PriceTable) -> BudgetState:
    """The tenant's budget now, telling the tenant once (events, same transaction) when it crossed 80 % or
    100 % of this month's budget."""
    s = await state(conn, tenant_id, prices)
    if s.budget_usd is not None and s.status in ("warning", "exhausted"):
        levels = ["warning", "exhausted"] if s.status == "exhausted" else ["warning"]
        for level in levels:
            if await repo.first_notice(
                conn, tenant_id, s.period_start.date(), level, s.budget_usd, s.spent_usd
            ):
                await hooks.budget_notice(conn, tenant_id, level, s.budget_usd, s.spent_usd, s.period_start)
    return s


def exhausted_reason(s: BudgetState) -> str:
    return (
        f"this month's budget of ${s.budget_usd} is spent (${s.spent_usd.quantize(Decimal('0.01'))}); an "
        "admin can raise it (PUT /v1/costs/budget): articles held by it then go on by themselves, as they "
        "do when the month ends"
    )
