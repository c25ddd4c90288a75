"""Rules: usage is priced with the table in force on the day it was recorded (icop.costs); the period is
the calendar month (UTC) unless asked otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from icop.budgets import repository as budget_repo
from icop.budgets import service as budgets
from icop.budgets.repository import ALL_USAGE, UsageScope, usage_lines
from icop.costs import PriceTable, price_usage
from icop.errors import InvalidRequest

from ..context import Tx
from .schemas import BudgetIn, BudgetOut, CostGroup, CostItem, CostsOut

CENT_FRACTION = Decimal("0.000001")  # micro-dollars: a single short LLM call costs less than a cent


def _utc(moment: datetime) -> datetime:
    """A time without a zone is UTC (the API's times are)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def costs(
    tx: Tx,
    group_by: CostGroup,
    since: datetime | None,
    until: datetime | None,
    scope: UsageScope = ALL_USAGE,
) -> CostsOut:
    start, end = budgets.month_of(datetime.now(UTC))
    start, end = _utc(since) if since else start, _utc(until) if until else end
    if start >= end:
        raise InvalidRequest("since must be before until")
    table = PriceTable.with_overrides(tx.services.settings.prices)
    groups = price_usage(await usage_lines(tx.conn, tx.tenant_id, group_by, start, end, scope), table)
    by_day = group_by == "day"
    items = [
        CostItem(
            id=UUID(g.group) if g.group and not by_day else None,
            day=date.fromisoformat(g.group) if g.group and by_day else None,
            total_usd=g.total_usd.quantize(CENT_FRACTION),
            llm_usd=g.llm_usd.quantize(CENT_FRACTION),
            image_usd=g.image_usd.quantize(CENT_FRACTION),
            other_usd=g.other_usd.quantize(CENT_FRACTION),
            unpriced_records=g.unpriced_records,
            input_tokens=g.input_tokens,
            cache_read_tokens=g.cache_read_tokens,
            cache_write_tokens=g.cache_write_tokens,
        )
        for g in groups
    ]
    if by_day:
        items.sort(key=lambda i: i.day or date.min)
    else:
        items.sort(key=lambda i: i.total_usd, reverse=True)
    total = sum((i.total_usd for i in items), Decimal(0))
    return CostsOut(group_by=group_by, period_start=start, period_end=end, total_usd=total, items=items)


async def get_budget(tx: Tx) -> BudgetOut:
    table = PriceTable.with_overrides(tx.services.settings.prices)
    return _budget_out(await budgets.state(tx.conn, tx.tenant_id, table))


async def set_budget(tx: Tx, body: BudgetIn) -> BudgetOut:
    """A new budget; a spent one raised lets the articles it held go on at their next check."""
    await budget_repo.set_budget(tx.conn, tx.tenant_id, body.monthly_budget_usd)
    table = PriceTable.with_overrides(tx.services.settings.prices)
    return _budget_out(await budgets.check(tx.conn, tx.tenant_id, table))


def _budget_out(s: budgets.BudgetState) -> BudgetOut:
    return BudgetOut(
        monthly_budget_usd=s.budget_usd,
        spent_usd=s.spent_usd.quantize(CENT_FRACTION),
        share=s.share,
        status=s.status,
        period_start=s.period_start,
        period_end=s.period_end,
    )
