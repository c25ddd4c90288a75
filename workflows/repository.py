"""Every SQL statement the orchestration's activities run (runs, plan rows, articles, images).

Each function takes a connection opened by ``icop.db.tenant_tx`` and still filters by tenant.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from icop.events import hooks


async def pipeline_config(
    conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT p.sheet_id, p.sheet_range, p.mode, p.writers, p.image_provider, p.targets,
                  p.approval_required, p.dry_run, p.subtopics_per_topic, p.settings, p.source_kind,
                  p.plan_object_key, p.learn_times, p.model_keys
           FROM content_pipelines p WHERE p.tenant_id = $1 AND p.id = $2""",
        tenant_id,
        pipeline_id,
    )


async def sheet_is_bound(conn: asyncpg.Connection, tenant_id: UUID, sheet_id: str) -> bool:
    """Whether ``sheet_id`` is bound to this tenant (migration 0015: the first tenant to use it)."""
    bound: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM sheet_bindings WHERE tenant_id = $1 AND sheet_id = $2)",
        tenant_id,
        sheet_id,
    )
    return bound


async def set_run_status(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    run_id: UUID,
    status: str,
    progress: dict[str, Any],
    error: str | None,
) -> None:
    """Progress is merged into what is there (the API's ``requested`` stays); a cancelled run stays
    cancelled; start and finish times are set once. Emits the run's event in the same transaction."""
    old = await conn.fetchval(
        "SELECT status FROM pipeline_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, run_id
    )
    await conn.execute(
        """UPDATE pipeline_runs
           SET status = CASE WHEN status = 'cancelled' THEN status ELSE $3 END,
               progress = progress || $4::jsonb,
               error = COALESCE($5, error),
               started_at = COALESCE(started_at, now()),
               finished_at = CASE WHEN $3 IN ('completed', 'failed', 'cancelled')
                                  THEN COALESCE(finished_at, now()) ELSE finished_at END
           WHERE tenant_id = $1 AND id = $2""",
        tenant_id,
        run_id,
        status,
        progress,
        error,
    )
    await hooks.run_status_changed(conn, tenant_id, run_id, old, status, progress, error)


async def run_subtopics(
    conn: asyncpg.Connection, tenant_id: UUID, run_id: UUID, row_number: int
) -> list[asyncpg.Record]:
    """Sub-topics a run already planned for a row (a retried planning activity returns these)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, label FROM subtopics WHERE tenant_id = $1 AND run_id = $2 AND row_number = $3 "
        "ORDER BY created_at, id",
        tenant_id,
        run_id,
        row_number,
    )
    return rows


async def subtopic_article(conn: asyncpg.Connection, tenant_id: UUID, subtopic_id: UUID) -> UUID | None:
    """The article already created for a sub-topic, if any (a retried activity finds it)."""
    article_id: UUID | None = await conn.fetchval(
        "SELECT id FROM generated_articles WHERE tenant_id = $1 AND subtopic_id = $2", tenant_id, subtopic_id
    )
    return article_id


async def upsert_article(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    pipeline_id: UUID,
    run_id: UUID,
    subtopic_id: UUID,
    language: str,
    mode: str,
) -> UUID:
    """One article per sub-topic, however often this runs."""
    return await conn.fetchval(  # type: ignore[no-any-return]  # asyncpg's fetchval is untyped
        """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, subtopic_id, language, mode,
                                         status)
           VALUES ($1, $2, $3, $4, $5, $6, 'writing')
           ON CONFLICT (subtopic_id) DO UPDATE SET updated_at = now()
           RETURNING id""",
        tenant_id,
        pipeline_id,
        run_id,
        subtopic_id,
        language,
        mode,
    )


async def set_article_status(
    conn: asyncpg.Connection, tenant_id: UUID, article_id: UUID, status: str, error: str | None
) -> None:
    old = await conn.fetchval(
        "SELECT status FROM generated_articles WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        article_id,
    )
    await conn.execute(
        "UPDATE generated_articles SET status = $3, error = $4, updated_at = now() "
        "WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        article_id,
        status,
        error,
    )
    await hooks.article_status_changed(conn, tenant_id, article_id, old, status)


async def save_graph_result(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    article_id: UUID,
    title: str,
    seo: dict[str, Any],
    state: dict[str, Any],
) -> None:
    await conn.execute(
        """UPDATE generated_articles SET title = $3, seo = $4::jsonb, graph_state = $5::jsonb,
                                         updated_at = now()
           WHERE tenant_id = $1 AND id = $2""",
        tenant_id,
        article_id,
        title[:500],
        seo,
        state,
    )


async def upsert_image(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    article_id: UUID,
    position: int,
    *,
    sha256: str,
    key: str,
    url: str,
    width: int,
    height: int,
    size_bytes: int,
    provider: str,
    prompt: str,
) -> None:
    await conn.execute(
        """INSERT INTO images (tenant_id, article_id, position, sha256, storage_key, url, width, height,
                               size_bytes, provider, prompt)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (article_id, position) DO UPDATE
             SET sha256 = EXCLUDED.sha256, storage_key = EXCLUDED.storage_key, url = EXCLUDED.url,
                 width = EXCLUDED.width, height = EXCLUDED.height, size_bytes = EXCLUDED.size_bytes""",
        tenant_id,
        article_id,
        position,
        sha256,
        key,
        url,
        width,
        height,
        size_bytes,
        provider,
        prompt,
    )
