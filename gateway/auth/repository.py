"""Every SQL statement of sign-up, login and refresh-token rotation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

Role = Literal["admin", "editor", "viewer"]


class AuthRepository:
    async def live_session_role(
        self, conn: asyncpg.Connection, tenant_id: UUID, user_id: UUID, session_id: UUID
    ) -> Role | None:
        """The user's role now, if the user is active and the login session (refresh family) lives."""
        role: Role | None = await conn.fetchval(
            "SELECT session_role($1, $2, $3)",  # the rule: migration 0022
            tenant_id,
            user_id,
            session_id,
        )
        return role

    async def tenant_of_email(self, conn: asyncpg.Connection, email: str) -> UUID | None:
        # The sanctioned pre-tenant lookup (SECURITY DEFINER, returns an id only).
        tenant_id: UUID | None = await conn.fetchval("SELECT auth_user_tenant($1)", email)
        return tenant_id

    async def insert_tenant(self, conn: asyncpg.Connection, tenant_id: UUID, name: str, plan: str) -> None:
        await conn.execute("INSERT INTO tenants (id, name, plan) VALUES ($1, $2, $3)", tenant_id, name, plan)

    async def insert_user(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        email: str,
        display_name: str,
        role: str,
        password_hash: str,
    ) -> UUID:
        user_id: UUID = await conn.fetchval(
            """INSERT INTO users (tenant_id, email, display_name, role, password_hash)
               VALUES ($1, $2, $3, $4, $5) RETURNING id""",
            tenant_id,
            email,
            display_name,
            role,
            password_hash,
        )
        return user_id

    async def user_by_email(
        self, conn: asyncpg.Connection, tenant_id: UUID, email: str
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT id, role, password_hash, disabled_at FROM users WHERE tenant_id = $1 AND email = $2",
            tenant_id,
            email,
        )

    async def user_by_id(
        self, conn: asyncpg.Connection, tenant_id: UUID, user_id: UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT id, role, disabled_at FROM users WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
        )

    async def touch_login(self, conn: asyncpg.Connection, tenant_id: UUID, user_id: UUID) -> None:
        await conn.execute(
            "UPDATE users SET last_login_at = now() WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
        )

    async def insert_refresh(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        user_id: UUID,
        family_id: UUID,
        token_hash: bytes,
        expires_at: datetime,
    ) -> None:
        await conn.execute(
            """INSERT INTO refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at)
               VALUES ($1, $2, $3, $4, $5)""",
            tenant_id,
            user_id,
            family_id,
            token_hash,
            expires_at,
        )

    async def refresh_for_update(
        self, conn: asyncpg.Connection, tenant_id: UUID, token_hash: bytes
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            """SELECT id, user_id, family_id, expires_at, used_at, revoked_at, expires_at < now() AS expired
               FROM refresh_tokens WHERE tenant_id = $1 AND token_hash = $2 FOR UPDATE""",
            tenant_id,
            token_hash,
        )

    async def mark_used(self, conn: asyncpg.Connection, tenant_id: UUID, token_id: UUID) -> None:
        await conn.execute(
            "UPDATE refresh_tokens SET used_at = now() WHERE tenant_id = $1 AND id = $2", tenant_id, token_id
        )

    async def revoke_family(self, conn: asyncpg.Connection, tenant_id: UUID, family_id: UUID) -> int:
        status = await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE tenant_id = $1 AND family_id = $2 AND "
            "revoked_at IS NULL",
            tenant_id,
            family_id,
        )
        return int(status.split()[-1])

    async def audit(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        actor_id: UUID | None,
        action: str,
        detail: dict[str, object] | None = None,
    ) -> None:
        await conn.execute(
            "INSERT INTO audit_log (tenant_id, actor_id, action, detail) VALUES ($1, $2, $3, $4)",
            tenant_id,
            actor_id,
            action,
            detail or {},
        )
