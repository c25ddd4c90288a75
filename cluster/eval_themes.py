"""Labelled candidate sets for judging sub-topic clustering, shared by the planning tests and benchmarks.

The sets are data (``examples/eval/themes.json``, English; ``examples/eval/korean.json``, Korean, mixed and
the Korean-English pairs, the brand-voice queries): subjects per theme and the framings that turn a subject
into a candidate title. ``candidates``, ``wide_candidates``, ``korean_candidates``, ``mixed_candidates`` and
``domain_candidates`` draw from them with a seed, shuffled the way a model's "many angles" answer
interleaves themes, and return the theme of each candidate; ``plan_quality`` scores chosen sub-topics.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

THEMES_FILE = Path(__file__).resolve().parent.parent / "examples" / "eval" / "themes.json"
KOREAN_FILE = THEMES_FILE.with_name("korean.json")


@cache
def _sets() -> dict[str, Any]:
    sets: dict[str, Any] = json.loads(THEMES_FILE.read_text(encoding="utf-8"))
    return sets


@cache
def _korean() -> dict[str, Any]:
    sets: dict[str, Any] = json.loads(KOREAN_FILE.read_text(encoding="utf-8"))
    return sets


def narrow_themes() -> dict[str, list[str]]:
    """Six distinct themes of home coffee, four subjects each."""
    return dict(_sets()["narrow"]["themes"])


def wide_themes() -> dict[str, list[str]]:
    """Ten themes of one hobby whose candidates share framings and audiences (the harder set)."""
    return dict(_sets()["wide"]["themes"])


def candidates(
    per_theme: int, seed: int = 7, themes: dict[str, list[str]] | None = None
) -> tuple[list[str], list[str]]:
    """``per_theme`` candidates of each theme (default: the narrow set), shuffled; and the theme of each."""
    rng = random.Random(seed)
    frames: list[str] = _sets()["narrow"]["frames"]
    out: list[tuple[str, str]] = []
    for theme, subjects in (themes or narrow_themes()).items():
        combos = [(f, s) for f in frames for s in subjects]
        rng.shuffle(combos)
        out += [(frame.format(subject), theme) for frame, subject in combos[:per_theme]]
    rng.shuffle(out)
    return [c for c, _ in out], [t for _, t in out]


def wide_candidates(n: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """About ``n`` candidates of the wide set, shuffled; and the theme of each."""
    rng = random.Random(seed)
    wide = _sets()["wide"]
    per = n // len(wide["themes"])
    out: list[tuple[str, str]] = []
    for theme, subjects in wide["themes"].items():
        combos = [(f, s, a) for f in wide["frames"] for s in subjects for a in wide["audiences"]]
        rng.shuffle(combos)
        out += [(f.format(s) + a, theme) for f, s, a in combos[:per]]
    rng.shuffle(out)
    return [c for c, _ in out], [t for _, t in out]


def _framed(
    rng: random.Random, themes: dict[str, list[str]], frames: list[str], per_theme: int
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for theme, subjects in themes.items():
        combos = [(f, s) for f in frames for s in subjects]
        rng.shuffle(combos)
        out += [(frame.format(subject), theme) for frame, subject in combos[:per_theme]]
    return out


def _split(out: list[tuple[str, str]], rng: random.Random) -> tuple[list[str], list[str]]:
    rng.shuffle(out)
    return [c for c, _ in out], [t for _, t in out]


def korean_themes() -> dict[str, list[str]]:
    """The narrow set's six home-coffee themes, in Korean."""
    return dict(_korean()["korean"]["themes"])


def korean_candidates(per_theme: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """``per_theme`` Korean candidates of each Korean theme, shuffled; and the theme of each."""
    rng = random.Random(seed)
    ko = _korean()["korean"]
    return _split(_framed(rng, ko["themes"], ko["frames"], per_theme), rng)


def korean_wide_candidates(n: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """About ``n`` Korean candidates (frames × subjects × audiences, for sizes up to ≈ 3,400), shuffled;
    and the theme of each."""
    rng = random.Random(seed)
    ko = _korean()["korean"]
    per = n // len(ko["themes"])
    out: list[tuple[str, str]] = []
    for theme, subjects in ko["themes"].items():
        combos = [(f, s, a) for f in ko["frames"] for s in subjects for a in ko["audiences"]]
        rng.shuffle(combos)
        out += [(f.format(s) + a, theme) for f, s, a in combos[:per]]
    return _split(out, rng)


def mixed_candidates(per_theme: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """A plan answered in both languages: per theme, about ``korean_share`` of the candidates in Korean and
    the rest in English (the narrow themes); shuffled, with the theme of each."""
    rng = random.Random(seed)
    ko = _korean()["korean"]
    n_ko = round(per_theme * float(_korean()["mixed"]["korean_share"]))
    out = _framed(rng, ko["themes"], ko["frames"], n_ko)
    out += _framed(rng, narrow_themes(), _sets()["narrow"]["frames"], per_theme - n_ko)
    return _split(out, rng)


def domain_candidates(per_theme: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """Korean candidates of four themes from unrelated fields (the Korean frames), shuffled; and themes."""
    rng = random.Random(seed)
    return _split(_framed(rng, _korean()["domains"]["themes"], _korean()["korean"]["frames"], per_theme), rng)


def korean_english_pairs() -> list[tuple[str, str, str]]:
    """(Korean title, the same title in English, theme) for every frame and subject of the narrow set:
    the Korean frames and subjects translate the English ones in order."""
    ko, en = _korean()["korean"], _sets()["narrow"]
    out = []
    for theme, ko_subjects in ko["themes"].items():
        for ko_frame, en_frame in zip(ko["frames"], en["frames"], strict=True):
            for ko_s, en_s in zip(ko_subjects, en["themes"][theme], strict=True):
                out.append((ko_frame.format(ko_s), en_frame.format(en_s), theme))
    return out


def brand_voice_set() -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """Sample texts by name, and (topic, language, the sample it should find or None) queries."""
    bv = _korean()["brand_voice"]
    return dict(bv["samples"]), [(q["topic"], q["language"], q["finds"]) for q in bv["queries"]]


@dataclass(frozen=True)
class PlanQuality:
    """How well chosen sub-topics cover a labelled candidate set.

    Attributes:
        coverage: distinct themes among the chosen sub-topics (each counted as its majority theme) /
            themes in the set.
        purity: mean over the chosen sub-topics of the share of their candidates from their majority theme.
        duplicate_rate: chosen sub-topics whose majority theme an earlier one already had / chosen.
    """

    coverage: float
    purity: float
    duplicate_rate: float


def plan_quality(members: Sequence[Sequence[int]], themes: Sequence[str]) -> PlanQuality:
    """Quality of sub-topics given as their candidates' indices into ``themes`` (the theme of each
    candidate); the naive first-N baseline is N one-candidate sub-topics."""
    majority = []
    purities = []
    for m in members:
        counts = Counter(themes[i] for i in m)
        theme, n = counts.most_common(1)[0] if counts else ("", 0)
        majority.append(theme)
        purities.append(n / max(1, len(m)))
    distinct = len(set(majority) - {""})
    return PlanQuality(
        coverage=distinct / max(1, len(set(themes))),
        purity=sum(purities) / max(1, len(purities)),
        duplicate_rate=(len(majority) - distinct) / max(1, len(majority)),
    )
