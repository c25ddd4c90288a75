from __future__ import annotations

from fastapi import APIRouter, UploadFile

from ..context import EditorTx
from ..problems import errors
from . import service
from .schemas import PlanUpload

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=errors(401, 403, 422, 429))


@router.post(
    "", status_code=201, response_model=PlanUpload, responses=errors(400),
    summary="Upload a content plan as CSV or XLSX (columns: topic, notes, language, status, result)",
    description="The file is checked like a sheet: the answer counts its rows, lists every row that would "
    "be skipped with the reason, and shows the first rows. Create a pipeline with the returned "
    "`plan_object_key` and `source_kind`; its runs write statuses into a copy you download from "
    "GET /v1/pipelines/{id}/plan. XLSX: the tab named ContentPlan, else the first one.",
)  # fmt: skip
async def upload_plan(file: UploadFile, tx: EditorTx) -> PlanUpload:
    data = await file.read(service.MAX_BYTES + 1)
    return await service.upload(tx.services.store, tx.tenant_id, data)
