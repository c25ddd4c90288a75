"""Every SQL statement of re-embedding: stored vectors of sub-topics and brand-voice samples, read and
rewritten in batches (always inside ``tenant_tx``; the explicit ``tenant_id`` filters are the wall)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg
import numpy as np

VectorTable = Literal["subtopics", "brand_voice_samples"]
# What a row's vector is made from: a sub-topic's central candidates (older rows: its label), a sample's text.
_TEXT = {
    "subtopics": "CASE WHEN cardinality(examples) > 0 THEN examples ELSE ARRAY[label] END",
    "brand_voice_samples": "ARRAY[text]",
}


async def tenants_with_vectors(conn: asyncpg.Connection) -> list[UUID]:
    return [r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM ops_tenants_with_vectors()")]


async def groups(conn: asyncpg.Connection, table: VectorTable, tenant_id: UUID) -> list[asyncpg.Record]:
    """(language, pipeline_id, embedding_model, n) of the tenant's rows."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""SELECT language, pipeline_id, embedding_model, count(*) AS n FROM {table}
             WHERE tenant_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3""",
        tenant_id,
    )
    return rows


async def pending_batch(
    conn: asyncpg.Connection, table: VectorTable, tenant_id: UUID, language: str, pipeline_id: UUID | None,
    target: str, limit: int,
) -> list[asyncpg.Record]:  # fmt: skip
    """Up to ``limit`` rows of one language and pipeline not yet on model ``target``: (id, texts)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""SELECT id, {_TEXT[table]} AS texts FROM {table}
             WHERE tenant_id = $1 AND language = $2 AND pipeline_id IS NOT DISTINCT FROM $3
               AND embedding_model <> $4
             ORDER BY id LIMIT $5""",
        tenant_id, language, pipeline_id, target, limit,
    )  # fmt: skip
    return rows


async def set_vector(
    conn: asyncpg.Connection, table: VectorTable, tenant_id: UUID, row_id: UUID, vector: np.ndarray,
    model_id: str,
) -> None:  # fmt: skip
    await conn.execute(
        f"UPDATE {table} SET embedding = $3, embedding_model = $4 WHERE tenant_id = $1 AND id = $2",
        tenant_id, row_id, np.asarray(vector, dtype=np.float32), model_id,
    )  # fmt: skip
