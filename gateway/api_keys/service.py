"""Rules for API keys: admins create and revoke them; the secret is returned once and only its hash is
kept."""

from __future__ import annotations

from uuid import UUID

from icop.errors import NotFound

from ..context import Tx
from .repository import ApiKeyRepository, new_api_key
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut

repo = ApiKeyRepository()


async def create_key(tx: Tx, body: ApiKeyCreate) -> ApiKeyCreated:
    key = new_api_key()
    created_by = tx.who.actor_id if tx.who.actor_kind == "user" else None
    row = await repo.create(tx.conn, tx.tenant_id, body.name, key, sorted(set(body.scopes)), created_by)
    return ApiKeyCreated(**dict(row), key=key.full)


async def list_keys(tx: Tx) -> list[ApiKeyOut]:
    return [ApiKeyOut(**dict(r)) for r in await repo.list(tx.conn, tx.tenant_id)]


async def get_key(tx: Tx, key_id: UUID) -> ApiKeyOut:
    row = await repo.get(tx.conn, tx.tenant_id, key_id)
    if row is None:
        raise NotFound("no such API key")
    return ApiKeyOut(**dict(row))


async def revoke_key(tx: Tx, key_id: UUID) -> ApiKeyOut:
    row = await repo.revoke(tx.conn, tx.tenant_id, key_id)
    if row is None:
        raise NotFound("no such API key")
    return ApiKeyOut(**dict(row))
