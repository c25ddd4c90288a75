"""Every SQL statement of the planning module (sub-topics and per-row status)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg
import numpy as np

from .plan import RowProblem


async def max_similarity(
    conn: asyncpg.Connection, tenant_id: UUID, vectors: Sequence[np.ndarray], model_id: str,
    language: str | None = None,
) -> list[float]:  # fmt: skip
    """For each vector, its highest cosine similarity to a sub-topic the tenant already has, of the same
    embedding model (and, given ``language``, of that language) — HNSW, scanning on past filtered rows.

    A sub-topic whose article failed does not count as covered: a retry of its row plans it again."""
    await conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
    out = []
    for v in vectors:
        sim = await conn.fetchval(
            """SELECT 1 - (s.embedding <=> $2) FROM subtopics s
                WHERE s.tenant_id = $1 AND s.embedding_model = $3
                  AND ($4::text IS NULL OR s.language = $4)
                  AND NOT EXISTS (SELECT 1 FROM generated_articles a
                                   WHERE a.subtopic_id = s.id AND a.status = 'failed')
                ORDER BY s.embedding <=> $2 LIMIT 1""",
            tenant_id, np.asarray(v, dtype=np.float32), model_id, language,
        )  # fmt: skip
        out.append(float(sim) if sim is not None else -1.0)
    return out


async def nearest_in_other_languages(
    conn: asyncpg.Connection, tenant_id: UUID, vector: np.ndarray, model_id: str, language: str, k: int
) -> list[tuple[UUID, np.ndarray]]:
    """The ``k`` stored sub-topics of the same model in other languages closest to ``vector``."""
    await conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
    rows = await conn.fetch(
        """SELECT s.id, s.embedding FROM subtopics s
            WHERE s.tenant_id = $1 AND s.embedding_model = $3 AND s.language <> $4
              AND NOT EXISTS (SELECT 1 FROM generated_articles a
                               WHERE a.subtopic_id = s.id AND a.status = 'failed')
            ORDER BY s.embedding <=> $2 LIMIT $5""",
        tenant_id, np.asarray(vector, dtype=np.float32), model_id, language, k,
    )  # fmt: skip
    return [(r["id"], np.asarray(r["embedding"].to_numpy(), dtype=np.float32)) for r in rows]


async def cross_language_dedup(conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID | None) -> bool:
    """The ``cross_language_dedup`` setting (JSON ``true`` turns it on): the pipeline's, else the
    tenant's, else off."""
    value = await conn.fetchval(
        """SELECT coalesce(
                  (SELECT p.settings->'cross_language_dedup' FROM content_pipelines p
                    WHERE p.tenant_id = $1 AND p.id = $2),
                  (SELECT t.settings->'cross_language_dedup' FROM tenants t WHERE t.id = $1)
                ) = 'true'::jsonb""",
        tenant_id, pipeline_id,
    )  # fmt: skip
    return bool(value)


async def learning_switches(
    conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID | None
) -> tuple[bool, float]:
    """The pipeline's ``learn_topics`` and ``explore_share`` (no pipeline: off)."""
    row = await conn.fetchrow(
        "SELECT learn_topics, explore_share FROM content_pipelines WHERE tenant_id = $1 AND id = $2",
        tenant_id, pipeline_id,
    )  # fmt: skip
    if row is None:
        return False, 0.0
    return bool(row["learn_topics"]), float(row["explore_share"])


# A post counts when its platform reported impressions (its engagement rate is defined).
_MEASURED = "p.impressions > 0 AND p.engagement IS NOT NULL"


async def tenant_engagement_rate(conn: asyncpg.Connection, tenant_id: UUID) -> float:
    """The tenant's engagement rate over all its measured posts (0 without any)."""
    rate = await conn.fetchval(
        f"SELECT sum(p.engagement)::float8 / sum(p.impressions) FROM posts p "
        f"WHERE p.tenant_id = $1 AND {_MEASURED}",
        tenant_id,
    )
    return float(rate or 0.0)


async def engagement_near(
    conn: asyncpg.Connection, tenant_id: UUID, vector: np.ndarray, model_id: str, k: int, floor: float
) -> list[asyncpg.Record]:
    """The ``k`` past sub-topics (same embedding model) nearest to ``vector`` among those with measured
    posts, from cosine ``floor`` up, closest first: label, similarity, engagement rate over their posts,
    the age in days of their latest post, their number of posts."""
    await conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""WITH near AS (
              SELECT s.id, s.label, 1 - (s.embedding <=> $2) AS similarity FROM subtopics s
               WHERE s.tenant_id = $1 AND s.embedding_model = $3
                 AND EXISTS (SELECT 1 FROM generated_articles a
                               JOIN posts p ON p.tenant_id = a.tenant_id AND p.article_id = a.id
                              WHERE a.tenant_id = s.tenant_id AND a.subtopic_id = s.id AND {_MEASURED})
               ORDER BY s.embedding <=> $2 LIMIT $4)
            SELECT n.label, n.similarity, sum(p.engagement)::float8 / sum(p.impressions) AS engagement_rate,
                   extract(epoch FROM now() - max(coalesce(p.published_at, p.created_at))) / 86400
                     AS age_days,
                   count(*)::int AS posts
              FROM near n
              JOIN generated_articles a ON a.tenant_id = $1 AND a.subtopic_id = n.id
              JOIN posts p ON p.tenant_id = $1 AND p.article_id = a.id AND {_MEASURED}
             WHERE n.similarity >= $5
             GROUP BY n.id, n.label, n.similarity
             ORDER BY n.similarity DESC""",
        tenant_id, np.asarray(vector, dtype=np.float32), model_id, k, floor,
    )  # fmt: skip
    return rows


async def insert_subtopics(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    *,
    pipeline_id: UUID | None,
    run_id: UUID | None,
    row_number: int | None,
    main_topic: str,
    language: str,
    model_id: str,
    items: Sequence[tuple[str, Sequence[str], Sequence[str], Sequence[float]]],
    choices: Sequence[Mapping[str, object] | None] | None = None,
) -> list[UUID]:
    """Sub-topics as (label, keywords, examples, embedding), all of embedding model ``model_id``; with
    ``choices``, why each was chosen (planning that learns)."""
    ids = []
    for n, (label, keywords, examples, embedding) in enumerate(items):
        choice = choices[n] if choices is not None else None
        ids.append(
            await conn.fetchval(
                """INSERT INTO subtopics (tenant_id, pipeline_id, run_id, row_number, main_topic, label,
                                          language, keywords, examples, embedding, embedding_model, choice)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id""",
                tenant_id,
                pipeline_id,
                run_id,
                row_number,
                main_topic,
                label,
                language,
                list(keywords),
                list(examples),
                np.asarray(embedding, dtype=np.float32),
                model_id,
                dict(choice) if choice is not None else None,
            )  # fmt: skip
        )
    return ids


async def set_row_status(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, row_number: int, topic: str,
    language: str | None, status: str, reason: str | None = None, *,
    code: str | None = None, params: Mapping[str, object] | None = None,
) -> None:  # fmt: skip
    """A row's state in a run; ``reason`` (English) with its stable ``code`` and ``params`` for a client's
    own wording."""
    await conn.execute(
        """INSERT INTO run_rows (tenant_id, run_id, row_number, topic, language, status, reason,
                                 reason_code, reason_params)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (run_id, row_number) DO UPDATE
             SET status = EXCLUDED.status, reason = EXCLUDED.reason, reason_code = EXCLUDED.reason_code,
                 reason_params = EXCLUDED.reason_params, updated_at = now()""",
        tenant_id, run_id, row_number, topic, language, status, reason,
        code if reason is not None else None, dict(params or {}) if reason is not None else {},
    )  # fmt: skip


async def set_rows_invalid(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, problems: Sequence[RowProblem]
) -> None:
    """Rows a run skips, each with its problems (the first one's code: what the client words)."""
    by_row: dict[int, list[RowProblem]] = {}
    for p in problems:
        by_row.setdefault(p.row_number, []).append(p)
    for n, found in sorted(by_row.items()):
        first = found[0]
        await set_row_status(
            conn, tenant_id, run_id, n, "", None, "invalid", "; ".join(str(p) for p in found),
            code=first.code, params={"column": first.column, **first.params},
        )  # fmt: skip


async def plan_cells(
    conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID, key: str
) -> dict[tuple[str, int, int], str]:
    """What runs wrote into a pipeline's plan file, by (tab, row, column) (column 1 is A)."""
    rows = await conn.fetch(
        """SELECT tab, row_number, col, value FROM plan_cells
            WHERE tenant_id = $1 AND pipeline_id = $2 AND plan_object_key = $3""",
        tenant_id, pipeline_id, key,
    )  # fmt: skip
    return {(r["tab"], r["row_number"], r["col"] + 1): r["value"] for r in rows}


async def put_plan_cells(
    conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID, key: str,
    cells: Sequence[tuple[str, int, int, str]],
) -> None:  # fmt: skip
    """Write (tab, row, column, value) cells of a pipeline's plan file; a cell written again is replaced."""
    await conn.execute(
        """INSERT INTO plan_cells (tenant_id, pipeline_id, plan_object_key, tab, row_number, col, value)
           SELECT $1, $2, $3, c.tab, c.row_number, c.col - 1, c.value
             FROM unnest($4::text[], $5::int[], $6::int[], $7::text[]) AS c(tab, row_number, col, value)
           ON CONFLICT (pipeline_id, plan_object_key, tab, row_number, col) DO UPDATE
             SET value = EXCLUDED.value, updated_at = now()""",
        tenant_id, pipeline_id, key,
        [c[0] for c in cells], [c[1] for c in cells], [c[2] for c in cells], [c[3] for c in cells],
    )  # fmt: skip


async def set_kept_cells(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, row_number: int, cells: Sequence[str]
) -> None:
    """Cells of the row the run left as the user edited them (added to those already recorded)."""
    await conn.execute(
        """UPDATE run_rows SET kept_cells = ARRAY(SELECT DISTINCT unnest(kept_cells || $4::text[])),
                               updated_at = now()
            WHERE tenant_id = $1 AND run_id = $2 AND row_number = $3""",
        tenant_id, run_id, row_number, list(cells),
    )  # fmt: skip


async def hourly_engagement(
    conn: asyncpg.Connection, tenant_id: UUID, platform: str, days: int
) -> tuple[str, list[asyncpg.Record]]:
    """The tenant's time zone, and its measured posts on ``platform`` of the last ``days`` days by the
    local hour they were published at: hour, posts, engagement, impressions."""
    timezone = await conn.fetchval("SELECT timezone FROM tenants WHERE id = $1", tenant_id) or "UTC"
    rows = await conn.fetch(
        f"""SELECT extract(hour FROM p.published_at AT TIME ZONE $3)::int AS hour, count(*)::int AS posts,
                   sum(p.engagement)::bigint AS engagement, sum(p.impressions)::bigint AS impressions
              FROM posts p
             WHERE p.tenant_id = $1 AND p.platform = $2 AND p.status = 'published' AND {_MEASURED}
               AND p.published_at > now() - make_interval(days => $4)
             GROUP BY 1""",
        tenant_id, platform, timezone, days,
    )  # fmt: skip
    return str(timezone), rows


async def set_time_choice(
    conn: asyncpg.Connection, tenant_id: UUID, post_id: UUID, choice: Mapping[str, object]
) -> None:
    """Why a post goes out when it does (a learnt best hour)."""
    await conn.execute(
        "UPDATE posts SET time_choice = $3 WHERE tenant_id = $1 AND id = $2", tenant_id, post_id, dict(choice)
    )
