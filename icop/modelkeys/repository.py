"""Every SQL statement about ``model_keys`` and ``model_key_pauses``. The encrypted key is written here and
selected only for the vault (:func:`secret_rows`, :func:`locked_secret`, :func:`rotation_batch`), never for
output.

Each function takes a connection opened by ``icop.db.tenant_tx`` and still filters by tenant.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import asyncpg

OUT = """k.provider, k.last4, k.verified_at, k.last_error, k.last_error_at, k.created_at, k.updated_at,
         p.code AS pause_code, p.params AS pause_params, p.reason AS pause_reason, p.since AS paused_since"""
JOINED = "model_keys k LEFT JOIN model_key_pauses p ON p.tenant_id = k.tenant_id AND p.provider = k.provider"


async def list(conn: asyncpg.Connection, tenant_id: UUID) -> builtins.list[asyncpg.Record]:
    rows: builtins.list[asyncpg.Record] = await conn.fetch(
        f"SELECT {OUT} FROM {JOINED} WHERE k.tenant_id = $1 ORDER BY k.provider", tenant_id
    )
    return rows


async def get(conn: asyncpg.Connection, tenant_id: UUID, provider: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {OUT} FROM {JOINED} WHERE k.tenant_id = $1 AND k.provider = $2", tenant_id, provider
    )


async def locked_secret(conn: asyncpg.Connection, tenant_id: UUID, provider: str) -> asyncpg.Record | None:
    """The key row (id, ciphertext), locked so that a replacement and a pause do not cross."""
    return await conn.fetchrow(
        "SELECT id, key_enc FROM model_keys WHERE tenant_id = $1 AND provider = $2 FOR UPDATE",
        tenant_id,
        provider,
    )


async def upsert(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    row_id: UUID,
    provider: str,
    key_enc: bytes,
    last4: str,
    verified_at: datetime | None,
) -> None:
    """Store (or replace) the key; a replaced key starts clean: no pause, no last error."""
    await conn.execute(
        """INSERT INTO model_keys (id, tenant_id, provider, key_enc, last4, verified_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, provider) DO UPDATE SET key_enc = EXCLUDED.key_enc,
             last4 = EXCLUDED.last4, verified_at = EXCLUDED.verified_at, last_error = NULL,
             last_error_at = NULL, updated_at = now()""",
        row_id,
        tenant_id,
        provider,
        key_enc,
        last4,
        verified_at,
    )
    await conn.execute(
        "DELETE FROM model_key_pauses WHERE tenant_id = $1 AND provider = $2", tenant_id, provider
    )


async def delete(conn: asyncpg.Connection, tenant_id: UUID, provider: str) -> bool:
    """The key and its pause (cascade)."""
    status: str = await conn.execute(
        "DELETE FROM model_keys WHERE tenant_id = $1 AND provider = $2", tenant_id, provider
    )
    return status.endswith(" 1")


async def unpause(conn: asyncpg.Connection, tenant_id: UUID, provider: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM model_key_pauses WHERE tenant_id = $1 AND provider = $2", tenant_id, provider
    )
    return status.endswith(" 1")


async def mark_verified(conn: asyncpg.Connection, tenant_id: UUID, provider: str) -> None:
    await conn.execute(
        "UPDATE model_keys SET verified_at = now() WHERE tenant_id = $1 AND provider = $2",
        tenant_id,
        provider,
    )


async def pause(
    conn: asyncpg.Connection, tenant_id: UUID, provider: str, code: str, params: dict[str, str], reason: str
) -> bool:
    """Pause the tenant's key of ``provider`` (its reason kept as the key's last error too); False when it
    was paused already."""
    inserted = await conn.fetchval(
        """INSERT INTO model_key_pauses (tenant_id, provider, code, params, reason)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, provider) DO NOTHING RETURNING true""",
        tenant_id,
        provider,
        code,
        params,
        reason,
    )
    if inserted:
        await conn.execute(
            "UPDATE model_keys SET last_error = $3, last_error_at = now() "
            "WHERE tenant_id = $1 AND provider = $2",
            tenant_id,
            provider,
            reason,
        )
    return bool(inserted)


async def secret_rows(
    conn: asyncpg.Connection, tenant_id: UUID, providers: builtins.list[str]
) -> builtins.list[asyncpg.Record]:
    """The keys of ``providers`` with their pause, for the vault (an article's writers)."""
    rows: builtins.list[asyncpg.Record] = await conn.fetch(
        f"""SELECT k.id, k.provider, k.key_enc, p.code AS pause_code, p.params AS pause_params,
                   p.reason AS pause_reason
            FROM {JOINED} WHERE k.tenant_id = $1 AND k.provider = ANY($2::text[])""",
        tenant_id,
        providers,
    )
    return rows


async def rotation_batch(
    conn: asyncpg.Connection, tenant_id: UUID, after: UUID, primary: bytes, batch: int
) -> builtins.list[asyncpg.Record]:
    """Keys not under the vault's primary key (the key id is stored in the ciphertext's header)."""
    rows: builtins.list[asyncpg.Record] = await conn.fetch(
        """SELECT id, provider, key_enc FROM model_keys
           WHERE tenant_id = $1 AND id > $2 AND (
             length(key_enc) < 2 OR substring(key_enc FROM 3 FOR get_byte(key_enc, 1)) <> $3::bytea)
           ORDER BY id LIMIT $4 FOR UPDATE""",
        tenant_id,
        after,
        primary,
        batch,
    )
    return rows


async def set_ciphertext(conn: asyncpg.Connection, tenant_id: UUID, row_id: UUID, key_enc: bytes) -> None:
    await conn.execute(
        "UPDATE model_keys SET key_enc = $3 WHERE tenant_id = $1 AND id = $2", tenant_id, row_id, key_enc
    )
