"""Decrypted platform tokens for the publisher, behind a small Protocol; the vault-backed store.

Plaintext tokens leave the vault only here, to the connector that uses them, and never reach a log
or a post row. Refresh with rotation (X) is serialised per credential by a row lock, so two workers
never spend the same single-use refresh token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.events import hooks
from icop.insights import repository as insights_repo
from icop.vault import SecretRef, Vault

from .clients import OAuthTokens


@dataclass(frozen=True)
class Credential:
    id: UUID
    tenant_id: UUID
    platform: str
    account_id: str
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    status: str
    status_reason: str | None = None

    def __repr__(self) -> str:  # never print tokens
        return (
            f"Credential({self.platform}:{self.account_id}, status={self.status}, expires={self.expires_at})"
        )


Refresher = Callable[[Credential], Awaitable[OAuthTokens]]


class TokenStore(Protocol):
    async def get(self, tenant_id: UUID, platform: str, account_id: str) -> Credential | None: ...

    async def rotate(self, cred: Credential, refresh: Refresher) -> Credential:
        """Refresh under a per-credential lock; if another worker already did, return its tokens."""
        ...

    async def mark_needs_reauth(self, cred: Credential, reason: str) -> None: ...


class VaultTokenStore:
    """Tokens in ``api_credentials``, encrypted with :class:`icop.vault.Vault` (AES-256-GCM)."""

    def __init__(self, pool: asyncpg.Pool, vault: Vault) -> None:
        self.pool, self.vault = pool, vault

    def _decrypt(self, tenant_id: UUID, row: asyncpg.Record) -> Credential:
        ref = SecretRef(tenant_id, row["id"], row["platform"])
        refresh = None
        if row["refresh_token_enc"] is not None:
            refresh = self.vault.decrypt(
                row["refresh_token_enc"], SecretRef(tenant_id, row["id"], row["platform"], "refresh_token")
            )
        return Credential(
            id=row["id"],
            tenant_id=tenant_id,
            platform=row["platform"],
            account_id=row["account_id"],
            access_token=self.vault.decrypt(row["access_token_enc"], ref),
            refresh_token=refresh,
            expires_at=row["expires_at"],
            status=row["status"],
            status_reason=row["status_reason"],
        )

    async def connect(
        self, tenant_id: UUID, platform: str, account_id: str, tokens: OAuthTokens, account_name: str = ""
    ) -> Credential:
        """Store (or replace) an account's tokens: what an OAuth callback does; reactivates the credential."""
        async with tenant_tx(self.pool, tenant_id) as conn:
            cred_id = await conn.fetchval(
                """INSERT INTO api_credentials
                     (tenant_id, platform, account_id, account_name, access_token_enc)
                   VALUES ($1, $2, $3, $4, '\\x00') ON CONFLICT (tenant_id, platform, account_id)
                   DO UPDATE SET account_name = EXCLUDED.account_name RETURNING id""",
                tenant_id,
                platform,
                account_id,
                account_name,
            )
            await self._write(conn, tenant_id, cred_id, platform, tokens, reactivate=True)
            # Connected again (permissions granted afresh): engagement collection that stopped for a lost
            # permission goes on.
            await insights_repo.resume_account(conn, tenant_id, platform, account_id)
            row = await conn.fetchrow("SELECT * FROM api_credentials WHERE id = $1", cred_id)
            return self._decrypt(tenant_id, row)

    async def _write(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        cred_id: UUID,
        platform: str,
        t: OAuthTokens,
        reactivate: bool = False,
    ) -> None:
        access = self.vault.encrypt(t.access_token, SecretRef(tenant_id, cred_id, platform))
        refresh = (
            self.vault.encrypt(t.refresh_token, SecretRef(tenant_id, cred_id, platform, "refresh_token"))
            if t.refresh_token
            else None
        )
        await conn.execute(
            """UPDATE api_credentials SET access_token_enc = $3, refresh_token_enc = $4, expires_at = $5,
                      scopes = CASE WHEN cardinality($6::text[]) > 0 THEN $6::text[] ELSE scopes END,
                      status = CASE WHEN $7 THEN 'active' ELSE status END,
                      status_reason = CASE WHEN $7 THEN NULL ELSE status_reason END, updated_at = now()
               WHERE tenant_id = $1 AND id = $2""",
            tenant_id,
            cred_id,
            access,
            refresh,
            t.expires_at,
            list(t.scopes),
            reactivate,
        )

    async def get(self, tenant_id: UUID, platform: str, account_id: str) -> Credential | None:
        async with tenant_tx(self.pool, tenant_id) as conn:
            row = await conn.fetchrow(
                "SELECT * FROM api_credentials WHERE tenant_id = $1 AND platform = $2 AND account_id = $3",
                tenant_id,
                platform,
                account_id,
            )
        return self._decrypt(tenant_id, row) if row else None

    async def rotate(self, cred: Credential, refresh: Refresher) -> Credential:
        async with tenant_tx(self.pool, cred.tenant_id) as conn:
            row = await conn.fetchrow(
                "SELECT * FROM api_credentials WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                cred.tenant_id,
                cred.id,
            )
            if row is None:
                raise LookupError("credential disappeared")
            current = self._decrypt(cred.tenant_id, row)
            if current.access_token != cred.access_token:
                return current  # another worker refreshed while we waited for the lock
            tokens = await refresh(current)
            # Store the rotated pair at once: the old refresh token no longer works.
            await self._write(conn, cred.tenant_id, cred.id, cred.platform, tokens)
            row = await conn.fetchrow("SELECT * FROM api_credentials WHERE id = $1", cred.id)
            return self._decrypt(cred.tenant_id, row)

    async def mark_needs_reauth(self, cred: Credential, reason: str) -> None:
        async with tenant_tx(self.pool, cred.tenant_id) as conn:
            await conn.execute(
                """UPDATE api_credentials SET status = 'needs_reauth', status_reason = $3, updated_at = now()
                   WHERE tenant_id = $1 AND id = $2""",
                cred.tenant_id,
                cred.id,
                reason[:500],
            )
            await hooks.credential_needs_reauth(
                conn, cred.tenant_id, cred.id, cred.platform, cred.account_id, reason
            )
