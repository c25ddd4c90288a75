"""Planning that learns what performs: which candidate sub-topics to keep, from the engagement of the
tenant's past posts on sub-topics near them.

Each candidate's evidence is its nearest past sub-topics (cosine from the model's calibrated ``neighbour``
floor up) whose articles' posts reported impressions, with their engagement rate (engagement /
impressions over the sub-topic's posts). A neighbour counts by its similarity times a time decay (its
weight halves every ``half_life_days``); the candidate's score is the weighted mean rate, shrunk toward the
tenant's own mean by ``prior_weight`` so that one lucky post does not outrank a well-tried angle.

Of the ``want`` slots, ``explore_share`` go to new angles: candidates without a close neighbour, in an order
drawn from a seed (the run and row), else the least covered. The rest go to the best scores. A slot one
side cannot fill goes to the other. Pure functions; ``SubtopicPlanner`` reads the evidence (SQL in
``repository``) and stores each choice on its sub-topic, which the dashboard words as "chosen because similar
posts averaged …".
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from icop.settings import Settings

SIMILAR_SHOWN = 3  # past sub-topics named in a choice's explanation

Mode = Literal["exploit", "explore"]


@dataclass(frozen=True)
class LearningSettings:
    """How the planner learns (platform settings; the switch and the exploration share are per pipeline)."""

    half_life_days: float = 30.0
    """A past post's weight halves every this many days (older engagement says less)."""
    neighbours: int = 10
    """The nearest past sub-topics read per candidate."""
    candidate_factor: float = 2.0
    """The clusterer is asked for this many times the wanted sub-topics, so that there is a choice."""
    prior_weight: float = 1.0
    """The weight of the tenant's mean rate in every score (a candidate needs evidence to stand out)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LearningSettings:
        return cls(settings.learn_half_life_days, settings.learn_neighbours, settings.learn_candidate_factor)


@dataclass(frozen=True)
class Neighbour:
    """A past sub-topic near a candidate, with what its posts did."""

    label: str
    similarity: float
    engagement_rate: float  # engagement / impressions over its posts
    age_days: float  # since its latest post was published
    posts: int


@dataclass(frozen=True)
class Evidence:
    """What the tenant's past says about one candidate: its neighbours, closest first."""

    neighbours: list[Neighbour] = field(default_factory=list)

    def weights(self, half_life_days: float) -> list[float]:
        return [
            max(n.similarity, 0.0) * 0.5 ** (max(n.age_days, 0.0) / max(half_life_days, 1e-9))
            for n in self.neighbours
        ]

    def coverage(self, half_life_days: float) -> float:
        """How much the tenant has tried near this candidate (0: a new angle)."""
        return sum(self.weights(half_life_days))

    def average_rate(self, half_life_days: float) -> float | None:
        """The neighbours' engagement rate, weighted by similarity and recency; None without neighbours."""
        w = self.weights(half_life_days)
        total = sum(w)
        if total <= 0:
            return None
        return sum(wi * n.engagement_rate for wi, n in zip(w, self.neighbours, strict=True)) / total

    def score(self, prior_rate: float, s: LearningSettings) -> float:
        w = self.weights(s.half_life_days)
        num = sum(wi * n.engagement_rate for wi, n in zip(w, self.neighbours, strict=True))
        return (num + s.prior_weight * prior_rate) / (sum(w) + s.prior_weight)


@dataclass(frozen=True)
class Pick:
    """A chosen candidate (its index in the list given) and why, as stored on its sub-topic."""

    index: int
    mode: Mode
    evidence: Evidence
    half_life_days: float

    def choice(self) -> dict[str, Any]:
        """``{"mode", "neighbours", "avg_engagement_rate", "similar": [{"label", "engagement_rate"}]}``."""
        rate = self.evidence.average_rate(self.half_life_days)
        return {
            "mode": self.mode,
            "neighbours": len(self.evidence.neighbours),
            "avg_engagement_rate": round(rate, 6) if rate is not None else None,
            "similar": [
                {"label": n.label, "engagement_rate": round(n.engagement_rate, 6)}
                for n in self.evidence.neighbours[:SIMILAR_SHOWN]
            ],
        }


def seed_for(*parts: object) -> int:
    """A stable seed from what identifies a planning call (e.g. tenant, run, row): a retried row draws the
    same new angles."""
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def explore_slots(want: int, explore_share: float, rng: random.Random) -> int:
    """``want × explore_share`` slots for new angles; a fraction is one more slot with that probability
    (one slot at 0.3 explores three rows in ten)."""
    x = round(want * min(max(explore_share, 0.0), 1.0), 6)  # a `real` column's 0.3 is 0.30000001…
    n = math.floor(x)
    if rng.random() < x - n:
        n += 1
    return min(n, want)


def choose(
    evidence: Sequence[Evidence], want: int, explore_share: float, *, seed: int, prior_rate: float,
    settings: LearningSettings | None = None,
) -> list[Pick]:  # fmt: skip
    """``want`` candidates (at most all): the best scores, and ``explore_share`` of the slots for new angles.

    ``evidence`` is per candidate, in the clusterer's order (largest first), which breaks ties."""
    s = settings or LearningSettings()
    rng = random.Random(seed)
    want = min(want, len(evidence))
    n_explore = explore_slots(want, explore_share, rng)
    tried = [i for i, e in enumerate(evidence) if e.neighbours]
    new = [i for i, e in enumerate(evidence) if not e.neighbours]
    rng.shuffle(new)
    # New angles in the drawn order, then the least covered (the clusterer's order among equals).
    explore_order = new + sorted(tried, key=lambda i: evidence[i].coverage(s.half_life_days))
    best_order = sorted(tried, key=lambda i: -evidence[i].score(prior_rate, s))

    picked: dict[int, Mode] = {}
    for i in explore_order:
        if sum(1 for m in picked.values() if m == "explore") >= n_explore:
            break
        picked[i] = "explore"
    for i in best_order:
        if len(picked) >= want:
            break
        picked.setdefault(i, "exploit")
    for i in explore_order:  # too few tried angles: the rest are new ones
        if len(picked) >= want:
            break
        picked.setdefault(i, "explore")
    ordered = [i for i in best_order if picked.get(i) == "exploit"]
    ordered += [i for i in explore_order if picked.get(i) == "explore"]
    return [Pick(i, picked[i], evidence[i], s.half_life_days) for i in ordered]
