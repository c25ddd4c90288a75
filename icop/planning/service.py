"""Planning rules: expand a main topic into candidate angles, cluster them into sub-topics, drop what
the tenant already covered, store the rest. Plain async code; Temporal activities call it."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import asyncpg
import numpy as np

from icop.connectors.llm import LLM, ChatRequest
from icop.db import tenant_tx
from icop.embeddings import EmbeddingChoice, EmbeddingModel, calibration_for
from icop.events import hooks

from . import repository
from .clustering import SubtopicResult, shared_clusterer
from .learning import Evidence, LearningSettings, Neighbour, Pick, choose, seed_for
from .plan import LANGUAGES, PlanRow

log = logging.getLogger(__name__)


class ClusterCall(Protocol):
    """(main topic, language, candidates, want, embedding model) -> sub-topics ordered by cluster size:
    the Serve deployment, or a clusterer in this process."""

    async def __call__(
        self, main_topic: str, language: str, candidates: list[str], want: int, model: EmbeddingModel, /
    ) -> list[SubtopicResult]: ...


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


_LABEL_PROMPTS = {
    "en": (
        "These article ideas about '{topic}' form one sub-topic. Answer with its title only: at most 8 "
        "words, one line, in English.",
        "Title: {first}\nKeywords: {keywords}\nIdeas:\n{ideas}",
    ),
    "ko": (
        "다음 기사 아이디어들은 '{topic}'에 관한 하나의 하위 주제입니다. 그 하위 주제의 제목만 한국어로 "
        "답하세요: 한 줄, 여덟 단어 이내, 조사로 끝나지 않는 명사구.",
        "대표 제목: {first}\n키워드: {keywords}\n아이디어:\n{ideas}",
    ),
}


def label_prompt(main_topic: str, language: str, examples: list[str], keywords: list[str]) -> tuple[str, str]:
    """(system, user) asking for a cluster's title, written in the row's language (a Korean row is asked
    in Korean; a language without its own wording is asked in English for an answer in that language)."""
    system, user = _LABEL_PROMPTS.get(language, _LABEL_PROMPTS["en"])
    if language not in _LABEL_PROMPTS:
        system = system.replace("in English.", f"in {LANGUAGES.get(language, 'English')}.")
    ideas = "\n".join(f"- {e}" for e in examples)
    return (
        system.format(topic=main_topic),
        user.format(first=examples[0] if examples else "", keywords=", ".join(keywords), ideas=ideas),
    )


class LlmLabeler:
    """The representation model: names a cluster from its most central candidates and keywords."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    async def label(self, main_topic: str, language: str, examples: list[str], keywords: list[str]) -> str:
        system, user = label_prompt(main_topic, language, examples, keywords)
        result = await self.llm.complete(
            ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}],
                        max_tokens=30, operation="label_subtopic")
        )  # fmt: skip
        return result.text


class InProcessClusterCall:
    """A ``ClusterCall`` in this process (the embedded default when Serve is not deployed; tests): the
    process's clusterer for the model, labels from ``labeler``."""

    def __init__(self, choice: EmbeddingChoice, labeler: LlmLabeler | None) -> None:
        self.choice, self.labeler = choice, labeler

    async def __call__(
        self, main_topic: str, language: str, candidates: list[str], want: int, model: EmbeddingModel
    ) -> list[SubtopicResult]:
        core = shared_clusterer(self.choice.embedder(model))
        proposal = await asyncio.to_thread(core.propose, candidates, want)
        labels = await label_clusters(self.labeler, main_topic, language, proposal.label_inputs())
        return await asyncio.to_thread(core.finalize, proposal, labels)


def cross_language_twins(new: np.ndarray, stored: np.ndarray, floor: float) -> set[int]:
    """Rows of ``new`` that have a twin among ``stored`` (sub-topics in other languages): new and stored
    are paired one to one so that the pairs' cosines sum highest, and a pair counts from ``floor`` up.

    Across languages e5-small puts one sub-topic's two versions only a little closer than two neighbouring
    sub-topics of one field (Korean vs English coffee themes: twins 0.15–0.6, neighbours up to 0.33); a
    threshold alone would take a neighbour for a twin, a one-to-one pairing gives each its best partner."""
    if len(new) == 0 or len(stored) == 0:
        return set()
    from scipy.optimize import linear_sum_assignment

    sims = new @ stored.T
    rows, cols = linear_sum_assignment(-sims)
    return {int(r) for r, c in zip(rows, cols, strict=True) if sims[r, c] >= floor}


class SubtopicPlanner:
    """From one plan row to stored sub-topics, without duplicates of each other or of the tenant's past."""

    def __init__(
        self, pool: asyncpg.Pool, expander: CandidateExpander, cluster: ClusterCall,
        choice: EmbeddingChoice | None = None, learning: LearningSettings | None = None,
    ) -> None:  # fmt: skip
        self.pool, self.expander, self.cluster = pool, expander, cluster
        self.choice = choice or EmbeddingChoice()
        self.learning = learning or LearningSettings()

    async def plan_row(
        self, tenant_id: UUID, row: PlanRow, want: int, *, pipeline_id: UUID | None = None,
        run_id: UUID | None = None, candidates: Sequence[str] | None = None,
    ) -> list[StoredSubtopic]:  # fmt: skip
        cands = list(candidates) if candidates is not None else await self.expander.expand(row, tenant_id)
        async with tenant_tx(self.pool, tenant_id) as conn:
            cross = await repository.cross_language_dedup(conn, tenant_id, pipeline_id)
            learn, explore_share = await repository.learning_switches(conn, tenant_id, pipeline_id)
        model = self.choice.model(row.language, cross_language=cross)
        # Learning needs a choice: more sub-topics are proposed than kept.
        ask = math.ceil(want * max(self.learning.candidate_factor, 1.0)) if learn else want
        found = await self.cluster(row.topic, row.language, cands, ask, model)
        async with tenant_tx(self.pool, tenant_id) as conn:
            # Serialise planners of one tenant so that two rows cannot both add the same new sub-topic.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('subtopics:' || $1::text))", str(tenant_id)
            )
            fresh = await _not_covered(conn, tenant_id, row.language, found, cross)
            choices: list[dict[str, object] | None]
            if learn:
                seed = seed_for(tenant_id, run_id, row.row_number, row.topic)
                picks = await self._learnt(conn, tenant_id, fresh, want, explore_share, seed)
                fresh, choices = [fresh[p.index] for p in picks], [p.choice() for p in picks]
            else:
                fresh, choices = fresh[:want], [None] * min(want, len(fresh))
            model_id = found[0].model_id if found else ""
            ids = await repository.insert_subtopics(
                conn, tenant_id, pipeline_id=pipeline_id, run_id=run_id, row_number=row.row_number,
                main_topic=row.topic, language=row.language, model_id=model_id,
                items=[(s.label, s.keywords, s.examples, s.embedding) for s in fresh], choices=choices,
            )  # fmt: skip
            await hooks.subtopics_ready(conn, tenant_id, run_id, row.row_number, ids)
        return [StoredSubtopic(i, s.label, s.keywords) for i, s in zip(ids, fresh, strict=True)]

    async def _learnt(
        self, conn: asyncpg.Connection, tenant_id: UUID, found: list[SubtopicResult], want: int,
        explore_share: float, seed: int,
    ) -> list[Pick]:  # fmt: skip
        """``want`` of ``found`` by the engagement of the tenant's past posts near each (``learning``)."""
        if not found:
            return []
        floor = calibration_for(found[0].model_id).neighbour
        evidence = []
        for s in found:
            rows = await repository.engagement_near(
                conn, tenant_id, np.asarray(s.embedding, dtype=np.float32), s.model_id,
                self.learning.neighbours, floor,
            )  # fmt: skip
            evidence.append(Evidence([Neighbour(r["label"], float(r["similarity"]),
                                                float(r["engagement_rate"]), float(r["age_days"]),
                                                int(r["posts"])) for r in rows]))  # fmt: skip
        prior = await repository.tenant_engagement_rate(conn, tenant_id)
        return choose(evidence, want, explore_share, seed=seed, prior_rate=prior, settings=self.learning)


async def _not_covered(
    conn: asyncpg.Connection, tenant_id: UUID, language: str, found: list[SubtopicResult], cross: bool
) -> list[SubtopicResult]:
    """The sub-topics the tenant has not covered yet: none of its stored sub-topics of the same model (and
    language) is a near-duplicate; with ``cross``, none in another language is its twin either."""
    if not found:
        return []
    model_id = found[0].model_id
    calibration = calibration_for(model_id)
    vectors = [np.asarray(s.embedding, dtype=np.float32) for s in found]
    sims = await repository.max_similarity(conn, tenant_id, vectors, model_id, None if cross else language)
    fresh = [i for i, sim in enumerate(sims) if sim <= calibration.near_duplicate]
    if cross and fresh and calibration.cross_language_duplicate is not None:
        stored: dict[UUID, np.ndarray] = {}
        for i in fresh:
            for sid, vec in await repository.nearest_in_other_languages(
                conn, tenant_id, vectors[i], model_id, language, k=len(found)
            ):
                stored[sid] = vec
        if stored:
            twins = cross_language_twins(
                np.stack([vectors[i] for i in fresh]), np.stack(list(stored.values())),
                calibration.cross_language_duplicate,
            )  # fmt: skip
            fresh = [i for n, i in enumerate(fresh) if n not in twins]
    elif cross and calibration.cross_language_duplicate is None:
        log.warning("cross-language dedup asked, but %s does not compare languages; skipped", model_id)
    return [found[i] for i in fresh]


async def label_clusters(labeler: LlmLabeler | None, main_topic: str, language: str,
                         inputs: list[tuple[list[str], list[str]]]) -> list[str]:  # fmt: skip
    """All cluster labels concurrently; a failed label becomes '' (the keywords are used)."""
    if labeler is None:
        return ["" for _ in inputs]
    results = await asyncio.gather(
        *(labeler.label(main_topic, language, ex, kw) for ex, kw in inputs), return_exceptions=True
    )
    out = []
    for r in results:
        if isinstance(r, BaseException):
            log.warning("labeling failed: %s", r)
            out.append("")
        else:
            out.append(r)
    return out
