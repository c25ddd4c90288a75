"""Brand voice: tenant sample texts in pgvector, the closest ones handed to the writers as style."""

from .service import BrandVoice, StyleSample

__all__ = ["BrandVoice", "StyleSample"]
