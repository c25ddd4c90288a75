from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from ..context import CurrentPrincipal, Services, pool_of, services
from ..problems import errors
from .schemas import Login, Me, RefreshRequest, SignUp, TokenPair
from .service import AuthService

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=errors(422))


def auth_service(svc: Annotated[Services, Depends(services)]) -> AuthService:
    return AuthService(pool_of(svc), svc.codec, svc.config)


Auth = Annotated[AuthService, Depends(auth_service)]


@router.post(
    "/signup",
    status_code=201,
    response_model=TokenPair,
    responses=errors(409),
    summary="Create a tenant and its first admin",
)
async def signup(body: SignUp, auth: Auth) -> TokenPair:
    return await auth.sign_up(body)


@router.post(
    "/login", response_model=TokenPair, responses=errors(401), summary="Log in with e-mail and password"
)
async def login(body: Login, auth: Auth) -> TokenPair:
    return await auth.login(body)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=errors(401),
    summary="Trade a refresh token for a new pair (single use; reuse revokes the family)",
)
async def refresh(body: RefreshRequest, auth: Auth) -> TokenPair:
    return await auth.refresh(body.refresh_token.get_secret_value())


@router.post("/logout", status_code=204, summary="Revoke a refresh token and its family")
async def logout(body: RefreshRequest, auth: Auth) -> Response:
    await auth.logout(body.refresh_token.get_secret_value())
    return Response(status_code=204)


@router.get("/me", response_model=Me, responses=errors(401, 403, 429), summary="Who the caller is")
async def me(who: CurrentPrincipal) -> Me:
    return Me(
        tenant_id=who.tenant_id,
        actor_id=who.actor_id,
        actor_kind=who.actor_kind,
        role=who.role,
        plan=who.plan,
    )
