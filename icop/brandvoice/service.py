"""Brand voice: a tenant's sample texts, embedded once when stored; the samples closest to a sub-topic
become the writers' style guidance.

``BrandVoice`` is plain Python over the pool and one shared embedder. The gateway calls the ``*_in``
methods inside its request transaction; the article graph calls :meth:`BrandVoice.style_samples`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.embeddings import EmbeddingChoice, aencode, calibration_for
from icop.errors import Conflict, InvalidRequest, NotFound

from .repository import BrandVoiceRepository

MIN_CHARS, MAX_CHARS = 20, 4000  # per sample (the table's CHECK)
MAX_SAMPLES = 200  # per tenant
MAX_PER_REQUEST = 20
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
# All samples given to one writer together (≈ 1,500 tokens). They open the writer's prompt with its
# instructions: the vendors cache such a prefix from 1,024 tokens on (OpenAI gpt-4o, Claude Sonnet 4.5,
# Gemini 2.5 Flash), which 2,400 characters (≈ 600 tokens) never reached; read from the cache, the 6,000
# characters cost less than 2,400 uncached (Claude, Gemini) or about the same (GPT, half price).
STYLE_CHARS = 6000
STYLE_CANDIDATES = 20  # the nearest samples a writer's style section is chosen from


@dataclass(frozen=True)
class StyleSample:
    id: UUID
    text: str
    distance: float


def within_budget(samples: Sequence[StyleSample], budget: int = STYLE_CHARS) -> list[StyleSample]:
    """In the order given, whole samples while they fit; a first sample longer than the budget is cut."""
    out: list[StyleSample] = []
    used = 0
    for s in samples:
        if used + len(s.text) <= budget:
            out.append(s)
            used += len(s.text)
        elif not out:
            cut = s.text[: budget - 1]
            cut = cut[: cut.rfind(" ")] if " " in cut[budget // 2 :] else cut
            out.append(StyleSample(s.id, cut.rstrip() + "…", s.distance))
            break
        else:
            break
    return out


def check_texts(texts: Sequence[str], language: str) -> list[str]:
    if not LANGUAGE_RE.match(language):
        raise InvalidRequest("language must be a code such as 'en', 'ko' or 'pt-BR'")
    if not 1 <= len(texts) <= MAX_PER_REQUEST:
        raise InvalidRequest(f"send 1 to {MAX_PER_REQUEST} samples at a time")
    out = [t.strip() for t in texts]
    for t in out:
        if not MIN_CHARS <= len(t) <= MAX_CHARS or "\x00" in t:
            raise InvalidRequest(f"each sample needs {MIN_CHARS} to {MAX_CHARS} characters of text")
    return out


class BrandVoice:
    """Stores a tenant's samples with their embeddings and finds the closest ones to a text.

    Samples and queries of a language are embedded by the model ``choice`` gives that language; a
    sample's row records the model, and a query only meets samples of its own model. A sample further
    than the model's calibrated distance (``brand_voice_max_distance``) says nothing about the topic."""

    def __init__(
        self,
        pool: asyncpg.Pool | None,
        choice: EmbeddingChoice | None = None,
        *,
        max_distance: float | None = None,
        style_chars: int = STYLE_CHARS,
    ) -> None:
        self.pool = pool
        self.choice = choice or EmbeddingChoice()
        self.max_distance, self.style_chars = max_distance, style_chars
        self.repo = BrandVoiceRepository()

    def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("BrandVoice was built without a pool; use the *_in methods")
        return self.pool

    # -- in the caller's transaction (the gateway's request) -------------------------------------------
    async def add_in(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        texts: Sequence[str],
        language: str = "en",
        pipeline_id: UUID | None = None,
    ) -> list[asyncpg.Record]:
        clean = check_texts(texts, language)
        if pipeline_id is not None and not await self.repo.pipeline_exists(conn, tenant_id, pipeline_id):
            raise NotFound("no such pipeline")
        if await self.repo.count(conn, tenant_id) + len(clean) > MAX_SAMPLES:
            raise Conflict(f"a tenant keeps at most {MAX_SAMPLES} brand-voice samples; delete some first")
        embedder = self.choice.for_language(language)
        vectors = await aencode(embedder, clean)
        return await self.repo.insert_many(
            conn, tenant_id, pipeline_id, language, clean, vectors, embedder.model_id
        )

    async def closest_in(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        query_text: str,
        language: str,
        k: int = 3,
        article_id: UUID | None = None,
    ) -> list[StyleSample]:
        return within_budget(
            await self._near(conn, tenant_id, query_text, language, k, article_id), self.style_chars
        )

    async def _near(
        self,
        conn: asyncpg.Connection,
        tenant_id: UUID,
        query_text: str,
        language: str,
        k: int,
        article_id: UUID | None,
    ) -> list[StyleSample]:
        """The ``k`` nearest samples within the max distance, closest first."""
        embedder = self.choice.for_language(language)
        if not await self.repo.has_samples(conn, tenant_id, language, embedder.model_id):
            return []  # most tenants: no embedding, no model load
        [vector] = await aencode(embedder, [query_text])
        rows = await self.repo.closest(conn, tenant_id, vector, language, embedder.model_id, k, article_id)
        cutoff = self.max_distance
        if cutoff is None:
            cutoff = calibration_for(embedder.model_id).brand_voice_max_distance
        return [
            StyleSample(r["id"], r["text"], float(r["distance"]))
            for r in rows
            if float(r["distance"]) <= cutoff
        ]

    # -- own transactions ----------------------------------------------------------------------------
    async def add(
        self, tenant_id: UUID | str, *texts: str, language: str = "en", pipeline_id: UUID | None = None
    ) -> list[UUID]:
        tid = UUID(str(tenant_id))
        async with tenant_tx(self._pool(), tid) as conn:
            rows = await self.add_in(conn, tid, texts, language, pipeline_id)
        return [r["id"] for r in rows]

    async def closest(
        self,
        tenant_id: UUID | str,
        query_text: str,
        language: str,
        k: int = 3,
        article_id: UUID | str | None = None,
    ) -> list[StyleSample]:
        """The tenant's samples nearest to ``query_text`` (closest first), within the max distance and
        the character budget. With ``article_id``, samples of that article's pipeline count too."""
        tid = UUID(str(tenant_id))
        aid = UUID(str(article_id)) if article_id else None
        async with tenant_tx(self._pool(), tid) as conn:
            return await self.closest_in(conn, tid, query_text, language, k, aid)

    async def style_samples(
        self, tenant_id: str, article_id: str | None, topic: str, language: str
    ) -> list[str]:
        """The texts the writers get as style guidance (the article graph's ``StyleSource``): every sample
        close enough to the topic (the calibrated distance: a sample further away says nothing about it),
        in a fixed order (by id), while they fit the budget. Not the few closest: the writers' prompt opens
        with these samples, and a pipeline whose topics are near the same samples then sends the same
        prefix article after article, which the vendors' prompt caches serve at a tenth of the input price
        (the closest three would differ from topic to topic, and every new set is a cache write)."""
        tid = UUID(str(tenant_id))
        aid = UUID(str(article_id)) if article_id else None
        async with tenant_tx(self._pool(), tid) as conn:
            near = await self._near(conn, tid, topic, language, STYLE_CANDIDATES, aid)
        return [s.text for s in within_budget(sorted(near, key=lambda s: s.id), self.style_chars)]
