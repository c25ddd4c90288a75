from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from icop.statuses import RowStatus, RunStatus

from ..context import EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import RunCreate, RunOut, RunRowOut

router = APIRouter(prefix="/v1", tags=["runs"], responses=errors(401, 403, 422, 429))


@router.post(
    "/pipelines/{pipeline_id}/runs",
    status_code=202,
    response_model=RunOut,
    responses=errors(404, 409, 503),
    summary="Start a run or a back-fill (recorded as pending until the workflow engine picks it up)",
)
async def start_run(pipeline_id: UUID, body: RunCreate, tx: EditorTx) -> RunOut:
    return await service.start(tx, pipeline_id, body)


@router.get(
    "/pipelines/{pipeline_id}/runs",
    response_model=Page[RunOut],
    responses=errors(404),
    summary="List a pipeline's runs, newest first",
)
async def list_runs(
    pipeline_id: UUID,
    tx: ViewerTx,
    status: RunStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[RunOut]:
    return Page[RunOut](**await service.list_page(tx, pipeline_id, status, cursor, limit))


@router.get(
    "/runs/{run_id}", response_model=RunOut, responses=errors(404), summary="A run's status and progress"
)
async def get_run(run_id: UUID, tx: ViewerTx) -> RunOut:
    return await service.get(tx, run_id)


@router.post(
    "/runs/{run_id}/cancel", response_model=RunOut, responses=errors(404, 409, 503), summary="Cancel a run"
)
async def cancel_run(run_id: UUID, tx: EditorTx) -> RunOut:
    return await service.cancel(tx, run_id)


@router.get(
    "/runs/{run_id}/rows",
    response_model=Page[RunRowOut],
    responses=errors(404),
    summary="A run's plan rows with their status and, for failed rows, the reason",
)
async def list_run_rows(
    run_id: UUID,
    tx: ViewerTx,
    status: RowStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[RunRowOut]:
    return Page[RunRowOut](**await service.rows_page(tx, run_id, status, cursor, limit))


@router.post(
    "/runs/{run_id}/retry",
    status_code=202,
    response_model=RunOut,
    responses=errors(404, 409, 503),
    summary="Start a new run over the rows that failed in this run",
    description="Failed and invalid rows are taken again (fix an invalid row in the sheet first). 409: no "
    "row failed, or the pipeline is paused or already has a run in progress.",
)
async def retry_run(run_id: UUID, tx: EditorTx) -> RunOut:
    return await service.retry(tx, run_id)
