"""Every SQL statement about ``content_pipelines``."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

FIELDS = [
    "name",
    "source_kind",
    "sheet_id",
    "sheet_range",
    "plan_object_key",
    "cron",
    "timezone",
    "mode",
    "writers",
    "image_provider",
    "targets",
    "approval_required",
    "dry_run",
    "subtopics_per_topic",
    "settings",
    "status",
    "learn_topics",
    "explore_share",
    "learn_times",
    "model_keys",
]
COLS = "id, created_at, updated_at, status_reason, " + ", ".join(FIELDS)
STATUS_PARAM = FIELDS.index("status") + 3  # its placeholder in update()


def _params(values: dict[str, Any]) -> list[Any]:
    return [values[f] for f in FIELDS]


class PipelineRepository:
    async def count(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval("SELECT count(*) FROM content_pipelines WHERE tenant_id = $1", tenant_id)
        return n

    async def insert(
        self, conn: asyncpg.Connection, tenant_id: UUID, values: dict[str, Any]
    ) -> asyncpg.Record:
        placeholders = ", ".join(f"${i}" for i in range(2, len(FIELDS) + 2))
        return await conn.fetchrow(
            f"INSERT INTO content_pipelines (tenant_id, {', '.join(FIELDS)}) VALUES ($1, "
            f"{placeholders}) RETURNING {COLS}",
            tenant_id,
            *_params(values),
        )

    async def update(
        self, conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID, values: dict[str, Any]
    ) -> asyncpg.Record | None:
        sets = ", ".join(f"{f} = ${i}" for i, f in enumerate(FIELDS, start=3))
        # a paused pipeline keeps the reason it was paused for (e.g. "reconnect Google") until it is resumed
        reason = f"status_reason = CASE WHEN ${STATUS_PARAM}::text = 'paused' THEN status_reason END"
        return await conn.fetchrow(
            f"UPDATE content_pipelines SET {sets}, {reason}, updated_at = now() WHERE tenant_id = $1 AND "
            f"id = $2 RETURNING {COLS}",
            tenant_id,
            pipeline_id,
            *_params(values),
        )

    async def get(
        self, conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID, for_update: bool = False
    ) -> asyncpg.Record | None:
        lock = " FOR UPDATE" if for_update else ""
        return await conn.fetchrow(
            f"SELECT {COLS} FROM content_pipelines WHERE tenant_id = $1 AND id = $2{lock}",
            tenant_id,
            pipeline_id,
        )

    async def list(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        status: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM content_pipelines
                WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
                  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $5""",
            tenant_id,
            status,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        return rows

    async def delete(self, conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID) -> bool:
        status: str = await conn.execute(
            "DELETE FROM content_pipelines WHERE tenant_id = $1 AND id = $2", tenant_id, pipeline_id
        )
        return status.endswith(" 1")

    async def missing_accounts(
        self, conn: asyncpg.Connection, tenant_id: UUID, targets: builtins.list[dict[str, str]]
    ) -> builtins.list[dict[str, str]]:
        if not targets:
            return []
        rows = await conn.fetch(
            """SELECT t.platform, t.account_id FROM jsonb_to_recordset($2::jsonb) AS t(platform text,
              account_id text)
               WHERE NOT EXISTS (SELECT 1 FROM api_credentials c WHERE c.tenant_id = $1 AND c.platform =
                 t.platform
                                 AND c.account_id = t.account_id AND c.status <> 'revoked')""",
            tenant_id,
            json.loads(json.dumps(targets)),
        )
        return [dict(r) for r in rows]
