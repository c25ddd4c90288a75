"""Labelled candidate sets for judging sub-topic clustering, shared by the planning tests and benchmark.

The sets are data (``examples/eval/themes.json``): subjects per theme and the framings that turn a subject
into a candidate title. ``candidates`` and ``wide_candidates`` draw from them with a seed, shuffled the
way a model's "many angles" answer interleaves themes, and return the theme of each candidate.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

THEMES_FILE = Path(__file__).resolve().parent.parent / "examples" / "eval" / "themes.json"


@cache
def _sets() -> dict[str, Any]:
    sets: dict[str, Any] = json.loads(THEMES_FILE.read_text(encoding="utf-8"))
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
