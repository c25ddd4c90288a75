"""Brand voice: tenant sample texts in pgvector, the closest ones handed to the writers as style."""

from .embedder import SentenceEmbedder, shared_embedder
from .service import BrandVoice, StyleSample

__all__ = ["BrandVoice", "SentenceEmbedder", "StyleSample", "shared_embedder"]
