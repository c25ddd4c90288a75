"""Rules: URLs are vetted (public addresses in every mode, https outside embedded development); the signing
secret is generated here, stored encrypted by the vault and shown once; redelivery restarts a delivery's
schedule."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from icop.errors import Conflict, InvalidRequest, NotFound
from icop.events import signing
from icop.events.delivery import secret_ref
from icop.events.ssrf import UnsafeWebhookURL, vet

from ..context import Tx
from ..pagination import decode_cursor, page_of
from .repository import WebhookRepository
from .schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

repo = WebhookRepository()
MAX_ENDPOINTS = 20


async def _vetted(tx: Tx, url: str) -> str:
    try:
        await vet(url, tx.services.settings)
    except UnsafeWebhookURL as e:
        raise InvalidRequest(f"webhook URL refused: {e}") from e
    return url


async def create(tx: Tx, body: WebhookCreate) -> WebhookCreated:
    url = await _vetted(tx, body.url)
    if await repo.count(tx.conn, tx.tenant_id) >= MAX_ENDPOINTS:
        raise Conflict(f"a tenant may register at most {MAX_ENDPOINTS} webhook endpoints")
    endpoint_id = uuid4()  # known before encryption: it is part of the associated data
    secret = signing.new_secret()
    enc = tx.services.vault.encrypt(secret, secret_ref(tx.tenant_id, endpoint_id))
    row = await repo.insert(
        tx.conn, tx.tenant_id, endpoint_id, url, body.description, body.event_types, enc, body.enabled
    )
    return WebhookCreated(**dict(row), secret=secret)


async def list_endpoints(tx: Tx) -> list[WebhookOut]:
    return [WebhookOut(**dict(r)) for r in await repo.list(tx.conn, tx.tenant_id)]


async def get(tx: Tx, endpoint_id: UUID) -> WebhookOut:
    row = await repo.get(tx.conn, tx.tenant_id, endpoint_id)
    if row is None:
        raise NotFound("no such webhook endpoint")
    return WebhookOut(**dict(row))


async def update(tx: Tx, endpoint_id: UUID, body: WebhookUpdate) -> WebhookOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    current = await get(tx, endpoint_id)  # another tenant's id: 404 before anything about the URL
    if "url" in changes:
        changes["url"] = await _vetted(tx, changes["url"])
    if not changes:
        return current
    row = await repo.update(tx.conn, tx.tenant_id, endpoint_id, changes)
    if row is None:
        raise NotFound("no such webhook endpoint")
    return WebhookOut(**dict(row))


async def delete(tx: Tx, endpoint_id: UUID) -> None:
    if not await repo.delete(tx.conn, tx.tenant_id, endpoint_id):
        raise NotFound("no such webhook endpoint")


async def deliveries(
    tx: Tx, endpoint_id: UUID, status: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    await get(tx, endpoint_id)
    rows = await repo.deliveries(tx.conn, tx.tenant_id, endpoint_id, status, decode_cursor(cursor), limit + 1)
    return page_of(rows, limit, lambda r: DeliveryOut(**dict(r)))


async def delivery(tx: Tx, endpoint_id: UUID, delivery_id: UUID) -> DeliveryDetail:
    row = await repo.delivery(tx.conn, tx.tenant_id, endpoint_id, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    attempts = [AttemptOut(**dict(a)) for a in await repo.attempts(tx.conn, tx.tenant_id, delivery_id)]
    return DeliveryDetail(**dict(row), attempt_log=attempts)


async def redeliver(tx: Tx, endpoint_id: UUID, delivery_id: UUID) -> DeliveryOut:
    row = await repo.redeliver(tx.conn, tx.tenant_id, endpoint_id, delivery_id)
    if row is None:
        if await repo.delivery(tx.conn, tx.tenant_id, endpoint_id, delivery_id) is None:
            raise NotFound("no such delivery")
        raise Conflict("an attempt of this delivery is in flight; try again when it has finished")
    return DeliveryOut(**dict(row))
