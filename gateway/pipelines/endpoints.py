from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from icop.planning.files import XLSX_MEDIA_TYPE

from ..context import CurrentPrincipal, EditorTx, ViewerTx
from ..pagination import Page
from ..plans import service as plan_service
from ..problems import errors
from . import service
from .schemas import CronPreview, PipelineCreate, PipelineOut, PipelineUpdate

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"], responses=errors(401, 403, 422, 429))
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("", status_code=201, response_model=PipelineOut, summary="Create a pipeline")
async def create_pipeline(body: PipelineCreate, tx: EditorTx) -> PipelineOut:
    return await service.create(tx, body)


@router.get("", response_model=Page[PipelineOut], summary="List pipelines, newest first")
async def list_pipelines(
    tx: ViewerTx,
    status: Literal["active", "paused"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Page[PipelineOut]:
    return Page[PipelineOut](**await service.list_page(tx, status, cursor, limit))


@router.get(
    "/cron-preview",
    response_model=CronPreview,
    responses=errors(400),
    summary="The next fire times of a cron in a time zone (validated as a pipeline's cron is)",
    description="400 with the reason when the cron or the time zone would be refused by pipeline create.",
)
async def preview_cron(
    _: CurrentPrincipal,
    cron: Annotated[str, Query(min_length=1, max_length=100, description="Five fields, e.g. `0 9 * * 1-5`.")],
    timezone: Annotated[str, Query(min_length=1, max_length=64, description="IANA zone.")] = "UTC",
    count: Annotated[int, Query(ge=1, le=20)] = 5,
) -> CronPreview:
    return service.cron_preview(cron, timezone, count)


@router.get("/{pipeline_id}", response_model=PipelineOut, responses=errors(404), summary="Get a pipeline")
async def get_pipeline(pipeline_id: UUID, tx: ViewerTx) -> PipelineOut:
    return await service.get(tx, pipeline_id)


@router.get(
    "/{pipeline_id}/plan",
    response_class=Response,
    responses={
        **errors(400, 404),
        200: {
            "description": "The plan file with what the runs wrote in it.",
            "content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}},
        },
    },
    summary="Download a CSV or XLSX pipeline's plan with every row's status, result and note filled in",
    description="The file you uploaded, with the status (D), result (E) and note columns the runs wrote. "
    "XLSX: both tabs in one workbook; CSV: one tab per download (`tab=Subtopics` for the sub-topics).",
)
async def download_plan(
    pipeline_id: UUID,
    tx: ViewerTx,
    tab: Annotated[Literal["ContentPlan", "Subtopics"], Query()] = "ContentPlan",
) -> Response:
    content, media, name = await plan_service.download(tx, pipeline_id, tab)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.patch(
    "/{pipeline_id}", response_model=PipelineOut, responses=errors(404), summary="Change a pipeline"
)
async def update_pipeline(pipeline_id: UUID, body: PipelineUpdate, tx: EditorTx) -> PipelineOut:
    return await service.update(tx, pipeline_id, body)


@router.delete("/{pipeline_id}", status_code=204, responses=errors(404), summary="Delete a pipeline")
async def delete_pipeline(pipeline_id: UUID, tx: EditorTx) -> Response:
    await service.delete(tx, pipeline_id)
    return Response(status_code=204)
