from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from ..context import ViewerTx
from ..problems import errors
from . import service
from .schemas import CostGroup, CostsOut

router = APIRouter(prefix="/v1/costs", tags=["usage"], responses=errors(401, 403, 422, 429))


@router.get("", response_model=CostsOut, summary="What usage cost, per tenant, pipeline, run or article")
async def get_costs(
    tx: ViewerTx, group_by: CostGroup = "tenant", since: datetime | None = None, until: datetime | None = None
) -> CostsOut:
    """LLM tokens and images priced with the price in force on the day each was used (the current calendar
    month in UTC unless ``since``/``until`` say otherwise)."""
    return await service.costs(tx, group_by, since, until)
