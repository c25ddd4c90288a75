"""Planning rules: expand a main topic into candidate angles, cluster them into sub-topics, drop what
the tenant already covered, store the rest. Plain async code; Temporal activities call it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import numpy as np

from icop.connectors.llm import LLM, ChatRequest
from icop.db import tenant_tx
from icop.events import hooks

from . import repository
from .clustering import SubtopicResult
from .plan import LANGUAGES, PlanRow

# (main topic, language, candidates, want) -> sub-topics ordered by cluster size (the Serve deployment).
ClusterCall = Callable[[str, str, list[str], int], Awaitable[list[SubtopicResult]]]
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s*")


@dataclass(frozen=True)
class StoredSubtopic:
    id: UUID
    label: str
    keywords: list[str]


def parse_candidates(text: str) -> list[str]:
    """One candidate per line of an LLM answer, without bullets, numbering or empty lines."""
    out = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip().strip('"').strip()
        if 3 <= len(line) <= 200 and not line.startswith("[offline]"):
            out.append(line)
    return list(dict.fromkeys(out))


class CandidateExpander:
    """Asks an LLM for many candidate angles on a main topic, in the row's language."""

    def __init__(self, llm: LLM, count: int = 60) -> None:
        self.llm, self.count = llm, count

    async def expand(self, row: PlanRow, tenant_id: UUID | None = None) -> list[str]:
        lang = LANGUAGES.get(row.language, "English")
        system = (
            "You plan editorial calendars. Answer with one article angle per line: no numbering, no "
            f"commentary, each angle distinct from the others, written in {lang}."
            + (f" Audience and notes from the plan: {row.notes}" if row.notes else "")
        )
        user = f"Topic: {row.topic}\n{self.count} angles"
        result = await self.llm.complete(
            ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}],
                        max_tokens=2000, tenant_id=tenant_id, operation="expand_topic")
        )  # fmt: skip
        return parse_candidates(result.text)


class LlmLabeler:
    """The representation model: names a cluster from its most central candidates and keywords."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    async def label(self, main_topic: str, language: str, examples: list[str], keywords: list[str]) -> str:
        system = (
            f"These article ideas about '{main_topic}' form one sub-topic. Answer with its title only: "
            f"at most 8 words, one line, in {LANGUAGES.get(language, 'English')}."
        )
        user = f"Title: {examples[0]}\nKeywords: {', '.join(keywords)}\nIdeas:\n" + "\n".join(
            f"- {e}" for e in examples
        )
        result = await self.llm.complete(
            ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}],
                        max_tokens=30, operation="label_subtopic")
        )  # fmt: skip
        return result.text


class SubtopicPlanner:
    """From one plan row to stored sub-topics, without duplicates of each other or of the tenant's past."""

    def __init__(self, pool: asyncpg.Pool, expander: CandidateExpander, cluster: ClusterCall,
                 threshold: float = 0.85) -> None:  # fmt: skip
        self.pool, self.expander, self.cluster, self.threshold = pool, expander, cluster, threshold

    async def plan_row(
        self, tenant_id: UUID, row: PlanRow, want: int, *, pipeline_id: UUID | None = None,
        run_id: UUID | None = None, candidates: Sequence[str] | None = None,
    ) -> list[StoredSubtopic]:  # fmt: skip
        cands = list(candidates) if candidates is not None else await self.expander.expand(row, tenant_id)
        found = await self.cluster(row.topic, row.language, cands, want)
        async with tenant_tx(self.pool, tenant_id) as conn:
            # Serialise planners of one tenant so that two rows cannot both add the same new sub-topic.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('subtopics:' || $1::text))", str(tenant_id)
            )
            sims = await repository.max_similarity(conn, tenant_id, [np.asarray(s.embedding) for s in found])
            fresh = [s for s, sim in zip(found, sims, strict=True) if sim <= self.threshold][:want]
            ids = await repository.insert_subtopics(
                conn, tenant_id, pipeline_id=pipeline_id, run_id=run_id, row_number=row.row_number,
                main_topic=row.topic, language=row.language,
                items=[(s.label, s.keywords, s.embedding) for s in fresh],
            )  # fmt: skip
            await hooks.subtopics_ready(conn, tenant_id, run_id, row.row_number, ids)
        return [StoredSubtopic(i, s.label, s.keywords) for i, s in zip(ids, fresh, strict=True)]


async def label_clusters(labeler: LlmLabeler | None, main_topic: str, language: str,
                         inputs: list[tuple[list[str], list[str]]]) -> list[str]:  # fmt: skip
    """All cluster labels concurrently; a failed label becomes '' (the central candidate is used)."""
    import asyncio
    import logging

    if labeler is None:
        return ["" for _ in inputs]
    results = await asyncio.gather(
        *(labeler.label(main_topic, language, ex, kw) for ex, kw in inputs), return_exceptions=True
    )
    out = []
    for r in results:
        if isinstance(r, BaseException):
            logging.getLogger(__name__).warning("labeling failed: %s", r)
            out.append("")
        else:
            out.append(r)
    return out
