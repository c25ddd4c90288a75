"""Keywords of a text, in English and Korean: the most frequent content words, Korean particles cut off.

Used where no model named them: an article's SEO keywords when the SEO answer has none.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}|[\uac00-\ud7a3]{2,}")
# Words that are never an article's keyword: English and Korean function words, and the vocabulary of
# writing itself (what a draft says about being a draft).
_STOP = frozenset(
    """the and for with that this from into about your you are was were will would should could have has had
    not but all any can its their them they what when where which who why how than then there these those
    our out also just more most very much many some such only over under each other one two three four five
    article articles draft post blog guide tips title summary introduction conclusion keywords hashtags
    대한 관한 위한 통해 그리고 하지만 또한 이런 저런 그런 우리 여러분 기사 초안 제목 요약 키워드""".split()
)
_PARTICLE = re.compile(r"(으로|에서|에게|까지|부터|처럼|보다|하는|하기|을|를|이|가|은|는|에|의|로|와|과|도)$")


def _norm(word: str) -> str:
    if word.isascii():
        return word.lower()
    return _PARTICLE.sub("", word) if len(word) >= 3 else word


def keywords(text: str, n: int = 6) -> list[str]:
    """Up to ``n`` keywords of ``text``, most frequent first (ties: first seen first)."""
    words = [_norm(w) for w in _WORD.findall(text) if w not in _STOP]
    counts = Counter(w for w in words if w not in _STOP)
    first_seen = {w: i for i, w in reversed(list(enumerate(words)))}
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))[:n]]
