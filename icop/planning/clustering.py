"""Sub-topics from candidate angles: embed → BERTopic (UMAP + HDBSCAN) → label → merge near-duplicates.

A plain class (``TopicClusterer``) that holds an ``icop.embeddings.Embedder`` and is warmed up at start
(the first BERTopic fit in a process pays ≈ 15 s of numba compilation of UMAP's kernels, which numba then
keeps on disk: see ``cache_umap_kernels``). Its thresholds are the embedding model's calibration. Keywords
come from ``icop.planning.tokenize`` (Kiwi for Korean titles). Ray Serve wraps it in
``deployments/topics.py``; tests call it directly.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from icop.embeddings import Calibration, Embedder, calibration_for, shared_embedder

from .tokenize import has_hangul, make_vectorizer, title_tokens

log = logging.getLogger(__name__)

# Labels a cluster: (main topic, language, representative candidates, keywords) -> label.
Labeler = Callable[[str, str, list[str], list[str]], str]


_UMAP_CACHED: list[object] = []


def cache_umap_kernels() -> list[object]:
    """Turn numba's on-disk cache on for UMAP's jitted kernels; returns them.

    umap-learn does not mark its kernels ``cache=True`` (pynndescent, which it uses, does). Without it,
    every process compiles them again on its first fit: ≈15 s of CPU on two cores, paid by each new
    TopicClusterer replica when Serve scales up. With it, only the first process on a machine compiles;
    later ones load the machine code (a warm-up of ≈2 s). Numba writes its cache atomically (replicas may
    share it) beside the package (``__pycache__``) or, where that is read-only, under ``NUMBA_CACHE_DIR`` /
    the user's cache; entries are keyed by the source file's timestamp and the CPU, so an upgraded umap or
    another machine compiles afresh.
    """
    if not _UMAP_CACHED:
        import umap.distances
        import umap.layouts
        import umap.sparse
        import umap.umap_
        import umap.utils
        from numba.core.registry import CPUDispatcher

        for mod in (umap.umap_, umap.utils, umap.layouts, umap.distances, umap.sparse):
            for fn in vars(mod).values():
                if isinstance(fn, CPUDispatcher) and fn.py_func.__module__ == mod.__name__:
                    if type(getattr(fn, "_cache", None)).__name__ == "NullCache":
                        fn.enable_caching()
                    _UMAP_CACHED.append(fn)
    return _UMAP_CACHED


# From this many candidates on, UMAP would find neighbours with NNDescent (pynndescent): ≈ 90 s of numba
# compilation in each new process on two cores (the warm-up's small set never reaches it), and approximate.
UMAP_EXACT_BELOW = 4096


def exact_knn(emb: np.ndarray, k: int, chunk: int = 1024) -> tuple[Any, Any, None]:
    """Exact cosine k-nearest neighbours (self first) of unit rows, as UMAP's ``precomputed_knn``; for
    fewer than ``UMAP_EXACT_BELOW`` rows UMAP computes the same itself (None, None, None). One matrix
    product per chunk of rows: 5,000 candidates take well under a second."""
    n = len(emb)
    if n < UMAP_EXACT_BELOW:
        return None, None, None
    x = emb.astype(np.float32, copy=False)
    idx = np.empty((n, k), dtype=np.int32)  # the types pynndescent gives, so no kernel compiles anew
    dist = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, chunk):
        sims = x[lo : lo + chunk] @ x.T
        rows = np.arange(len(sims))
        sims[rows, rows + lo] = np.inf  # a row is its own nearest neighbour, as UMAP expects
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        idx[lo : lo + chunk] = np.take_along_axis(top, order, axis=1)
        dist[lo : lo + chunk] = np.maximum(0.0, 1.0 - np.take_along_axis(sims, idx[lo : lo + chunk], axis=1))
    dist[:, 0] = 0.0
    return idx, dist, None


@dataclass(frozen=True)
class ClusterParams:
    """BERTopic parameters, scaled to the number of candidates (a few dozen to thousands)."""

    n_neighbors: int
    n_components: int
    min_cluster_size: int
    min_samples: int

    @classmethod
    def for_size(cls, n: int) -> ClusterParams:
        n_neighbors = int(min(50, max(5, round(n / 20)), n - 1))
        min_cluster_size = max(3, round(0.05 * n)) if n >= 60 else max(2, n // 15)
        return cls(
            n_neighbors=max(2, n_neighbors),
            n_components=max(2, min(5, n - 2)),
            min_cluster_size=min_cluster_size,
            min_samples=max(1, min(10, min_cluster_size // 2)),
        )


@dataclass
class Cluster:
    members: list[int]  # indices into the candidates
    keywords: list[str]
    medoid: int  # the member closest to the centroid
    label: str = ""
    embedding: np.ndarray | None = field(default=None, repr=False)  # of the label


@dataclass
class SubtopicResult:
    label: str
    size: int
    keywords: list[str]
    examples: list[str]
    embedding: list[float]
    model_id: str = ""  # the embedding model of ``embedding``
    members: list[int] = field(default_factory=list)  # indices into the unique candidates


class TopicClusterer:
    """Holds the embedding model; clusters candidate angles into labelled, de-duplicated sub-topics."""

    def __init__(
        self, embedder: Embedder | None = None, warm: bool = True, calibration: Calibration | None = None
    ) -> None:
        self.embedder = embedder or shared_embedder()
        self.calibration = calibration or calibration_for(self.embedder.model_id)
        self.dimension = self.embedder.dimension
        cache_umap_kernels()
        if warm:
            self.warm_up()

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def warm_up(self) -> None:
        """Load (or, first on this machine, compile) the numba kernels once per process, not per request;
        load the model and the Korean analyser."""
        rng = np.random.default_rng(0)
        docs = [f"warm up document {i} about theme {i % 4}" for i in range(80)]
        emb = rng.normal(size=(80, self.dimension)).astype(np.float32)
        emb[:, :4] += np.eye(4)[np.arange(80) % 4] * 8
        self._fit(docs, emb / np.linalg.norm(emb, axis=1, keepdims=True))
        self.embed(["warm up", "준비 운동"])
        title_tokens("준비 운동")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.encode(texts)

    def _fit(self, docs: list[str], embeddings: np.ndarray) -> tuple[list[int], Any]:
        """BERTopic's topic per doc, and the fitted model (per call: one clusterer serves concurrent
        calls)."""
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from umap import UMAP

        p = ClusterParams.for_size(len(docs))
        model = BERTopic(
            umap_model=UMAP(n_neighbors=p.n_neighbors, n_components=p.n_components, min_dist=0.0,
                            metric="cosine", random_state=42, low_memory=True,
                            precomputed_knn=exact_knn(embeddings, p.n_neighbors)),
            hdbscan_model=HDBSCAN(min_cluster_size=p.min_cluster_size, min_samples=p.min_samples,
                                  metric="euclidean", cluster_selection_method="eom", prediction_data=False),
            vectorizer_model=make_vectorizer(docs),
            # BERTopic's "english" (its default) strips every character outside [A-Za-z0-9 ] before
            # c-TF-IDF: a Korean plan was left with one "word" (a digit run such as "168"), and
            # c-TF-IDF's idf over a one-word vocabulary fails ("numpy.float64 has no len()"). Any other
            # value keeps the text as it is; the vectorizer tokenizes it.
            language="multilingual",
            embedding_model=_bertopic_embedder(self.embedder),
            calculate_probabilities=False,
        )  # fmt: skip
        with warnings.catch_warnings():  # "no search index, transform unavailable": we never transform
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
            topics, _ = model.fit_transform(docs, embeddings)
        return [int(t) for t in topics], model

    def cluster(self, candidates: Sequence[str], embeddings: np.ndarray, want: int) -> list[Cluster]:
        """Group candidates by theme. Falls back to k-means when HDBSCAN finds no structure."""
        docs = list(candidates)
        # One expansion's candidates share the main topic and its framings ("A beginner's guide to …",
        # "… at home"), a common component that makes every centroid look alike (distinct themes at
        # cosine > 0.6); a mixed plan's Korean and English candidates also differ by language as a whole.
        # Subtracting each language's mean within the plan keeps what tells themes apart.
        plan_space = centred(embeddings, [has_hangul(d) for d in docs])
        topics: list[int] = []
        ctfidf: dict[int, list[str]] = {}
        if len(docs) >= 12:
            try:
                topics, model = self._fit(docs, plan_space)
                ctfidf = {t: [w for w, _ in (model.get_topic(t) or [])][:6] for t in set(topics) if t >= 0}
            except (ValueError, TypeError) as e:  # degenerate inputs (e.g. all identical)
                log.warning(
                    "BERTopic could not fit %d candidates (%s); falling back to k-means", len(docs), e
                )
        if len({t for t in topics if t >= 0}) < min(2, want):
            topics = self._kmeans(plan_space, min(max(want, 2), len(docs)))
            ctfidf = {}
        groups: dict[int, list[int]] = {}
        for i, t in enumerate(topics):
            if t >= 0:
                groups.setdefault(t, []).append(i)
        clusters = []
        for t, members in groups.items():
            vecs = embeddings[members]
            centroid = vecs.mean(axis=0)
            medoid = members[int(np.argmax(vecs @ centroid))]
            keywords = ctfidf.get(t) or _keywords([docs[i] for i in members])
            clusters.append(Cluster(members, keywords, medoid))
        merged = merge_close_centroids(clusters, plan_space, self.calibration.theme_merge, want)
        return split_far_halves(merged, plan_space, self.calibration.theme_merge, want, docs)

    @staticmethod
    def _kmeans(embeddings: np.ndarray, k: int) -> list[int]:
        from sklearn.cluster import KMeans

        return [int(x) for x in KMeans(n_clusters=k, n_init=4, random_state=42).fit_predict(embeddings)]

    def propose(self, candidates: Sequence[str], want: int, embeddings: np.ndarray | None = None) -> Proposal:
        """Embed (unless given, e.g. batched across requests) and cluster; labels come from ``finalize``."""
        cands = unique_candidates(candidates)
        if not cands:
            return Proposal([], np.zeros((0, self.dimension), np.float32), [])
        emb = self.embed(cands) if embeddings is None else embeddings
        clusters = self.cluster(cands, emb, want)
        return Proposal(cands, emb, clusters)

    def finalize(
        self, proposal: Proposal, labels: Sequence[str], threshold: float | None = None
    ) -> list[SubtopicResult]:
        """Apply labels (a model's, else BERTopic keywords), then merge near-duplicates so that no two
        results' embeddings (cluster centroids) have cosine similarity above ``threshold`` (default: the
        model's calibrated near-duplicate threshold). Largest first."""
        clusters, cands, emb = proposal.clusters, proposal.candidates, proposal.embeddings
        if not clusters:
            return []
        if threshold is None:
            threshold = self.calibration.near_duplicate
        for c, label in zip(clusters, labels, strict=True):
            c.label = _clean_label(label) or keyword_label(c.keywords) or cands[c.medoid]
            # A sub-topic is stored as the centroid of its candidates: stable across runs whatever its
            # label says, so dedup against the tenant's past compares themes, not wordings.
            c.embedding = _unit_centroid(emb, c.members)
        kept = merge_near_duplicates(clusters, threshold)
        return [
            SubtopicResult(c.label, len(c.members), c.keywords,
                           [cands[i] for i in _closest(emb, c.members, 3)],
                           [float(x) for x in c.embedding],  # type: ignore[union-attr]  # set in the loop above
                           self.model_id, sorted(c.members))
            for c in kept
        ]  # fmt: skip

    def subtopics(
        self, main_topic: str, language: str, candidates: Sequence[str], want: int,
        labeler: Labeler | None = None, threshold: float | None = None,
    ) -> list[SubtopicResult]:  # fmt: skip
        """Labelled sub-topics ordered by size, no two above ``threshold`` (default: the model's
        calibration); the caller keeps ``want``."""
        p = self.propose(candidates, want)
        labels = []
        for examples, keywords in p.label_inputs():
            try:
                labels.append(labeler(main_topic, language, examples, keywords) if labeler else "")
            except Exception as e:  # a failed label must not lose the cluster
                log.warning("labeling failed (%s); using the most central candidate", e)
                labels.append("")
        return self.finalize(p, labels, threshold)


_SHARED: dict[str, TopicClusterer] = {}
_SHARED_LOCK = threading.Lock()


def shared_clusterer(embedder: Embedder) -> TopicClusterer:
    """One TopicClusterer per embedding model in this process: the model is read-only and a clusterer
    serves concurrent calls, so callers built one after another (tests, a restarted worker) share it
    rather than loading the model again. Not warmed: the first fit pays the numba load."""
    with _SHARED_LOCK:
        if embedder.model_id not in _SHARED:
            _SHARED[embedder.model_id] = TopicClusterer(embedder, warm=False)
        return _SHARED[embedder.model_id]


@dataclass
class Proposal:
    candidates: list[str]
    embeddings: np.ndarray
    clusters: list[Cluster]

    def label_inputs(self) -> list[tuple[list[str], list[str]]]:
        """(most central candidates, keywords) for each cluster: what the labeler sees."""
        return [([self.candidates[i] for i in _closest(self.embeddings, c.members, 5)], c.keywords)
                for c in self.clusters]  # fmt: skip


def _bertopic_embedder(embedder: Embedder) -> Any:
    """Our embedder as BERTopic's backend: fits get embeddings passed in, but a representation model that
    embeds keywords must use the same model, and BERTopic's own fallback would download one."""
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):  # type: ignore[misc]  # bertopic is untyped
        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            return embedder.encode(list(documents))

    return _Backend()


def unique_candidates(candidates: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in candidates if c and c.strip()))


def centred(emb: np.ndarray, groups: Sequence[object] | None = None) -> np.ndarray:
    """Rows minus their mean (with ``groups``, one label per row: minus their group's mean), re-normalised
    (a row equal to the mean stays zero)."""
    c = emb - emb.mean(axis=0, keepdims=True)
    if groups is not None:
        labels = np.asarray(groups)
        c = emb.copy()
        for g in set(groups):
            rows = labels == g
            c[rows] -= emb[rows].mean(axis=0)
    norms = np.linalg.norm(c, axis=1, keepdims=True)
    out: np.ndarray = (c / np.where(norms > 1e-9, norms, 1.0)).astype(np.float32)
    return out


def _unit_centroid(emb: np.ndarray, members: list[int]) -> np.ndarray:
    c = emb[members].mean(axis=0)
    unit: np.ndarray = c / (np.linalg.norm(c) or 1.0)
    return unit


def merge_close_centroids(
    clusters: list[Cluster], emb: np.ndarray, threshold: float, want: int
) -> list[Cluster]:
    """HDBSCAN over-splits small sets. Fold clusters whose centroids are closer than ``threshold``; then,
    while there are more than ``want``, fold the closest pair (a split theme before two distinct ones)."""
    kept = sorted(clusters, key=lambda c: len(c.members), reverse=True)

    def fold(i: int, j: int) -> None:
        kept[i].members.extend(kept[j].members)
        kept[i].keywords = list(dict.fromkeys(kept[i].keywords + kept[j].keywords))[:6]
        del kept[j]

    while len(kept) > 1:
        cents = np.stack([_unit_centroid(emb, c.members) for c in kept])
        sims = cents @ cents.T
        np.fill_diagonal(sims, -1.0)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[i, j] < threshold and len(kept) <= want:
            break
        fold(int(min(i, j)), int(max(i, j)))
    for c in kept:
        vecs = emb[c.members]
        c.medoid = c.members[int(np.argmax(vecs @ vecs.mean(axis=0)))]
    return sorted(kept, key=lambda c: len(c.members), reverse=True)


def split_far_halves(
    clusters: list[Cluster], emb: np.ndarray, threshold: float, want: int, docs: list[str]
) -> list[Cluster]:
    """HDBSCAN also under-splits: two themes that share most words can land in one cluster. While there
    are fewer than ``want``, split the largest cluster in two (2-means) when its halves' centroids are
    further apart than ``threshold`` — the rule ``merge_close_centroids`` folds by, run the other way."""
    from sklearn.cluster import KMeans

    kept = sorted(clusters, key=lambda c: len(c.members), reverse=True)
    tried: set[int] = set()
    while len(kept) < want:
        pending = [c for c in kept if id(c) not in tried and len(c.members) >= 6]
        if not pending:
            break
        big = pending[0]
        tried.add(id(big))
        parts = KMeans(n_clusters=2, n_init=4, random_state=42).fit_predict(emb[big.members])
        halves = [[m for m, p in zip(big.members, parts, strict=True) if p == side] for side in (0, 1)]
        if min(len(h) for h in halves) < 3:
            continue
        a, b = (_unit_centroid(emb, h) for h in halves)
        if float(a @ b) >= threshold:
            continue
        kept.remove(big)
        for h in halves:
            vecs = emb[h]
            medoid = h[int(np.argmax(vecs @ vecs.mean(axis=0)))]
            kept.append(Cluster(h, _keywords([docs[i] for i in h]), medoid))
        kept.sort(key=lambda c: len(c.members), reverse=True)
    return kept


def merge_near_duplicates(clusters: list[Cluster], threshold: float) -> list[Cluster]:
    """Greedy, largest first: a cluster whose embedding is too close to a kept one is merged into it."""
    kept: list[Cluster] = []
    for c in sorted(clusters, key=lambda c: len(c.members), reverse=True):
        twin = next((k for k in kept if float(k.embedding @ c.embedding) > threshold), None)  # type: ignore[operator]  # finalize set the embeddings
        if twin is None:
            kept.append(c)
        else:
            twin.members.extend(c.members)
    return kept


def _closest(emb: np.ndarray, members: list[int], k: int) -> list[int]:
    vecs = emb[members]
    centroid = vecs.mean(axis=0)
    order = np.argsort(-(vecs @ centroid))[:k]
    return [members[i] for i in order]


def _keywords(docs: list[str], k: int = 6) -> list[str]:
    """The most frequent content words of a cluster's candidates (when BERTopic did not name it)."""
    counts: dict[str, int] = {}
    for d in docs:
        for w in set(title_tokens(d)):
            if len(w) > 3 or has_hangul(w):
                counts[w] = counts.get(w, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:k]]


def keyword_label(keywords: Sequence[str], k: int = 3) -> str:
    """BERTopic's own representation (c-TF-IDF keywords): the label when no language model names the
    cluster."""
    return " · ".join(keywords[:k])


def _clean_label(label: str) -> str:
    """A usable label from a model's answer, or '' (an offline template is not a label)."""
    label = label.strip()
    if label.startswith("[offline]"):
        return ""
    label = label.strip('"').strip()
    first = label.splitlines()[0] if label else ""
    return first[:120] if 0 < len(first) <= 160 else ""
