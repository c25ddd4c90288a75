"""Sign-up, login and refresh rotation.

These flows have no caller tenant yet, so this service opens the tenant transaction itself (through
``icop.db.tenant_tx``, as everything does). Refresh tokens look like ``<tenant uuid>.<secret>``: the
tenant needs no lookup, and only sha256 of the whole token is stored. A token used twice revokes its
whole family, so a stolen token that races the real client ends both sessions. The family is the login
session: access tokens name it (``sid``), so logging out or a reuse ends them too.

Sign-up and login are throttled per account and per client address before any Argon2 work. Sign-up
answers the same whether or not the address was registered (nothing is created for a taken one), and
always starts the tenant on the starter plan.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from icop.db import tenant_tx
from icop.errors import Unauthorized
from icop.plans import Plan
from icop.security import TokenCodec, hash_password, new_secret, password_error, sha256, verify_password
from icop.settings import Settings

from ..config import GatewayConfig
from . import throttle
from .repository import AuthRepository
from .schemas import Login, SignUp, SignUpAccepted, TokenPair

log = logging.getLogger("icop.gateway.auth")


@dataclass(frozen=True)
class _Refreshed:
    pair: TokenPair | None
    reused: bool = False


def _split_refresh(token: str) -> tuple[UUID, str] | None:
    tid, sep, secret = token.partition(".")
    if not sep or not secret:
        return None
    try:
        return UUID(tid), token
    except ValueError:
        return None


class AuthService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        codec: TokenCodec,
        config: GatewayConfig,
        settings: Settings,
        repo: AuthRepository | None = None,
    ) -> None:
        self.pool, self.codec, self.config, self.settings = pool, codec, config, settings
        self.repo = repo or AuthRepository()

    def _account(self, email: str) -> throttle.Bucket:
        return throttle.Bucket(
            "account", email, self.settings.auth_login_attempts_per_account,
            "too many sign-in attempts for this account",
        )  # fmt: skip

    async def _throttle(self, conn: asyncpg.Connection, *buckets: throttle.Bucket) -> None:
        await throttle.hit(conn, buckets, self.settings.auth_throttle_window_s)

    async def _issue(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        user_id: UUID,
        role: str,
        family_id: UUID | None = None,
    ) -> TokenPair:
        refresh = f"{tenant_id}.{new_secret(32)}"
        expires = datetime.now(UTC) + timedelta(seconds=self.config.refresh_ttl_s)
        session = family_id or uuid4()
        await self.repo.insert_refresh(conn, tenant_id, user_id, session, sha256(refresh), expires)
        return TokenPair(
            access_token=self.codec.issue(user_id, tenant_id, role, session),
            expires_in=self.codec.ttl_s,
            refresh_token=refresh,
            tenant_id=tenant_id,
            user_id=user_id,
            role=role,
        )

    async def sign_up(self, body: SignUp, address: str) -> SignUpAccepted:
        email = body.email  # one spelling (schemas.Email)
        async with self.pool.acquire() as conn:
            await self._throttle(
                conn,
                throttle.Bucket("signup-address", address, self.settings.auth_signups_per_address,
                                "too many sign-ups from this address"),
                self._account(email),
            )  # fmt: skip
        password = body.password.get_secret_value()
        refused = await asyncio.to_thread(
            password_error, password, email, body.company_name, body.display_name
        )
        if refused:
            raise refused
        password_hash = await asyncio.to_thread(hash_password, password)
        tenant_id = uuid4()  # made here so the transaction can be opened for it: RLS WITH CHECK passes
        try:
            async with tenant_tx(self.pool, tenant_id) as conn:
                await self.repo.insert_tenant(conn, tenant_id, body.company_name.strip(), Plan.STARTER)
                user_id = await self.repo.insert_user(
                    conn, tenant_id, email, body.display_name, "admin", password_hash
                )
                await self.repo.audit(conn, tenant_id, user_id, "tenant.signup", {"plan": Plan.STARTER})
        except asyncpg.UniqueViolationError:
            # Taken: nothing is created, and the answer is the one a free address gets.
            log.info("sign-up for an address that is already registered")
            return SignUpAccepted()
        log.info("tenant %s signed up", tenant_id)
        return SignUpAccepted()

    async def login(self, body: Login, address: str) -> TokenPair:
        email = body.email
        password = body.password.get_secret_value()
        async with self.pool.acquire() as conn:
            await self._throttle(
                conn,
                self._account(email),
                throttle.Bucket("login-address", address, self.settings.auth_login_attempts_per_address,
                                "too many sign-in attempts from this address"),
            )  # fmt: skip
            tenant_id = await self.repo.tenant_of_email(conn, email)
        if tenant_id is None:
            await asyncio.to_thread(verify_password, None, password)  # same cost as a real check
            raise Unauthorized("wrong e-mail address or password", code="auth.invalid_credentials")
        async with tenant_tx(self.pool, tenant_id) as conn:
            user = await self.repo.user_by_email(conn, tenant_id, email)
            ok = user is not None and await asyncio.to_thread(
                verify_password, user["password_hash"], password
            )
            if not ok or user is None or user["disabled_at"] is not None:
                raise Unauthorized("wrong e-mail address or password", code="auth.invalid_credentials")
            await self.repo.touch_login(conn, tenant_id, user["id"])
            pair = await self._issue(conn, tenant_id, user["id"], user["role"])
        log.info("user %s of tenant %s logged in", user["id"], tenant_id)
        return pair

    async def refresh(self, token: str) -> TokenPair:
        parsed = _split_refresh(token)
        if parsed is None:
            raise Unauthorized("invalid refresh token")
        tenant_id, full = parsed
        async with tenant_tx(self.pool, tenant_id) as conn:
            outcome = await self._rotate(conn, tenant_id, sha256(full))
        # Raised after the commit, so a reuse's family revocation is kept.
        if outcome.reused:
            log.warning("refresh token reuse in tenant %s: family revoked", tenant_id)
            raise Unauthorized("refresh token already used; every session of this login was revoked")
        if outcome.pair is None:
            raise Unauthorized("invalid or expired refresh token")
        return outcome.pair

    async def _rotate(self, conn: asyncpg.Connection, tenant_id: UUID, token_hash: bytes) -> _Refreshed:
        row = await self.repo.refresh_for_update(conn, tenant_id, token_hash)
        if row is None:
            return _Refreshed(None)
        if row["used_at"] is not None:  # presented a second time: someone holds a copy
            await self.repo.revoke_family(conn, tenant_id, row["family_id"])
            await self.repo.audit(
                conn, tenant_id, row["user_id"], "auth.refresh_reuse", {"family_id": str(row["family_id"])}
            )
            return _Refreshed(None, reused=True)
        if row["revoked_at"] is not None or row["expired"]:
            return _Refreshed(None)
        user = await self.repo.user_by_id(conn, tenant_id, row["user_id"])
        if user is None or user["disabled_at"] is not None:
            await self.repo.revoke_family(conn, tenant_id, row["family_id"])
            return _Refreshed(None)
        await self.repo.mark_used(conn, tenant_id, row["id"])
        return _Refreshed(await self._issue(conn, tenant_id, user["id"], user["role"], row["family_id"]))

    async def logout(self, token: str) -> None:
        parsed = _split_refresh(token)
        if parsed is None:
            return
        tenant_id, full = parsed
        async with tenant_tx(self.pool, tenant_id) as conn:
            row = await self.repo.refresh_for_update(conn, tenant_id, sha256(full))
            if row is not None:
                await self.repo.revoke_family(conn, tenant_id, row["family_id"])
