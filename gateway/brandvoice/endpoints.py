"""Brand voice: sample texts whose closest matches the writers get as style guidance."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Response

from ..context import EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import LANGUAGE_PATTERN, SampleOut, SamplesCreate

log = logging.getLogger(__name__)


@asynccontextmanager
async def warm_embedder(app: FastAPI) -> AsyncIterator[None]:
    """Load the embedding models in the background at start, so the first POST does not wait for them."""
    choice = service.brand_voice(app.state.services).choice

    async def warm() -> None:
        try:
            for model in choice.models():
                await asyncio.to_thread(choice.embedder(model).encode, ["warm up"])
        except Exception as exc:  # noqa: BLE001 - the first POST will load it (and report) instead
            log.warning("brand-voice model warm-up failed: %s", exc)

    task = asyncio.create_task(warm())
    app.state.services.warming.append(task)
    yield
    if not task.done():
        task.cancel()  # the thread finishes on its own; nobody awaits it any more


router = APIRouter(
    prefix="/v1/brand-voice",
    tags=["brand voice"],
    responses=errors(401, 403, 422, 429),
    lifespan=warm_embedder,
)
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post(
    "/samples",
    status_code=201,
    response_model=list[SampleOut],
    responses=errors(404, 409),
    summary="Add brand-voice samples (one or many); they are embedded for matching",
)
async def add_samples(body: SamplesCreate, tx: EditorTx) -> list[SampleOut]:
    return await service.add(tx, body)


@router.get("/samples", response_model=Page[SampleOut], summary="List brand-voice samples, newest first")
async def list_samples(
    tx: ViewerTx,
    language: Annotated[str | None, Query(pattern=LANGUAGE_PATTERN)] = None,
    pipeline_id: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Page[SampleOut]:
    return Page[SampleOut](**await service.list_page(tx, language, pipeline_id, cursor, limit))


@router.get("/samples/{sample_id}", response_model=SampleOut, responses=errors(404), summary="Get a sample")
async def get_sample(sample_id: UUID, tx: ViewerTx) -> SampleOut:
    return await service.get(tx, sample_id)


@router.delete(
    "/samples/{sample_id}", status_code=204, responses=errors(404), summary="Delete a brand-voice sample"
)
async def delete_sample(sample_id: UUID, tx: EditorTx) -> Response:
    await service.delete(tx, sample_id)
    return Response(status_code=204)
