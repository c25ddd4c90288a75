"""Every SQL statement about ``pipeline_runs`` (and the counts of their rows, sub-topics, articles and
posts, read from the tables themselves)."""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import asyncpg

COLS = """r.id, r.pipeline_id, r.kind, r.status, r.workflow_id, r.progress, r.error, r.created_at,
  r.started_at,
          r.finished_at,
          coalesce((SELECT jsonb_object_agg(s.status, s.n) FROM (
              SELECT status, count(*)::int AS n FROM run_rows rr
              WHERE rr.tenant_id = r.tenant_id AND rr.run_id = r.id GROUP BY status) s), '{}') AS
                row_counts,
          (SELECT count(*)::int FROM subtopics st WHERE st.tenant_id = r.tenant_id AND st.run_id = r.id)
            AS subtopics,
          coalesce((SELECT jsonb_object_agg(s.status, s.n) FROM (
              SELECT ga.status, count(*)::int AS n FROM generated_articles ga
              WHERE ga.tenant_id = r.tenant_id AND ga.run_id = r.id GROUP BY ga.status) s), '{}')
            AS article_counts,
          coalesce((SELECT jsonb_object_agg(s.status, s.n) FROM (
              SELECT p.status, count(*)::int AS n FROM posts p
                JOIN generated_articles ga ON ga.id = p.article_id AND ga.tenant_id = p.tenant_id
              WHERE p.tenant_id = r.tenant_id AND ga.run_id = r.id GROUP BY p.status) s), '{}')
            AS post_counts"""


class RunRepository:
    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM pipeline_runs r WHERE r.tenant_id = $1 AND r.id = $2", tenant_id, run_id
        )

    async def list(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        pipeline_id: UUID,
        status: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM pipeline_runs r
                WHERE r.tenant_id = $1 AND r.pipeline_id = $2 AND ($3::text IS NULL OR r.status = $3)
                  AND ($4::timestamptz IS NULL OR (r.created_at, r.id) < ($4, $5::uuid))
                ORDER BY r.created_at DESC, r.id DESC LIMIT $6""",
            tenant_id,
            pipeline_id,
            status,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        return rows

    async def rows(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        run_id: UUID,
        status: str | None,
        after_row: int | None,
        limit: int,
    ) -> builtins.list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            # the run's sub-topics and articles are counted once per page (one pass each), then joined
            """WITH st AS (
                   SELECT row_number, count(*)::int AS n,
                          jsonb_agg(jsonb_build_object('id', id, 'label', label, 'choice', choice)
                                    ORDER BY created_at, id) AS planned
                     FROM subtopics
                    WHERE tenant_id = $1 AND run_id = $2 GROUP BY row_number),
                 ga AS (
                   SELECT row_number, jsonb_object_agg(status, n) AS counts FROM (
                     SELECT s.row_number, a.status, count(*)::int AS n FROM generated_articles a
                       JOIN subtopics s ON s.id = a.subtopic_id AND s.tenant_id = a.tenant_id
                      WHERE a.tenant_id = $1 AND a.run_id = $2 GROUP BY s.row_number, a.status) x
                   GROUP BY row_number)
              SELECT rr.row_number, rr.topic, rr.language, rr.status, rr.reason, rr.reason_code,
                     rr.reason_params, rr.kept_cells,
                      rr.updated_at, coalesce(st.n, 0) AS subtopics, coalesce(st.planned, '[]') AS planned,
                      coalesce(ga.counts, '{}') AS article_counts
                 FROM run_rows rr
                 LEFT JOIN st ON st.row_number = rr.row_number
                 LEFT JOIN ga ON ga.row_number = rr.row_number
                WHERE rr.tenant_id = $1 AND rr.run_id = $2 AND ($3::text IS NULL OR rr.status = $3)
                  AND ($4::int IS NULL OR rr.row_number > $4)
                ORDER BY rr.row_number LIMIT $5""",
            tenant_id,
            run_id,
            status,
            after_row,
            limit + 1,
        )
        return rows

    async def failed_rows(
        self, conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID
    ) -> builtins.list[int]:
        rows = await conn.fetch(
            "SELECT row_number FROM run_rows WHERE tenant_id = $1 AND run_id = $2 "
            "AND status IN ('failed', 'invalid') ORDER BY row_number",
            tenant_id,
            run_id,
        )
        return [r["row_number"] for r in rows]
