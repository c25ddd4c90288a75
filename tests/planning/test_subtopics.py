"""Sub-topics on the real model and real BERTopic, with dedup against the tenant's past in pgvector."""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np
import pytest

from cluster.eval_themes import candidates, narrow_themes, wide_candidates, wide_themes
from icop.db import tenant_tx
from icop.embeddings import EmbeddingModel
from icop.planning.clustering import UMAP_EXACT_BELOW, SubtopicResult, TopicClusterer, exact_knn
from icop.planning.plan import PlanRow
from icop.planning.service import CandidateExpander, SubtopicPlanner

THEMES = narrow_themes()


def theme_of(result: SubtopicResult, docs: list[str], themes: list[str]) -> set[str]:
    return {themes[docs.index(e)] for e in result.examples}


@pytest.mark.parametrize("per_theme", [10, 25])
def test_one_subtopic_per_theme_and_no_near_duplicates(clusterer: TopicClusterer, per_theme: int) -> None:
    docs, themes = candidates(per_theme)
    results = clusterer.subtopics("home coffee", "en", docs, want=len(THEMES), threshold=0.85)[: len(THEMES)]
    covered = [theme_of(r, docs, themes) for r in results]
    assert all(len(c) == 1 for c in covered), covered  # each sub-topic is one theme
    assert sorted(t for c in covered for t in c) == sorted(THEMES)  # every theme once
    emb = np.array([r.embedding for r in results])
    sims = emb @ emb.T
    np.fill_diagonal(sims, 0)
    assert sims.max() <= 0.85


def test_themes_that_share_every_framing_and_audience_are_told_apart(clusterer: TopicClusterer) -> None:
    """Ten themes of one hobby under twelve shared framings and twelve shared audiences (the planning
    benchmark's set): the common part dominates the sentence embeddings, so themes are merged on
    centred embeddings. Every chosen sub-topic is a different theme, and nearly all themes are found."""
    docs, themes = wide_candidates(300)
    want = len(wide_themes())
    results = clusterer.subtopics("home coffee", "en", docs, want=want, threshold=0.85)[:want]
    chosen = [themes[docs.index(r.examples[0])] for r in results]
    assert len(set(chosen)) == len(chosen), chosen  # no theme twice
    assert len(set(chosen)) >= want - 1, chosen  # the first `want` candidates cover 6 of these 10 themes
    emb = np.array([r.embedding for r in results])
    sims = emb @ emb.T
    np.fill_diagonal(sims, 0)
    assert sims.max() <= 0.85


def test_few_candidates_fall_back_without_failing(clusterer: TopicClusterer) -> None:
    docs = [
        "espresso crema tips",
        "espresso shot timing",
        "cold brew ratio",
        "cold brew steeping",
        "grinder burrs",
    ]
    results = clusterer.subtopics("coffee", "en", docs, want=3)
    assert 1 <= len(results) <= 5
    assert clusterer.subtopics("coffee", "en", [], want=3) == []


def test_labeler_failure_keeps_the_cluster(clusterer: TopicClusterer) -> None:
    docs, _ = candidates(10)

    def broken(*_: object) -> str:
        raise RuntimeError("provider down")

    results = clusterer.subtopics("home coffee", "en", docs, want=6, labeler=broken)
    assert len(results) >= 6 and all(r.label == " · ".join(r.keywords[:3]) for r in results)


async def test_second_run_on_the_same_topic_adds_nothing_already_covered(
    clusterer: TopicClusterer, app_pool: asyncpg.Pool
) -> None:
    tenant = uuid.uuid4()
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'planner')", tenant)

    async def cluster(
        topic: str, lang: str, cands: list[str], want: int, model: EmbeddingModel
    ) -> list[SubtopicResult]:
        assert model == "minilm"  # an English row, the default choice
        return clusterer.subtopics(topic, lang, cands, want)

    planner = SubtopicPlanner(app_pool, CandidateExpander(llm=None), cluster)  # type: ignore[arg-type]  # never asked: candidates are given
    row = PlanRow(2, "home coffee", "", "en", "")
    docs, _ = candidates(10)
    first = await planner.plan_row(tenant, row, want=6, candidates=docs)
    assert len(first) == 6
    again = await planner.plan_row(tenant, row, want=6, candidates=docs)
    assert again == []
    # A sub-topic whose article failed is not covered: retrying the row plans that theme again, only it.
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO generated_articles (tenant_id, subtopic_id, status) VALUES ($1, $2, 'failed')",
            tenant, first[0].id,
        )  # fmt: skip
    retried = await planner.plan_row(tenant, row, want=6, candidates=docs)
    assert len(retried) == 1, retried
    async with tenant_tx(app_pool, tenant) as conn:
        # Undo the failure and the retry, for what follows.
        await conn.execute("DELETE FROM generated_articles WHERE subtopic_id = $1", first[0].id)
        await conn.execute("DELETE FROM subtopics WHERE id = $1", retried[0].id)
    # A new theme on a later run (asking for one more sub-topic) is planned; the old ones are not repeated.
    extra, _ = candidates(
        10, seed=3, themes={"tea": ["green tea", "matcha whisking", "oolong tea", "tea kettle"]}
    )
    third = await planner.plan_row(tenant, row, want=7, candidates=docs + extra)
    assert len(third) == 1, third
    assert any(w in third[0].label.lower() for w in ("tea", "matcha")), third
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT count(*) FROM subtopics") == 7
    # Another tenant has covered nothing: the same topic is planned in full for it.
    other = uuid.uuid4()
    async with tenant_tx(app_pool, other) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'other')", other)
    assert len(await planner.plan_row(other, row, want=6, candidates=docs)) == 6


UMAP_FIT = """
import json, numpy as np
from icop.planning.clustering import ClusterParams, cache_umap_kernels
kernels = cache_umap_kernels()
from umap import UMAP
p = ClusterParams.for_size(80)
x = np.random.default_rng(0).normal(size=(80, 384)).astype(np.float32)
UMAP(n_neighbors=p.n_neighbors, n_components=p.n_components, min_dist=0.0, metric="cosine", random_state=42,
     low_memory=True).fit_transform(x)
print(json.dumps({k.py_func.__name__: [sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]
                  for k in kernels if k.signatures}))
"""


def test_a_new_process_loads_umaps_kernels_instead_of_compiling_them(clusterer: TopicClusterer) -> None:
    """The session's clusterer has fitted UMAP (its warm-up), so its kernels are on disk: a fresh process
    (as a new Serve replica is) loads the heavy ones rather than paying ≈15 s to compile them again."""
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", UMAP_FIT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    stats = json.loads(r.stdout.strip().splitlines()[-1])  # name -> [cache hits, cache misses]
    heavy = ["fast_knn_indices", "smooth_knn_dist", "compute_membership_strengths",
             "_optimize_layout_euclidean_single_epoch"]  # fmt: skip
    assert {name: stats.get(name) for name in heavy} == {name: [1, 0] for name in heavy}, stats


def test_large_candidate_sets_get_exact_neighbours_without_nndescent() -> None:
    """From UMAP_EXACT_BELOW candidates on, the clusterer hands UMAP exact cosine neighbours (UMAP would
    switch to NNDescent: approximate, and ≈ 90 s of numba compilation per new process); below it, UMAP's
    own exact path runs (nothing precomputed)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(UMAP_EXACT_BELOW + 100, 24)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx, dist, index = exact_knn(x, 15, chunk=1000)
    assert index is None and idx.shape == dist.shape == (len(x), 15)
    assert (idx[:, 0] == np.arange(len(x))).all() and (dist[:, 0] == 0).all()
    sims = x @ x.T
    np.fill_diagonal(sims, np.inf)
    expected = np.argsort(-sims, axis=1)[:, :15]
    assert (idx == expected).mean() > 0.999  # float ties may swap equals
    rows = np.arange(len(x))[:, None]
    assert np.allclose(dist[:, 1:], 1 - sims[rows, idx][:, 1:], atol=1e-5)
    assert (np.diff(dist, axis=1) >= -1e-6).all()  # nearest first
    assert exact_knn(x[:100], 15) == (None, None, None)
