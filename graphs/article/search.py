"""The Researcher's search tool: a small protocol, and the offline implementation over a local
corpus shipped with the graph (``corpus/documents.json``). A web search client implements the same
protocol; every hit carries its URL so that no claim loses its source."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CORPUS_FILE = Path(__file__).parent / "corpus" / "documents.json"

_LATIN = re.compile(r"[A-Za-z]{3,}")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_SENTENCE = re.compile(r"(?<=[.!?。])\s+")


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str
    language: str
    score: float


class SearchTool(Protocol):
    async def search(self, query: str, k: int = 4) -> list[SearchHit]: ...


def _terms(text: str) -> set[str]:
    """Latin words, and Hangul bigrams (Korean attaches particles to words, so bigrams match better)."""
    terms = {w.lower() for w in _LATIN.findall(text)}
    for run in _HANGUL_RUN.findall(text):
        terms.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return terms


class LocalCorpusSearch:
    """Term-overlap search over a JSON list of ``{title, url, language, text}`` documents."""

    def __init__(self, path: Path = CORPUS_FILE) -> None:
        self.docs = json.loads(path.read_text(encoding="utf-8"))
        self._terms = [_terms(d["title"] + " " + d["text"]) for d in self.docs]

    async def search(self, query: str, k: int = 4) -> list[SearchHit]:
        q = _terms(query)
        if not q:
            return []
        scored = []
        for doc, terms in zip(self.docs, self._terms, strict=True):
            overlap = len(q & terms)
            if overlap:
                scored.append((overlap / len(q), doc))
        scored.sort(key=lambda s: -s[0])
        return [
            SearchHit(d["title"], d["url"], d["text"], d.get("language", "en"), round(score, 3))
            for score, d in scored[:k]
        ]


def claims(hit: SearchHit, limit: int = 2) -> list[str]:
    """The first sentences of a hit: what the Researcher passes on, each with the hit's URL."""
    return [s.strip() for s in _SENTENCE.split(hit.snippet) if s.strip()][:limit]
