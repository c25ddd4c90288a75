from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ..context import CurrentPrincipal, Services, pool_of, services
from ..problems import errors
from .schemas import Login, Me, RefreshRequest, SignUp, SignUpAccepted, TokenPair
from .service import AuthService
from .throttle import client_address

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=errors(422))


async def auth_service(svc: Annotated[Services, Depends(services)]) -> AuthService:
    return AuthService(pool_of(svc), svc.codec, svc.config, svc.settings)


async def address(request: Request, svc: Annotated[Services, Depends(services)]) -> str:
    return client_address(request, svc.settings.trusted_proxies)


Auth = Annotated[AuthService, Depends(auth_service)]
ClientAddress = Annotated[str, Depends(address)]


def _no_store(response: Response) -> None:
    # Tokens must not be kept by any cache (RFC 6749 section 5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post(
    "/signup",
    status_code=202,
    response_model=SignUpAccepted,
    responses=errors(429),
    summary="Create a tenant and its first admin (then log in)",
    description="Answers 202 the same way whether or not the address is already registered, so that "
    "sign-up does not tell who has an account; log in next. Every tenant starts on the starter plan.",
)
async def signup(body: SignUp, auth: Auth, client: ClientAddress, response: Response) -> SignUpAccepted:
    _no_store(response)
    return await auth.sign_up(body, client)


@router.post(
    "/login",
    response_model=TokenPair,
    responses=errors(401, 429),
    summary="Log in with e-mail and password",
    description="Throttled per account and per client address (429 with Retry-After).",
)
async def login(body: Login, auth: Auth, client: ClientAddress, response: Response) -> TokenPair:
    _no_store(response)
    return await auth.login(body, client)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=errors(401),
    summary="Trade a refresh token for a new pair (single use; reuse revokes the family)",
)
async def refresh(body: RefreshRequest, auth: Auth, response: Response) -> TokenPair:
    _no_store(response)
    return await auth.refresh(body.refresh_token.get_secret_value())


@router.post(
    "/logout",
    status_code=204,
    summary="End the session: its refresh token family and its access tokens are revoked",
)
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
