"""Every SQL statement about usage summed for pricing, and about budgets and their notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg

from icop.costs import UsageLine

Group = Literal["tenant", "pipeline", "run", "article", "day"]
GROUP_COLUMN: dict[Group, str] = {
    "tenant": "NULL::text",
    "pipeline": "a.pipeline_id::text",
    "run": "a.run_id::text",
    "article": "u.article_id::text",
    "day": "((u.created_at AT TIME ZONE 'UTC')::date)::text",
}


@dataclass(frozen=True)
class UsageScope:
    """Usage of one pipeline, run or article (None: any); several narrow together."""

    pipeline_id: UUID | None = None
    run_id: UUID | None = None
    article_id: UUID | None = None


ALL_USAGE = UsageScope()


async def usage_lines(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    group: Group,
    start: datetime,
    end: datetime,
    scope: UsageScope = ALL_USAGE,
) -> list[UsageLine]:
    """The tenant's usage in [start, end) (of ``scope`` only) summed per group, kind, provider, model and
    day."""
    column = GROUP_COLUMN[group]  # one of these fixed expressions, never user text
    where = ["u.tenant_id = $1", "u.created_at >= $2", "u.created_at < $3"]
    args: list[object] = [tenant_id, start, end]
    for column_of_id, value in (
        ("a.pipeline_id", scope.pipeline_id),
        ("a.run_id", scope.run_id),
        ("u.article_id", scope.article_id),
    ):
        if value is not None:  # fixed column names; the ids travel as parameters
            args.append(value)
            where.append(f"{column_of_id} = ${len(args)}")
    conditions = " AND ".join(where)
    rows = await conn.fetch(
        f"""SELECT {column} AS grp, u.kind, u.provider, u.model,
                   (u.created_at AT TIME ZONE 'UTC')::date AS day,
                   sum(u.prompt_tokens)::bigint AS prompt_tokens,
                   sum(u.completion_tokens)::bigint AS completion_tokens,
                   sum(u.images)::bigint AS images, count(*)::bigint AS records,
                   sum(u.cache_read_tokens)::bigint AS cache_read_tokens,
                   sum(u.cache_write_tokens)::bigint AS cache_write_tokens
              FROM usage_records u
              LEFT JOIN generated_articles a ON a.id = u.article_id AND a.tenant_id = u.tenant_id
             WHERE {conditions}
             GROUP BY 1, 2, 3, 4, 5""",
        *args,
    )
    return [
        UsageLine(
            None if r["grp"] is None else str(r["grp"]), r["kind"], r["provider"], r["model"], r["day"],
            r["prompt_tokens"], r["completion_tokens"], r["images"], r["records"],
            r["cache_read_tokens"], r["cache_write_tokens"],
        )
        for r in rows
    ]  # fmt: skip


async def budget(conn: asyncpg.Connection, tenant_id: UUID) -> Decimal | None:
    value: Decimal | None = await conn.fetchval(
        "SELECT monthly_budget_usd FROM tenants WHERE id = $1", tenant_id
    )
    return value


async def set_budget(conn: asyncpg.Connection, tenant_id: UUID, usd: Decimal | None) -> None:
    await conn.execute("UPDATE tenants SET monthly_budget_usd = $2 WHERE id = $1", tenant_id, usd)


async def first_notice(
    conn: asyncpg.Connection, tenant_id: UUID, month: date, level: str, budget_usd: Decimal, spent: Decimal
) -> bool:
    """Record a notice; False when this tenant was already told at this level this month for this budget."""
    row = await conn.fetchval(
        """INSERT INTO budget_notices (tenant_id, month, level, budget_usd, spent_usd)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1""",
        tenant_id, month, level, budget_usd, spent,
    )  # fmt: skip
    return row is not None
