from __future__ import annotations

from fastapi import APIRouter

from ..context import ViewerTx
from ..problems import errors
from . import service
from .schemas import UsageOut

router = APIRouter(prefix="/v1/usage", tags=["usage"], responses=errors(401, 403, 429))


@router.get("", response_model=UsageOut, summary="Plan usage this month: articles, runs, accounts, X spend")
async def get_usage(tx: ViewerTx) -> UsageOut:
    return await service.usage(tx)
