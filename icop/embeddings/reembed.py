"""Re-embedding a tenant's stored vectors when its embedding model changes.

Sub-topics and brand-voice samples are rewritten in batches, each batch in its own transaction, so an
interrupted run keeps what it finished; rows already on their target model are skipped, so running it
again resumes. A row's target is the model ``EmbeddingChoice`` gives its language (for a sub-topic, with
its pipeline's cross-language setting) unless one model is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import numpy as np

from icop.db import tenant_tx
from icop.planning import repository as planning_repo

from . import EmbeddingChoice, EmbeddingModel, aencode
from . import repository as repo
from .repository import VectorTable

TABLES: tuple[VectorTable, ...] = ("subtopics", "brand_voice_samples")


@dataclass
class ReembedReport:
    """Rows rewritten per table."""

    rewritten: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))


@dataclass(frozen=True)
class _Group:
    table: VectorTable
    language: str
    pipeline_id: UUID | None
    target: EmbeddingModel
    pending: int


# (table, rows just rewritten, rows pending in this tenant before the run) after every batch
Progress = Callable[[str, int, int], None]


class Reembedder:
    def __init__(self, pool: asyncpg.Pool, choice: EmbeddingChoice, batch: int = 64) -> None:
        self.pool, self.choice, self.batch = pool, choice, batch

    async def tenants(self) -> list[UUID]:
        """Every tenant with stored vectors (a lookup that crosses tenants and returns ids only)."""
        async with self.pool.acquire() as conn:
            return await repo.tenants_with_vectors(conn)

    async def plan(self, tenant_id: UUID, model: EmbeddingModel | None = None) -> list[_Group]:
        """What a run would rewrite: per table, language and pipeline, the target and the rows not on it."""
        out: list[_Group] = []
        async with tenant_tx(self.pool, tenant_id) as conn:
            for table in TABLES:
                pending: dict[tuple[str, UUID | None], tuple[EmbeddingModel, int]] = {}
                for g in await repo.groups(conn, table, tenant_id):
                    key = (g["language"], g["pipeline_id"])
                    if key not in pending:
                        cross = table == "subtopics" and await planning_repo.cross_language_dedup(
                            conn, tenant_id, g["pipeline_id"]
                        )
                        target = model or self.choice.model(g["language"], cross_language=cross)
                        pending[key] = (target, 0)
                    target, n = pending[key]
                    if g["embedding_model"] != self.choice.embedder(target).model_id:
                        pending[key] = (target, n + int(g["n"]))
                out += [_Group(table, lang, pid, t, n) for (lang, pid), (t, n) in pending.items() if n]
        return out

    async def run(
        self, tenant_id: UUID, model: EmbeddingModel | None = None, progress: Progress | None = None
    ) -> ReembedReport:
        report = ReembedReport()
        groups = await self.plan(tenant_id, model)
        totals = {t: sum(g.pending for g in groups if g.table == t) for t in TABLES}
        for g in groups:
            embedder = self.choice.embedder(g.target)
            while True:
                async with tenant_tx(self.pool, tenant_id) as conn:  # one transaction per batch
                    rows = await repo.pending_batch(
                        conn, g.table, tenant_id, g.language, g.pipeline_id, embedder.model_id, self.batch
                    )
                    if not rows:
                        break
                    texts = [list(r["texts"]) for r in rows]
                    flat = await aencode(embedder, [t for ts in texts for t in ts])
                    start = 0
                    for r, ts in zip(rows, texts, strict=True):
                        vector = flat[start : start + len(ts)].mean(axis=0)
                        start += len(ts)
                        vector = vector / (np.linalg.norm(vector) or 1.0)
                        await repo.set_vector(conn, g.table, tenant_id, r["id"], vector, embedder.model_id)
                report.rewritten[g.table] += len(rows)
                if progress:
                    progress(g.table, len(rows), totals[g.table])
        return report
