"""Published posts for the insights tests: made on the social emulator at a chosen time (as if published
then) and recorded as ICOP's published posts, due for collection."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx

from icop.db import tenant_tx


@dataclass(frozen=True)
class Seeded:
    post_id: uuid.UUID  # ICOP's
    platform_post_id: str
    platform: str
    account_id: str


async def seed_published(
    pool: asyncpg.Pool,
    emu: httpx.AsyncClient,
    tenant_id: uuid.UUID,
    platform: str,
    account_id: str,
    texts: list[str],
    age_h: float = 2.0,
    image: bool = False,
) -> list[Seeded]:
    """One article and one published post per text, made ``age_h`` ago on the emulator, each due now."""
    created = time.time() - age_h * 3600
    out = []
    async with tenant_tx(pool, tenant_id) as conn:
        for text in texts:
            r = await emu.post(
                "/_admin/posts",
                json={"platform": platform, "account_id": account_id, "text": text, "created_at": created,
                      "image": image},
            )  # fmt: skip
            r.raise_for_status()
            pid = str(r.json()["id"])
            article = await conn.fetchval(
                "INSERT INTO generated_articles (tenant_id, title) VALUES ($1, $2) RETURNING id",
                tenant_id, text[:80],
            )  # fmt: skip
            post = await conn.fetchval(
                """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                      text, platform_post_id, published_at, metrics_state, metrics_next_at)
                   VALUES ($1, $2, $3, $4, 'published', $5, $6, $7, $8, 'collecting', now() - interval '1 s')
                   RETURNING id""",
                tenant_id, article, platform, account_id, f"test:{uuid.uuid4()}", text, pid,
                datetime.fromtimestamp(created, UTC),
            )  # fmt: skip
            out.append(Seeded(post, pid, platform, account_id))
    return out


async def make_due(pool: asyncpg.Pool, tenant_id: uuid.UUID) -> None:
    """Every collecting post of the tenant due now (as if its next age had come)."""
    async with tenant_tx(pool, tenant_id) as conn:
        await conn.execute(
            "UPDATE posts SET metrics_next_at = now() - interval '1 s' WHERE tenant_id = $1"
            " AND metrics_state = 'collecting'",
            tenant_id,
        )
