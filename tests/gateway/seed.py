"""Rows that later modules create (articles, images, posts, quota usage, run rows), inserted the way they
will be:
through ``tenant_tx`` as the application role."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg
import numpy as np

from icop.db import tenant_tx


async def seed_article(
    pool: asyncpg.Pool,
    tenant_id: str,
    pipeline_id: str | None,
    run_id: str | None,
    *,
    status: str = "ready",
    language: str = "en",
    title: str = "Title",
) -> dict[str, UUID]:
    tid = UUID(tenant_id)
    async with tenant_tx(pool, tid) as conn:
        article_id = await conn.fetchval(
            """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, language, title, status,
              markdown_key,
                                               markdown_url, seo)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            tid,
            UUID(pipeline_id) if pipeline_id else None,
            UUID(run_id) if run_id else None,
            language,
            title,
            status,
            f"articles/{uuid.uuid4()}.md",
            "http://127.0.0.1/md/x.md",
            {"keywords": ["a"]},
        )
        image_id = await conn.fetchval(
            """INSERT INTO images (tenant_id, article_id, position, sha256, storage_key, url, width, height,
                                   size_bytes, provider) VALUES ($1, $2, 0, 'abc', 'k', 'http://127.0.0.1/i/0.jpg',
                                   1080, 1350, 1234, 'offline') RETURNING id""",
            tid,
            article_id,
        )
        post_id = await conn.fetchval(
            """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key, text,
                                  platform_post_id) VALUES ($1, $2, 'x', 'acct-x', 'published', $3,
                                    'hello', '1799')
               RETURNING id""",
            tid,
            article_id,
            f"idem-{uuid.uuid4()}",
        )
        await conn.execute(
            "INSERT INTO platform_quota_usage (tenant_id, platform, account_id, post_id, cost_usd) "
            "VALUES ($1, 'x', 'acct-x', $2, 0.015)",
            tid,
            post_id,
        )
    return {"article": article_id, "image": image_id, "post": post_id}


async def seed_run_rows(pool: asyncpg.Pool, tenant_id: str, run_id: str, statuses: list[str]) -> None:
    tid = UUID(tenant_id)
    async with tenant_tx(pool, tid) as conn:
        for i, st in enumerate(statuses, start=2):
            await conn.execute(
                "INSERT INTO run_rows (tenant_id, run_id, row_number, topic, status) VALUES ($1, $2, $3, "
                "'t', $4)",
                tid,
                UUID(run_id),
                i,
                st,
            )


async def seed_delivery_and_sample(pool: asyncpg.Pool, tenant_id: str, endpoint_id: str) -> dict[str, str]:
    """A webhook delivery (what the delivery worker records) and a brand-voice sample (its embedding is
    a unit vector: what the model returns matters not for access checks)."""
    tid = UUID(tenant_id)
    unit = np.zeros(384, dtype=np.float32)
    unit[0] = 1.0
    async with tenant_tx(pool, tid) as conn:
        delivery = await conn.fetchval(
            """INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, body, status)
               VALUES ($1, $2, $3, 'run.completed', '{}', 'delivered') RETURNING id""",
            tid,
            UUID(endpoint_id),
            uuid.uuid4(),
        )
        sample = await conn.fetchval(
            "INSERT INTO brand_voice_samples (tenant_id, text, embedding) VALUES ($1, $2, $3) RETURNING id",
            tid,
            "Friendly, practical, short sentences; never salesy.",
            unit,
        )
    return {"delivery": str(delivery), "sample": str(sample)}
