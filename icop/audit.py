"""The audit log: who did what to which resource of a tenant (RLS like every tenant table)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def record(
    conn: asyncpg.Connection, tenant_id: UUID, actor_id: UUID, actor_kind: str, action: str,
    target_type: str, target_id: UUID, detail: dict[str, Any],
) -> None:  # fmt: skip
    """One entry: ``action`` (``article.approved``, ``post.rescheduled``, …) by the actor on the target."""
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor_id, actor_kind, action, target_type, target_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id, actor_id, actor_kind, action, target_type, str(target_id), detail,
    )  # fmt: skip
