from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ..context import AdminTx, ViewerTx
from ..problems import errors
from . import service
from .schemas import CredentialCreate, CredentialOut, Platform

router = APIRouter(prefix="/v1/credentials", tags=["credentials"], responses=errors(401, 403, 422, 429))


@router.post(
    "",
    response_model=CredentialOut,
    status_code=201,
    responses={200: {"description": "An existing account's tokens were replaced", "model": CredentialOut}},
    summary="Connect an account (or replace its tokens); tokens are never returned",
)
async def connect_credential(body: CredentialCreate, tx: AdminTx, response: Response) -> CredentialOut:
    out, created = await service.connect(tx, body)
    response.status_code = 201 if created else 200
    return out


@router.get("", response_model=list[CredentialOut], summary="List connected accounts")
async def list_credentials(tx: ViewerTx, platform: Platform | None = None) -> list[CredentialOut]:
    return await service.list_credentials(tx, platform)


@router.get(
    "/{credential_id}", response_model=CredentialOut, responses=errors(404), summary="Get a connected account"
)
async def get_credential(credential_id: UUID, tx: ViewerTx) -> CredentialOut:
    return await service.get_credential(tx, credential_id)


@router.delete("/{credential_id}", status_code=204, responses=errors(404), summary="Disconnect an account")
async def delete_credential(credential_id: UUID, tx: AdminTx) -> Response:
    await service.delete_credential(tx, credential_id)
    return Response(status_code=204)
