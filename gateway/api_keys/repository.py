"""Every SQL statement about API keys. Keys look like ``icop_<prefix>_<secret>``; only sha256(key) is
stored."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg

from icop.security import sha256

KEY_RE = re.compile(r"^icop_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    full: str


@dataclass(frozen=True)
class AuthenticatedKey:
    id: UUID
    scopes: list[str]
    creator_role: Literal["admin", "editor", "viewer"]
    """The role of the user who made the key, now: a key never acts above it."""


def parse_api_key(token: str) -> ParsedKey | None:
    m = KEY_RE.match(token)
    return ParsedKey(m.group(1), token) if m else None


def new_api_key() -> ParsedKey:
    prefix = secrets.token_hex(6)
    return ParsedKey(prefix, f"icop_{prefix}_{secrets.token_urlsafe(32)}")


COLUMNS = "id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at"


class ApiKeyRepository:
    async def authenticate(
        self, conn: asyncpg.Connection, tenant_id: UUID, key: ParsedKey
    ) -> AuthenticatedKey | None:
        # A key lives with its creator: a disabled (or removed) creator suspends it.
        row = await conn.fetchrow(
            """SELECT k.id, k.key_hash, k.scopes, k.revoked_at, u.role AS creator_role
               FROM api_keys k
               LEFT JOIN users u
                 ON u.tenant_id = k.tenant_id AND u.id = k.created_by AND u.disabled_at IS NULL
               WHERE k.tenant_id = $1 AND k.prefix = $2""",
            tenant_id,
            key.prefix,
        )
        if row is None or row["revoked_at"] is not None or row["creator_role"] is None:
            return None
        if not hmac.compare_digest(bytes(row["key_hash"]), sha256(key.full)):
            return None
        # Write last_used_at at most every 30 s per key, not on every request.
        await conn.execute(
            "UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2 "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '30 seconds')",
            tenant_id,
            row["id"],
        )
        return AuthenticatedKey(row["id"], list(row["scopes"]), row["creator_role"])

    async def create(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        name: str,
        key: ParsedKey,
        scopes: list[str],
        created_by: UUID | None,
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            f"""INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, created_by)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}""",
            tenant_id,
            name,
            key.prefix,
            sha256(key.full),
            scopes,
            created_by,
        )

    async def list(self, conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC",
            tenant_id,
        )
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, key_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2", tenant_id, key_id
        )

    async def revoke(self, conn: asyncpg.Connection, tenant_id: UUID, key_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"""UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
                WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}""",
            tenant_id,
            key_id,
        )
