from __future__ import annotations

from fastapi import APIRouter, UploadFile

from icop.settings import get_settings
from icop.storage import ObjectStore, make_store

from ..context import EditorTx
from ..problems import errors
from . import service
from .schemas import PlanUpload

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=errors(401, 403, 422, 429))


def _store(tx: EditorTx) -> ObjectStore:
    extras = tx.services.extras
    if "store" not in extras:
        extras["store"] = make_store(extras.get("settings") or get_settings())
    store: ObjectStore = extras["store"]
    return store


@router.post(
    "/csv", status_code=201, response_model=PlanUpload,
    summary="Upload a content plan as CSV (columns: topic, notes, language, status, result)",
)  # fmt: skip
async def upload_csv(file: UploadFile, tx: EditorTx) -> PlanUpload:
    data = await file.read(service.MAX_BYTES + 1)
    return await service.upload(_store(tx), tx.tenant_id, data)
