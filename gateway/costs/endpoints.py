from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from ..context import AdminTx, ViewerTx
from ..problems import errors
from . import service
from .schemas import BudgetIn, BudgetOut, CostGroup, CostsOut

router = APIRouter(prefix="/v1/costs", tags=["usage"], responses=errors(401, 403, 422, 429))


@router.get("", response_model=CostsOut, summary="What usage cost, per tenant, pipeline, run or article")
async def get_costs(
    tx: ViewerTx, group_by: CostGroup = "tenant", since: datetime | None = None, until: datetime | None = None
) -> CostsOut:
    """LLM tokens and images priced with the price in force on the day each was used (the current calendar
    month in UTC unless ``since``/``until`` say otherwise)."""
    return await service.costs(tx, group_by, since, until)


@router.get("/budget", response_model=BudgetOut, summary="This month's spending against the tenant's budget")
async def get_budget(tx: ViewerTx) -> BudgetOut:
    return await service.get_budget(tx)


@router.put(
    "/budget", response_model=BudgetOut, summary="Set the tenant's monthly budget (admins)",
    description="At 80 % of it the tenant is warned (event budget.warning); at 100 % new runs are refused "
    "and new articles wait (event budget.exhausted). Raising it lets waiting articles go on.",
)  # fmt: skip
async def set_budget(body: BudgetIn, tx: AdminTx) -> BudgetOut:
    return await service.set_budget(tx, body)
