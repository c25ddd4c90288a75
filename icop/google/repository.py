"""Every SQL statement of the Google identity module (inside the caller's tenant transaction)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def google_account(conn: asyncpg.Connection, tenant_id: UUID) -> asyncpg.Record | None:
    """The tenant's Google identity for its sheets (an account it signed in with, or a service account
    whose key it uploaded): the active one connected last, else the last one."""
    return await conn.fetchrow(
        """SELECT id, platform, account_id, account_name, scopes, status, status_reason FROM api_credentials
           WHERE tenant_id = $1 AND platform IN ('google', 'google_service_account')
           ORDER BY status = 'active' DESC, updated_at DESC, id LIMIT 1""",
        tenant_id,
    )


async def pause_sheet_pipelines(conn: asyncpg.Connection, tenant_id: UUID, reason: str) -> list[UUID]:
    """Pause the tenant's active sheet pipelines with ``reason``; returns the ids paused."""
    rows = await conn.fetch(
        """UPDATE content_pipelines SET status = 'paused', status_reason = $2, updated_at = now()
           WHERE tenant_id = $1 AND source_kind = 'sheet' AND status = 'active' RETURNING id""",
        tenant_id,
        reason[:500],
    )
    return [r["id"] for r in rows]
