from __future__ import annotations

from fastapi import APIRouter

from ..context import ViewerTx
from ..problems import errors
from . import service
from .schemas import AccountQuota

router = APIRouter(prefix="/v1/quotas", tags=["quotas"], responses=errors(401, 403, 429))


@router.get(
    "", response_model=list[AccountQuota], summary="Publishing usage and reset time per connected account"
)
async def list_quotas(tx: ViewerTx) -> list[AccountQuota]:
    return await service.account_quotas(tx)
