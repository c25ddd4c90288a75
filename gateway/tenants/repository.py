"""Every SQL statement about the tenant row and its users."""

from __future__ import annotations

from uuid import UUID

import asyncpg

USER_COLS = "id, email, display_name, role, disabled_at IS NOT NULL AS disabled, created_at, last_login_at"


class TenantRepository:
    async def get(self, conn: asyncpg.Connection, tenant_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT id, name, plan, timezone, status, created_at FROM tenants WHERE id = $1", tenant_id
        )

    async def update(
        self, conn: asyncpg.Connection, tenant_id: UUID, name: str | None, tz: str | None
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            """UPDATE tenants SET name = coalesce($2, name), timezone = coalesce($3, timezone) WHERE id = $1
               RETURNING id, name, plan, timezone, status, created_at""",
            tenant_id,
            name,
            tz,
        )


class UserRepository:
    async def list(self, conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT {USER_COLS} FROM users WHERE tenant_id = $1 ORDER BY created_at, id", tenant_id
        )
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, user_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
        )

    async def create(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        email: str,
        display_name: str,
        role: str,
        password_hash: str,
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            f"""INSERT INTO users (tenant_id, email, display_name, role, password_hash)
                VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLS}""",
            tenant_id,
            email,
            display_name,
            role,
            password_hash,
        )

    async def update(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        user_id: UUID,
        display_name: str | None,
        role: str | None,
        disabled: bool | None,
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"""UPDATE users SET display_name = coalesce($3, display_name), role = coalesce($4, role),
                   disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at
                                      WHEN $5 THEN coalesce(disabled_at, now()) ELSE NULL END
                WHERE tenant_id = $1 AND id = $2 RETURNING {USER_COLS}""",
            tenant_id,
            user_id,
            display_name,
            role,
            disabled,
        )

    async def count_active_admins(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'admin' AND disabled_at IS NULL",
            tenant_id,
        )
        return n

    async def revoke_sessions(self, conn: asyncpg.Connection, tenant_id: UUID, user_id: UUID) -> None:
        await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2 AND "
            "revoked_at IS NULL",
            tenant_id,
            user_id,
        )
