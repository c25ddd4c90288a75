"""Webhook endpoints: register (the signing secret is shown once), list, change, remove; see each delivery
and its attempts; ask for a redelivery."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from icop.statuses import DeliveryStatus

from ..context import AdminTx, EditorTx, ViewerTx
from ..pagination import Page
from ..problems import errors
from . import service
from .schemas import (
    DeliveryDetail,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=errors(401, 403, 422, 429))


@router.post(
    "", status_code=201, response_model=WebhookCreated, responses=errors(409),
    summary="Register a webhook endpoint (its signing secret is shown once)",
)  # fmt: skip
async def create_webhook(body: WebhookCreate, tx: AdminTx) -> WebhookCreated:
    return await service.create(tx, body)


@router.get("", response_model=list[WebhookOut], summary="List webhook endpoints (never the secrets)")
async def list_webhooks(tx: ViewerTx) -> list[WebhookOut]:
    return await service.list_endpoints(tx)


@router.get(
    "/{endpoint_id}", response_model=WebhookOut, responses=errors(404), summary="Get a webhook endpoint"
)
async def get_webhook(endpoint_id: UUID, tx: ViewerTx) -> WebhookOut:
    return await service.get(tx, endpoint_id)


@router.patch(
    "/{endpoint_id}", response_model=WebhookOut, responses=errors(404),
    summary="Change a webhook endpoint; `enabled: true` re-enables a disabled one",
)  # fmt: skip
async def update_webhook(endpoint_id: UUID, body: WebhookUpdate, tx: AdminTx) -> WebhookOut:
    return await service.update(tx, endpoint_id, body)


@router.delete("/{endpoint_id}", status_code=204, responses=errors(404), summary="Remove a webhook endpoint")
async def delete_webhook(endpoint_id: UUID, tx: AdminTx) -> Response:
    await service.delete(tx, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/deliveries", response_model=Page[DeliveryOut], responses=errors(404),
    summary="An endpoint's deliveries, newest first",
)  # fmt: skip
async def list_deliveries(
    endpoint_id: UUID,
    tx: ViewerTx,
    status: DeliveryStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[DeliveryOut]:
    return Page[DeliveryOut](**await service.deliveries(tx, endpoint_id, status, cursor, limit))


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=errors(404),
    summary="One delivery with every attempt (status code, latency, response excerpt)",
)  # fmt: skip
async def get_delivery(endpoint_id: UUID, delivery_id: UUID, tx: ViewerTx) -> DeliveryDetail:
    return await service.delivery(tx, endpoint_id, delivery_id)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryOut,
    responses=errors(404, 409), summary="Send a delivery again (same event id), with a fresh retry schedule",
)  # fmt: skip
async def redeliver(endpoint_id: UUID, delivery_id: UUID, tx: EditorTx) -> DeliveryOut:
    return await service.redeliver(tx, endpoint_id, delivery_id)
