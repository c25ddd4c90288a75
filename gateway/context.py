"""The tenant context: the one dependency that turns a caller into a tenant, and the transaction it opens.

``principal`` authenticates the caller (a Bearer access token, or an API key in ``X-API-Key`` or as a
Bearer ``icop_…`` token), counts the request against the tenant's rate limit and checks the role.
``tenant_tx`` from ``icop.db`` then opens the request's transaction: every route reaches the database
through it, and it commits or rolls back once when the route returns (services never commit).
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from icop.db import tenant_tx
from icop.errors import Forbidden, Unauthorized
from icop.security import TokenCodec
from icop.settings import Settings
from icop.social.oauth import OAuthConnector, build_connectors
from icop.storage import ObjectStore, make_store
from icop.vault import Vault

from .api_keys.repository import ApiKeyRepository, parse_api_key
from .config import GatewayConfig
from .ratelimit.service import RateLimiter
from .runs.temporal_starter import WorkflowEngine

Role = Literal["admin", "editor", "viewer"]
RANK: dict[str, int] = {"viewer": 0, "editor": 1, "admin": 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which tenant, with which role."""

    tenant_id: UUID
    actor_id: UUID
    actor_kind: Literal["user", "api_key"]
    role: Role
    plan: str = "starter"


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

    @cached_property
    def store(self) -> ObjectStore:
        """Articles' Markdown and images, uploaded plans."""
        return make_store(self.settings)

    @cached_property
    def oauth_connectors(self) -> dict[str, OAuthConnector]:
        """The platforms' OAuth sign-in flows, by platform."""
        return build_connectors(self.settings)


@dataclass(frozen=True)
class Tx:
    """A request's tenant-scoped transaction and the principal it belongs to."""

    conn: asyncpg.Connection
    who: Principal
    services: Services

    @property
    def tenant_id(self) -> UUID:
        return self.who.tenant_id


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]  # Starlette's app.state is untyped


def pool_of(svc: Services) -> asyncpg.Pool:
    if svc.pool is None:
        raise RuntimeError("the database pool is not open")
    return svc.pool


_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login, or an API key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (icop_…).")


async def _authenticate(
    svc: Services, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Principal:
    token = api_key or (bearer.credentials if bearer else None)
    if not token:
        raise Unauthorized("send an access token (Authorization: Bearer …) or an API key (X-API-Key)")
    pool = pool_of(svc)
    if token.startswith("icop_"):
        parsed = parse_api_key(token)
        if parsed is None:
            raise Unauthorized("invalid API key")
        async with pool.acquire() as conn:  # the sanctioned pre-tenant lookup: an id, never a hash
            tenant_id = await conn.fetchval("SELECT auth_api_key_tenant($1)", parsed.prefix)
        if tenant_id is None:
            raise Unauthorized("invalid API key")
        async with tenant_tx(pool, tenant_id) as conn:
            key = await ApiKeyRepository().authenticate(conn, tenant_id, parsed)
            if key is None:
                raise Unauthorized("invalid or revoked API key")
            plan = await svc.limiter.check(conn, tenant_id)
        role: Role = "editor" if "write" in key.scopes else "viewer"
        return Principal(tenant_id, key.id, "api_key", role, plan)
    claims = svc.codec.verify(token)
    async with tenant_tx(pool, claims.tenant_id) as conn:
        plan = await svc.limiter.check(conn, claims.tenant_id)
    return Principal(claims.tenant_id, claims.user_id, "user", claims.role, plan)


def principal_for(min_role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def principal(
        svc: Annotated[Services, Depends(services)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        who = await _authenticate(svc, bearer, api_key)
        if RANK[who.role] < RANK[min_role]:
            raise Forbidden(f"this action needs the {min_role} role; the caller is {who.role}")
        return who

    return principal


def tx_for(min_role: Role) -> Callable[..., AsyncIterator[Tx]]:
    who_dep = principal_for(min_role)

    async def tx(
        svc: Annotated[Services, Depends(services)], who: Annotated[Principal, Depends(who_dep)]
    ) -> AsyncIterator[Tx]:
        async with tenant_tx(pool_of(svc), who.tenant_id) as conn:
            yield Tx(conn, who, svc)

    return tx


# scope="function": the transaction ends (commit or rollback) when the route returns, before the response.
ViewerTx = Annotated[Tx, Depends(tx_for("viewer"), scope="function")]
EditorTx = Annotated[Tx, Depends(tx_for("editor"), scope="function")]
AdminTx = Annotated[Tx, Depends(tx_for("admin"), scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(principal_for("viewer"))]
