"""The tenant context: the one dependency that turns a caller into a tenant, and the transaction it opens.

A request's credential (a Bearer access token, or an API key in ``X-API-Key`` or as a Bearer ``icop_…``
token) names a tenant. ``tx_for`` opens that tenant's transaction (``icop.db.tenant_tx``) and, in it, checks
who the credential stands for *now*: the user still active, the login session not ended (logout, a reused
refresh token), the role as it is today; an API key not revoked and its creator still active, acting with
no more than the creator's current role. The request is counted against the tenant's rate limit in the same
transaction, and the route runs in it too: one transaction per request, committed or rolled back once when
the route returns (services never commit). A revoked credential is therefore refused by the very next
request. Long-lived responses (the event stream) re-check with :func:`still_valid`.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal, cast
from uuid import UUID

import asyncpg
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from icop.db import tenant_tx
from icop.errors import Forbidden, Unauthorized
from icop.google.access import GoogleAccess
from icop.google.oauth import GoogleOAuth
from icop.observability.logs import bind_ids
from icop.security import AccessClaims, TokenCodec
from icop.settings import Settings
from icop.social.oauth import OAuthConnector, build_connectors
from icop.storage import ObjectStore, make_store
from icop.vault import Vault

from .api_keys.repository import ApiKeyRepository, ParsedKey, parse_api_key
from .auth.repository import AuthRepository
from .config import GatewayConfig
from .ratelimit.service import RateLimiter
from .runs.temporal_starter import WorkflowEngine

log = logging.getLogger("icop.gateway")
Role = Literal["admin", "editor", "viewer"]
RANK: dict[str, int] = {"viewer": 0, "editor": 1, "admin": 2}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Credential:
    """What the caller presented, verified as far as it can be without the database."""

    tenant_id: UUID
    claims: AccessClaims | None = None
    """A user's access token (signature, expiry, audience checked)."""
    key: ParsedKey | None = None
    """An API key (its tenant found by its prefix; its secret is checked in the tenant's transaction)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which tenant, with which role (as the database says now)."""

    tenant_id: UUID
    actor_id: UUID
    actor_kind: Literal["user", "api_key"]
    role: Role
    plan: str = "starter"
    credential: Credential | None = field(default=None, repr=False, compare=False)


@dataclass
class Services:
    """Process-wide objects the routes need; built once by ``create_app``.

    ``engine`` defaults to no workflow engine (see :func:`.runs.temporal_starter.workflow_engine`).
    What costs something to build and many processes never use (the object store, the OAuth connectors)
    is built on first use.
    """

    pool: asyncpg.Pool | None
    codec: TokenCodec
    vault: Vault
    config: GatewayConfig
    limiter: RateLimiter
    settings: Settings
    engine: WorkflowEngine = field(default_factory=WorkflowEngine)
    warming: list[asyncio.Task[None]] = field(default_factory=list)
    """Start-up work done in the background (model warm-ups): ``/readyz`` says ready once all are done."""

    @cached_property
    def store(self) -> ObjectStore:
        """Articles' Markdown and images, uploaded plans."""
        return make_store(self.settings)

    @cached_property
    def google(self) -> GoogleAccess:
        """Google clients acting as each tenant's own Google identity (its sheets, its Drive)."""
        return GoogleAccess(pool_of(self), self.vault, self.settings)

    @cached_property
    def oauth_connectors(self) -> dict[str, OAuthConnector]:
        """The platforms' OAuth sign-in flows, by platform."""
        return build_connectors(self.settings) | {"google": GoogleOAuth.from_settings(self.settings)}


@dataclass(frozen=True)
class Tx:
    """A request's tenant-scoped transaction and the principal it belongs to."""

    conn: asyncpg.Connection
    who: Principal
    services: Services

    @property
    def tenant_id(self) -> UUID:
        return self.who.tenant_id


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop on every request
    return request.app.state.services  # type: ignore[no-any-return]  # Starlette's app.state is untyped


def pool_of(svc: Services) -> asyncpg.Pool:
    if svc.pool is None:
        raise RuntimeError("the database pool is not open")
    return svc.pool


_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login, or an API key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (icop_…).")
_auth = AuthRepository()
SESSION_ENDED = "this session has ended (logged out, or the user was disabled): log in again"
_keys = ApiKeyRepository()


async def _credential(
    svc: Services, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Credential:
    token = api_key or (bearer.credentials if bearer else None)
    if not token:
        raise Unauthorized("send an access token (Authorization: Bearer …) or an API key (X-API-Key)")
    if token.startswith("icop_"):
        parsed = parse_api_key(token)
        if parsed is None:
            raise Unauthorized("invalid API key")
        async with pool_of(svc).acquire() as conn:  # the sanctioned pre-tenant lookup: an id, never a hash
            tenant_id = await conn.fetchval("SELECT auth_api_key_tenant($1)", parsed.prefix)
        if tenant_id is None:
            raise Unauthorized("invalid API key")
        return Credential(tenant_id, key=parsed)
    claims = svc.codec.verify(token)
    return Credential(claims.tenant_id, claims=claims)


async def _identify(conn: asyncpg.Connection, cred: Credential) -> tuple[UUID, Role]:
    """The actor and its role now, in the tenant's transaction; Unauthorized if the credential is gone."""
    if cred.claims is not None:
        c = cred.claims
        role = await _auth.live_session_role(conn, c.tenant_id, c.user_id, c.session_id)
        if role is None:
            raise Unauthorized(SESSION_ENDED)
        return c.user_id, role
    assert cred.key is not None
    key = await _keys.authenticate(conn, cred.tenant_id, cred.key)
    if key is None:
        raise Unauthorized("invalid, revoked or suspended API key (keys stop working with their creator)")
    scope_role: Role = "editor" if "write" in key.scopes else "viewer"
    # A key acts with its scope, and never with more than its creator may do today.
    role = scope_role if RANK[scope_role] <= RANK[key.creator_role] else key.creator_role
    return key.id, role


async def admit(conn: asyncpg.Connection, svc: Services, cred: Credential) -> Principal:
    """Check the credential and count the request against the tenant's rate limit (a session token: both
    in one statement)."""
    actor: UUID
    role: Role
    if cred.claims is not None:
        c = cred.claims
        hit = await svc.limiter.count(conn, cred.tenant_id, session=(c.user_id, c.session_id))
        if hit.session_role is None:
            raise Unauthorized(SESSION_ENDED)
        actor, role = c.user_id, cast(Role, hit.session_role)
    else:
        actor, role = await _identify(conn, cred)
        hit = await svc.limiter.count(conn, cred.tenant_id)
    plan = await svc.limiter.judge(conn, cred.tenant_id, hit)
    kind: Literal["user", "api_key"] = "user" if cred.claims is not None else "api_key"
    bind_ids(tenant_id=cred.tenant_id)  # this request's log lines (and span) name the tenant
    return Principal(cred.tenant_id, actor, kind, role, plan, cred)


def require(who: Principal, min_role: Role) -> None:
    if RANK[who.role] < RANK[min_role]:
        raise Forbidden(f"this action needs the {min_role} role; the caller is {who.role}")


async def still_valid(conn: asyncpg.Connection, who: Principal) -> bool:
    """Whether ``who``'s credential still stands (a re-check in the caller's transaction, not counted)."""
    if who.credential is None:
        return False
    try:
        await _identify(conn, who.credential)
    except Unauthorized:
        return False
    return True


async def _count_failed(svc: Services, tenant_id: UUID) -> None:
    """A request that failed after it was admitted still counts (its transaction, and the count in it,
    rolled back): without this, probing for 404s would cost nothing against the rate limit."""
    try:
        async with tenant_tx(pool_of(svc), tenant_id, durable=False) as conn:
            await svc.limiter.check(conn, tenant_id)
    except Exception:  # best effort: the request's own error is the one to report
        log.debug("could not count a failed request of tenant %s", tenant_id, exc_info=True)


def principal_for(min_role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """The caller, checked and counted in a transaction of its own (for routes without a tenant tx)."""

    async def principal(
        svc: Annotated[Services, Depends(services)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        cred = await _credential(svc, bearer, api_key)
        async with tenant_tx(pool_of(svc), cred.tenant_id, durable=False) as conn:
            who = await admit(conn, svc, cred)
        require(who, min_role)
        return who

    return principal


def tx_for(min_role: Role) -> Callable[..., AsyncIterator[Tx]]:
    async def tx(
        request: Request,
        svc: Annotated[Services, Depends(services)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> AsyncIterator[Tx]:
        cred = await _credential(svc, bearer, api_key)
        # A read need not wait for its WAL flush (its only write is the request counter); a write must.
        durable = request.method not in SAFE_METHODS
        counted = False
        try:
            async with tenant_tx(pool_of(svc), cred.tenant_id, durable=durable) as conn:
                who = await admit(conn, svc, cred)
                counted = True
                require(who, min_role)
                yield Tx(conn, who, svc)
        except Exception:
            if counted:
                await _count_failed(svc, cred.tenant_id)
            raise

    return tx


# scope="function": the transaction ends (commit or rollback) when the route returns, before the response.
ViewerTx = Annotated[Tx, Depends(tx_for("viewer"), scope="function")]
EditorTx = Annotated[Tx, Depends(tx_for("editor"), scope="function")]
AdminTx = Annotated[Tx, Depends(tx_for("admin"), scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(principal_for("viewer"))]
