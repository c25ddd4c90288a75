"""Every SQL statement about ``brand_voice_samples`` (always inside ``tenant_tx``; RLS is the floor,
the explicit ``tenant_id`` filters are the wall)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import numpy as np

COLS = "id, pipeline_id, language, text, created_at"


class BrandVoiceRepository:
    async def count(self, conn: asyncpg.Connection, tenant_id: UUID) -> int:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM brand_voice_samples WHERE tenant_id = $1", tenant_id
        )
        return n

    async def pipeline_exists(self, conn: asyncpg.Connection, tenant_id: UUID, pipeline_id: UUID) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM content_pipelines WHERE tenant_id = $1 AND id = $2)",
                tenant_id,
                pipeline_id,
            )
        )

    async def insert_many(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        pipeline_id: UUID | None,
        language: str,
        texts: list[str],
        embeddings: np.ndarray,
        model_id: str,
    ) -> list[asyncpg.Record]:
        return [
            await conn.fetchrow(
                f"""INSERT INTO brand_voice_samples (tenant_id, pipeline_id, language, text, embedding,
                                                     embedding_model)
                    VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLS}""",
                tenant_id,
                pipeline_id,
                language,
                text,
                vector,
                model_id,
            )
            for text, vector in zip(texts, embeddings, strict=True)
        ]

    async def page(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        language: str | None,
        pipeline_id: UUID | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"""SELECT {COLS} FROM brand_voice_samples
                WHERE tenant_id = $1 AND ($2::text IS NULL OR language = $2)
                  AND ($3::uuid IS NULL OR pipeline_id = $3)
                  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $6""",
            tenant_id,
            language,
            pipeline_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        return rows

    async def get(self, conn: asyncpg.Connection, tenant_id: UUID, sample_id: UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"SELECT {COLS} FROM brand_voice_samples WHERE tenant_id = $1 AND id = $2", tenant_id, sample_id
        )

    async def delete(self, conn: asyncpg.Connection, tenant_id: UUID, sample_id: UUID) -> bool:
        status: str = await conn.execute(
            "DELETE FROM brand_voice_samples WHERE tenant_id = $1 AND id = $2", tenant_id, sample_id
        )
        return status.endswith(" 1")

    async def has_samples(
        self, conn: asyncpg.Connection, tenant_id: UUID, language: str, model_id: str
    ) -> bool:
        return bool(
            await conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM brand_voice_samples
                                   WHERE tenant_id = $1 AND language = $2 AND embedding_model = $3)""",
                tenant_id,
                language,
                model_id,
            )
        )

    async def closest(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        embedding: np.ndarray,
        language: str,
        model_id: str,
        k: int,
        article_id: UUID | None = None,
    ) -> list[asyncpg.Record]:
        """The ``k`` nearest samples of embedding model ``model_id`` by cosine distance. With
        ``article_id``: the tenant-wide samples and those of the article's pipeline; without: the
        tenant-wide ones only."""
        # keep scanning the HNSW index past rows the filters drop, so k rows come back when k exist
        await conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT id, text, embedding <=> $2 AS distance FROM brand_voice_samples
               WHERE tenant_id = $1 AND language = $3 AND embedding_model = $6
                 AND (pipeline_id IS NULL OR pipeline_id =
                      (SELECT a.pipeline_id FROM generated_articles a WHERE a.tenant_id = $1 AND a.id = $5))
               ORDER BY embedding <=> $2 LIMIT $4""",
            tenant_id,
            embedding,
            language,
            k,
            article_id,
            model_id,
        )
        return rows
