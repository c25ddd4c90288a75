"""Every SQL statement of the cost view: usage summed per group, provider, model and day."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from icop.costs import UsageLine

from .schemas import CostGroup

GROUP_COLUMN: dict[CostGroup, str] = {
    "tenant": "NULL::uuid",
    "pipeline": "a.pipeline_id",
    "run": "a.run_id",
    "article": "u.article_id",
}


class CostRepository:
    async def usage(
        self, conn: asyncpg.Connection, tenant_id: UUID, group: CostGroup, start: datetime, end: datetime
    ) -> list[UsageLine]:
        column = GROUP_COLUMN[group]  # one of four fixed expressions, never user text
        rows = await conn.fetch(
            f"""SELECT {column} AS grp, u.kind, u.provider, u.model,
                       (u.created_at AT TIME ZONE 'UTC')::date AS day,
                       sum(u.prompt_tokens)::bigint AS prompt_tokens,
                       sum(u.completion_tokens)::bigint AS completion_tokens,
                       sum(u.images)::bigint AS images, count(*)::bigint AS records
                  FROM usage_records u
                  LEFT JOIN generated_articles a ON a.id = u.article_id AND a.tenant_id = u.tenant_id
                 WHERE u.tenant_id = $1 AND u.created_at >= $2 AND u.created_at < $3
                 GROUP BY 1, 2, 3, 4, 5""",
            tenant_id,
            start,
            end,
        )
        return [
            UsageLine(
                None if r["grp"] is None else str(r["grp"]),
                r["kind"],
                r["provider"],
                r["model"],
                r["day"],
                r["prompt_tokens"],
                r["completion_tokens"],
                r["images"],
                r["records"],
            )
            for r in rows
        ]
