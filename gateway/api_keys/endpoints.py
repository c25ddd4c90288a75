from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from ..context import AdminTx
from ..problems import errors
from . import service
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], responses=errors(401, 403, 422, 429))


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create an API key (shown once)")
async def create_api_key(body: ApiKeyCreate, tx: AdminTx) -> ApiKeyCreated:
    return await service.create_key(tx, body)


@router.get("", response_model=list[ApiKeyOut], summary="List API keys (never the secrets)")
async def list_api_keys(tx: AdminTx) -> list[ApiKeyOut]:
    return await service.list_keys(tx)


@router.get("/{key_id}", response_model=ApiKeyOut, responses=errors(404), summary="Get an API key")
async def get_api_key(key_id: UUID, tx: AdminTx) -> ApiKeyOut:
    return await service.get_key(tx, key_id)


@router.delete("/{key_id}", response_model=ApiKeyOut, responses=errors(404), summary="Revoke an API key")
async def revoke_api_key(key_id: UUID, tx: AdminTx) -> ApiKeyOut:
    return await service.revoke_key(tx, key_id)
