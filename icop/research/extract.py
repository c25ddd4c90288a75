"""Main text and metadata of a fetched page (trafilatura), the passages worth giving the writers, and
near-duplicate detection (the same story syndicated on several sites)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_LATIN = re.compile(r"[A-Za-z0-9]{3,}")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ExtractedPage:
    url: str
    title: str
    site: str
    published: str | None  # ISO date
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def extract_page(html: str, url: str) -> ExtractedPage | None:
    """The article's title, site, date and body paragraphs; None when the page has no main text."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, favor_precision=True, include_comments=False, include_tables=False
    )
    if doc is None:
        return None
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    title = _SPACE.sub(" ", str(data.get("title") or "")).strip()
    lines = [_SPACE.sub(" ", ln).strip() for ln in str(data.get("text") or "").splitlines()]
    paragraphs = [ln for ln in lines if ln and ln != title]
    if not paragraphs:
        return None
    site = str(data.get("sitename") or data.get("hostname") or urlsplit(url).hostname or "").strip()
    date = data.get("date")
    published = str(date)[:10] if date else None
    return ExtractedPage(url, title or paragraphs[0][:120], site, published, paragraphs)


def terms(text: str) -> set[str]:
    """Latin words, and Hangul bigrams (Korean attaches particles to words, so bigrams match better)."""
    found = {w.lower() for w in _LATIN.findall(text)}
    for run in _HANGUL_RUN.findall(text):
        found.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return found


def passages(page: ExtractedPage, query: str, limit: int = 2, max_chars: int = 500) -> list[str]:
    """The paragraphs that share most with the query (in page order), each cut at ``max_chars``."""
    q = terms(query)
    scored = [(len(q & terms(p)), -i, p) for i, p in enumerate(page.paragraphs) if len(p) >= 40]
    if not scored:
        scored = [(0, -i, p) for i, p in enumerate(page.paragraphs)]
    best = sorted(scored, reverse=True)[:limit]
    return [_cut(p, max_chars) for _, _, p in sorted(best, key=lambda t: -t[1])]


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def shingles(text: str, n: int = 5) -> set[str]:
    """Character n-grams of the text with spacing and case removed (works for Korean and English alike)."""
    flat = _SPACE.sub("", text.lower())
    return {flat[i : i + n] for i in range(max(1, len(flat) - n + 1))}


def similarity(a: set[str], b: set[str]) -> float:
    """How much of the shorter text the other contains (a syndicated copy with an added line still
    counts as the same story)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


NEAR_DUPLICATE = 0.8
