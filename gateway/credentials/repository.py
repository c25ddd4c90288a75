"""Every SQL statement about ``api_credentials``. Encrypted columns are written here and never selected for
output."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

COLS = (
    "id, platform, account_id, account_name, scopes, expires_at, status, status_reason, "
    "created_at, updated_at"
)


class CredentialRepository:
    async def find(
        self, conn: asyncpg.Connection, tenant_id: UUID, platform: str, account_id: str
    ) -> UUID | None:
        credential_id: UUID | None = await conn.fetchval(
            "SELECT id FROM api_credentials WHERE tenant_id = $1 AND platform = $2 AND account_id = $3",
            tenant_id,
            platform,
            account_id,
        )
        return credential_id

    async def count_connected(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval(
            # search keys and the Google account the plans are read with are not publishing accounts
            "SELECT count(*) FROM api_credentials WHERE tenant_id = $1 AND status <> 'revoked' "
            "AND platform NOT IN ('tavily', 'naver', 'google', 'google_service_account')",
            tenant_id,
        )
        return n

    async def upsert(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        cred_id: UUID,
        platform: str,
        account_id: str,
        account_name: str,
        access_enc: bytes,
        refresh_enc: bytes | None,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            f"""INSERT INTO api_credentials (id, tenant_id, platform, account_id, account_name,
              access_token_enc,
                                             refresh_token_enc, scopes, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (id) DO UPDATE SET account_name = excluded.account_name,
                    access_token_enc = excluded.access_token_enc, refresh_token_enc =
                      excluded.refresh_token_enc,
                    scopes = excluded.scopes, expires_at = excluded.expires_at, status = 'active',
                    status_reason = NULL, updated_at = now()
                RETURNING {COLS}""",
            cred_id,
            tenant_id,
            platform,
            account_id,
            account_name,
            access_enc,
            refresh_enc,
            scopes,
            expires_at,
        )

    async def list(
        self, conn: asyncpg.Connection, tenant_id: UUID, platform: str | None
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM api_credentials WHERE tenant_id = $1 AND ($2::text IS NULL OR platform =
              $2)
                ORDER BY created_at DESC, id DESC""",
            tenant_id,
            platform,
        )
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, cred_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM api_credentials WHERE tenant_id = $1 AND id = $2", tenant_id, cred_id
        )

    async def delete(self, conn: asyncpg.Connection, tenant_id: UUID, cred_id: UUID) -> bool:
        status: str = await conn.execute(
            "DELETE FROM api_credentials WHERE tenant_id = $1 AND id = $2", tenant_id, cred_id
        )
        return status.endswith(" 1")
