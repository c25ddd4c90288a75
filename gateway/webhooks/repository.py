"""Every SQL statement about webhook endpoints, deliveries and attempts. ``secret_enc`` is written here and
never selected for output."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

COLS = (
    "id, url, description, event_types, enabled, disabled_reason, consecutive_failures, failing_since, "
    "created_at, updated_at"
)
DCOLS = (
    "id, endpoint_id, event_id, event_type, status, attempts, last_status_code, last_error, delivered_at, "
    "created_at, CASE WHEN status IN ('pending', 'sending') THEN next_attempt_at END AS next_attempt_at"
)


class WebhookRepository:
    async def count(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1", tenant_id)
        return n

    async def insert(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        endpoint_id: UUID,
        url: str,
        description: str,
        event_types: list[str],
        secret_enc: bytes,
        enabled: bool,
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            f"""INSERT INTO webhook_endpoints
                  (id, tenant_id, url, description, event_types, secret_enc, enabled)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLS}""",
            endpoint_id,
            tenant_id,
            url,
            description,
            event_types,
            secret_enc,
            enabled,
        )

    async def list(self, conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT {COLS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC",
            tenant_id,
        )
        return rows

    async def get(
        self, conn: asyncpg.Connection, tenant_id: UUID, endpoint_id: UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2", tenant_id, endpoint_id
        )

    async def update(
        self, conn: asyncpg.Connection, tenant_id: UUID, endpoint_id: UUID, changes: dict[str, Any]
    ) -> asyncpg.Record | None:
        allowed = {"url", "description", "event_types", "enabled"}
        sets, args = [], [tenant_id, endpoint_id]
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(name)
            args.append(value)
            sets.append(f"{name} = ${len(args)}")
        if changes.get("enabled") is True:
            sets += ["disabled_reason = NULL", "consecutive_failures = 0", "failing_since = NULL"]
        sets.append("updated_at = now()")
        return await conn.fetchrow(
            f"UPDATE webhook_endpoints SET {', '.join(sets)} "
            f"WHERE tenant_id = $1 AND id = $2 RETURNING {COLS}",
            *args,
        )

    async def delete(self, conn: asyncpg.Connection, tenant_id: UUID, endpoint_id: UUID) -> bool:
        status: str = await conn.execute(
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2", tenant_id, endpoint_id
        )
        return status.endswith(" 1")

    async def deliveries(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        endpoint_id: UUID,
        status: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> builtins.list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {DCOLS} FROM webhook_deliveries
                WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)
                  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $6""",
            tenant_id,
            endpoint_id,
            status,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return rows

    async def delivery(
        self, conn: asyncpg.Connection, tenant_id: UUID, endpoint_id: UUID, delivery_id: UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {DCOLS} FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3",
            tenant_id,
            endpoint_id,
            delivery_id,
        )

    async def attempts(
        self, conn: asyncpg.Connection, tenant_id: UUID, delivery_id: UUID
    ) -> builtins.list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT attempt, started_at, status_code, latency_ms, error, response_excerpt
               FROM webhook_attempts
               WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempt, id""",
            tenant_id,
            delivery_id,
        )
        return rows

    async def redeliver(
        self, conn: asyncpg.Connection, tenant_id: UUID, endpoint_id: UUID, delivery_id: UUID
    ) -> asyncpg.Record | None:
        """Due again now, with a fresh retry window; refused (None) while an attempt is in flight."""
        return await conn.fetchrow(
            f"""UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(),
                       window_start = now(), updated_at = now()
                WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3 AND status <> 'sending'
                RETURNING {DCOLS}""",
            tenant_id,
            endpoint_id,
            delivery_id,
        )
