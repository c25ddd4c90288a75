from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ..context import AdminTx, EditorTx, ViewerTx
from ..problems import errors
from . import oauth_service, service
from .schemas import (
    CredentialCreate,
    CredentialOut,
    OAuthCallback,
    OAuthPlatform,
    OAuthStart,
    OAuthStartOut,
    Platform,
    ServiceAccountOut,
    ServiceAccountUpload,
)

router = APIRouter(prefix="/v1/credentials", tags=["credentials"], responses=errors(401, 403, 422, 429))


@router.post(
    "",
    response_model=CredentialOut,
    status_code=201,
    responses={200: {"description": "An existing account's tokens were replaced", "model": CredentialOut}},
    summary="Connect an account (or replace its tokens); tokens are never returned",
)
async def connect_credential(body: CredentialCreate, tx: AdminTx, response: Response) -> CredentialOut:
    out, created = await service.connect_given(tx, body)
    response.status_code = 201 if created else 200
    return out


@router.post(
    "/google/service-account",
    response_model=ServiceAccountOut,
    status_code=201,
    responses={
        200: {"description": "The same service account's key was replaced", "model": ServiceAccountOut},
        **errors(422),
    },
    summary="Upload a Google service account's key; the answer says which e-mail to share the sheets with",
    description="The alternative to connecting a Google account: the tenant's runs read and write its sheets "
    "as this service account, so each sheet must be shared with `share_with`. The key is checked (a "
    "service-account key with an RSA private key) and stored encrypted; it is never returned. 422: the file "
    "is not a usable key (the detail says what to download).",
)
async def upload_service_account(
    body: ServiceAccountUpload, tx: AdminTx, response: Response
) -> ServiceAccountOut:
    out, created = await service.connect_service_account(tx, body)
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


@router.delete(
    "/{credential_id}",
    status_code=204,
    responses=errors(404),
    summary="Disconnect an account (a Google account's grant is also revoked at Google)",
)
async def delete_credential(credential_id: UUID, tx: AdminTx) -> Response:
    await service.delete_credential(tx, credential_id)
    return Response(status_code=204)


@router.post(
    "/oauth/{platform}/start",
    response_model=OAuthStartOut,
    responses=errors(400, 503),
    summary="Start connecting an account through the platform's OAuth consent page",
    description="Returns the platform's authorize URL (send the user's browser there) and a sealed state "
    "valid for 10 minutes. Google and X use PKCE (S256); the verifier stays inside the sealed state. Google "
    "asks for offline access to the account's spreadsheets (the tenant's runs read and write its sheets as "
    "that account, and only the sheets shared with it) and to its files' names and dates (to list its "
    "spreadsheets, GET /v1/google/spreadsheets). 400: the "
    "redirect URI is not on the dashboard's origin. 503: no app is configured for the platform.",
)
async def start_oauth(platform: OAuthPlatform, body: OAuthStart, tx: EditorTx) -> OAuthStartOut:
    return await oauth_service.start(tx, platform, body)


@router.post(
    "/oauth/{platform}/callback",
    response_model=list[CredentialOut],
    responses=errors(400, 502, 503),
    summary="Finish connecting: exchange the code, store the accounts (tokens encrypted, never returned)",
    description="Send what the platform appended to the redirect URI (`code` and `state`, or `error` and "
    "`state`). Returns the accounts connected or reconnected (a reconnect clears `needs_reauth`). 400: the "
    "state is expired, altered or another user's, the user cancelled, or the platform refused the code. "
    "502: the platform could not be reached.",
)
async def finish_oauth(platform: OAuthPlatform, body: OAuthCallback, tx: EditorTx) -> list[CredentialOut]:
    return await oauth_service.callback(tx, platform, body)
