from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from icop.budgets.repository import UsageScope

from ..context import AdminTx, ViewerTx
from ..problems import errors
from . import service
from .schemas import BudgetIn, BudgetOut, CostGroup, CostsOut

router = APIRouter(prefix="/v1/costs", tags=["usage"], responses=errors(401, 403, 422, 429))


@router.get("", response_model=CostsOut, summary="What usage cost, per tenant, pipeline, run or article")
async def get_costs(
    tx: ViewerTx,
    group_by: Annotated[
        CostGroup, Query(description="Sum per tenant, pipeline, run, article or UTC day.")
    ] = "tenant",
    since: Annotated[
        datetime | None, Query(description="From this time on (default: the start of this UTC month).")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Before this time (default: the start of next UTC month).")
    ] = None,
    pipeline_id: Annotated[UUID | None, Query(description="Only this pipeline's usage.")] = None,
    run_id: Annotated[UUID | None, Query(description="Only this run's usage.")] = None,
    article_id: Annotated[UUID | None, Query(description="Only this article's usage.")] = None,
) -> CostsOut:
    """LLM tokens and images priced with the price in force on the day each was used (the current calendar
    month in UTC unless ``since``/``until`` say otherwise). Usage is tied to a pipeline and a run through
    its article; an id of another tenant (or of nothing) finds no usage, not an error."""
    scope = UsageScope(pipeline_id=pipeline_id, run_id=run_id, article_id=article_id)
    return await service.costs(tx, group_by, since, until, scope)


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
