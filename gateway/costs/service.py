"""Rules: usage is priced with the table in force on the day it was recorded (icop.costs); the period is
the calendar month (UTC) unless asked otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from icop.costs import PriceTable, price_usage
from icop.errors import InvalidRequest

from ..context import Tx
from ..usage.service import month_of
from .repository import CostRepository
from .schemas import CostGroup, CostItem, CostsOut

repo = CostRepository()
CENT_FRACTION = Decimal("0.000001")  # micro-dollars: a single short LLM call costs less than a cent


def _utc(moment: datetime) -> datetime:
    """A time without a zone is UTC (the API's times are)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def costs(tx: Tx, group_by: CostGroup, since: datetime | None, until: datetime | None) -> CostsOut:
    start, end = month_of(datetime.now(UTC))
    start, end = _utc(since) if since else start, _utc(until) if until else end
    if start >= end:
        raise InvalidRequest("since must be before until")
    table = PriceTable.with_overrides(tx.services.settings.prices)
    groups = price_usage(await repo.usage(tx.conn, tx.tenant_id, group_by, start, end), table)
    items = [
        CostItem(
            id=UUID(g.group) if g.group else None,
            total_usd=g.total_usd.quantize(CENT_FRACTION),
            llm_usd=g.llm_usd.quantize(CENT_FRACTION),
            image_usd=g.image_usd.quantize(CENT_FRACTION),
            other_usd=g.other_usd.quantize(CENT_FRACTION),
            unpriced_records=g.unpriced_records,
        )
        for g in groups
    ]
    items.sort(key=lambda i: i.total_usd, reverse=True)
    total = sum((i.total_usd for i in items), Decimal(0))
    return CostsOut(group_by=group_by, period_start=start, period_end=end, total_usd=total, items=items)
