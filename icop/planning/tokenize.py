"""Keyword tokens of candidate titles, for BERTopic's c-TF-IDF and the keyword labels.

English titles keep the vectorizer ICOP always used (words of two or more letters, English stop words
dropped). A title with Hangul goes through Kiwi, a Korean morphological analyser (``kiwipiepy``, its model
inside the ``kiwipiepy-model`` wheel): its nouns (NNG, NNP) and foreign words (SL) are kept, particles and
endings are not (``초보자를`` → ``초보자``), and nouns written together are joined back into the compound
the writer meant (``홈`` + ``카페`` → ``홈카페``; ``간헐`` + ``적`` → ``간헐적``; ``V`` + ``60`` → ``V60``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

HANGUL = re.compile(r"[\uac00-\ud7a3]")
_ENGLISH_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_NOUN = {"NNG", "NNP"}
_JOINS = _NOUN | {"SL", "SN", "XSN"}  # parts of a compound when written without a space
_KIWI_LOCK = threading.Lock()


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text))


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    from kiwipiepy import Kiwi

    return Kiwi()  # ≈ 1–7 s to load, once per process


def korean_tokens(text: str) -> list[str]:
    """Content words of a Korean (or mixed) title: nouns and foreign words, compounds joined, particles,
    endings, single syllables and English stop words left out."""
    with _KIWI_LOCK:  # one analyser per process; its calls are not documented as thread-safe
        tokens = _kiwi().tokenize(text)
    out: list[str] = []
    run: list[Any] = []

    def flush() -> None:
        # a compound needs a noun or a foreign word in it; a lone suffix or number is not a keyword
        if run and any(t.tag in _NOUN or t.tag == "SL" for t in run):
            while run and run[-1].tag == "XSN" and run[-1].form != "적":  # -용, -들: not part of the word
                run.pop()
            word = "".join(t.form for t in run)
            word = word.lower() if word.isascii() else word
            if len(word) >= 2 and word not in ENGLISH_STOP_WORDS:
                out.append(word)
        run.clear()

    for t in tokens:
        joined = bool(run) and t.start == run[-1].start + run[-1].len  # no space in between
        if t.tag in _JOINS and (joined or (not run and t.tag != "XSN")):
            run.append(t)
            continue
        flush()
        if t.tag in _JOINS and t.tag != "XSN":
            run.append(t)
    flush()
    return out


def english_tokens(text: str) -> list[str]:
    return [w for w in _ENGLISH_TOKEN.findall(text.lower()) if w not in ENGLISH_STOP_WORDS]


def title_tokens(text: str) -> list[str]:
    """Kiwi for a title with Hangul, the English rule for the rest (a mixed plan has both)."""
    return korean_tokens(text) if has_hangul(text) else english_tokens(text)


def make_vectorizer(docs: Sequence[str]) -> CountVectorizer:
    """BERTopic's vectorizer for these candidates: the English one when none has Hangul, else one whose
    analyzer is ``title_tokens``."""
    if not any(has_hangul(d) for d in docs):
        return CountVectorizer(token_pattern=r"(?u)\b\w\w+\b", min_df=1, stop_words="english")
    return CountVectorizer(analyzer=title_tokens, min_df=1)
