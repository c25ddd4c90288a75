"""Every SQL statement of the planning module (sub-topics and per-row status)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import numpy as np


async def max_similarity(
    conn: asyncpg.Connection, tenant_id: UUID, vectors: Sequence[np.ndarray]
) -> list[float]:
    """For each vector, its highest cosine similarity to a sub-topic the tenant already has (HNSW).

    A sub-topic whose article failed does not count as covered: a retry of its row plans it again."""
    out = []
    for v in vectors:
        sim = await conn.fetchval(
            """SELECT 1 - (s.embedding <=> $2) FROM subtopics s
                WHERE s.tenant_id = $1
                  AND NOT EXISTS (SELECT 1 FROM generated_articles a
                                   WHERE a.subtopic_id = s.id AND a.status = 'failed')
                ORDER BY s.embedding <=> $2 LIMIT 1""",
            tenant_id, np.asarray(v, dtype=np.float32),
        )  # fmt: skip
        out.append(float(sim) if sim is not None else -1.0)
    return out


async def insert_subtopics(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    *,
    pipeline_id: UUID | None,
    run_id: UUID | None,
    row_number: int | None,
    main_topic: str,
    language: str,
    items: Sequence[tuple[str, Sequence[str], Sequence[float]]],
) -> list[UUID]:
    ids = []
    for label, keywords, embedding in items:
        ids.append(
            await conn.fetchval(
                """INSERT INTO subtopics (tenant_id, pipeline_id, run_id, row_number, main_topic, label,
                                          language, keywords, embedding)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
                tenant_id,
                pipeline_id,
                run_id,
                row_number,
                main_topic,
                label,
                language,
                list(keywords),
                np.asarray(embedding, dtype=np.float32),
            )  # fmt: skip
        )
    return ids


async def set_row_status(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, row_number: int, topic: str,
    language: str | None, status: str, reason: str | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO run_rows (tenant_id, run_id, row_number, topic, language, status, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (run_id, row_number) DO UPDATE
             SET status = EXCLUDED.status, reason = EXCLUDED.reason, updated_at = now()""",
        tenant_id, run_id, row_number, topic, language, status, reason,
    )  # fmt: skip
