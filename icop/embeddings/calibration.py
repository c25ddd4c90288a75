"""Thresholds that depend on a model's cosine spread, stored with the model id they were measured on.

MiniLM spreads unrelated titles over 0–0.5 cosine; multilingual-e5 packs everything into ≈ 0.75–0.95, so a
threshold tuned on one means nothing on the other. The figures come from the labelled sets in
``examples/eval`` (``bench/calibrate_embeddings.py`` prints them, with the distributions they were chosen
from); an unknown model id has no calibration and is refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    """Per-model thresholds.

    Attributes:
        near_duplicate: cosine above which two sub-topics (centroids of their candidates) are one; used
            within a plan and against the tenant's stored sub-topics.
        theme_merge: cosine between cluster centroids, on embeddings centred on their plan's mean, above
            which two clusters are one theme split by HDBSCAN.
        brand_voice_max_distance: cosine distance above which a brand-voice sample says nothing about a
            sub-topic.
        cross_language_duplicate: the least cosine at which a new sub-topic and a stored one in another
            language, paired one to one with the others (the closest pairs first), are one sub-topic; None
            for a model whose languages cannot be compared.
        neighbour: the least cosine at which a past sub-topic (centroid) says something about a candidate
            sub-topic's engagement: planning that learns scores a candidate by the past ones from here up,
            and a candidate with none is a new angle.
    """

    near_duplicate: float
    theme_merge: float
    brand_voice_max_distance: float
    cross_language_duplicate: float | None = None
    neighbour: float = 0.5


# neighbour, measured on the narrow sets (a sub-topic: the centroid of one subject's twelve framed titles):
# MiniLM puts two subjects of one theme at 0.33-0.89 (mean 0.64), of two themes at 0.08-0.50 (mean 0.26);
# e5-small (Korean set) at 0.15-0.81 (mean 0.49) against -0.08-0.60 (mean 0.15, 90th percentile 0.23).
CALIBRATIONS: dict[str, Calibration] = {
    # Tuned by hand on MiniLM before the labelled sets existed; the sets confirm them (docs/BENCHMARKS.md).
    "all-MiniLM-L6-v2": Calibration(
        near_duplicate=0.85, theme_merge=0.6, brand_voice_max_distance=0.9, neighbour=0.5
    ),
    "multilingual-e5-small-q4/centred-v1": Calibration(
        near_duplicate=0.76,
        theme_merge=0.45,
        brand_voice_max_distance=0.88,
        cross_language_duplicate=0.2,
        neighbour=0.35,
    ),
}


def calibration_for(model_id: str) -> Calibration:
    """The thresholds measured for ``model_id``."""
    try:
        return CALIBRATIONS[model_id]
    except KeyError:
        raise ValueError(
            f"no thresholds are calibrated for embedding model {model_id!r}; calibrate it on the labelled "
            "sets (bench/calibrate_embeddings.py) and add it to icop/embeddings/calibration.py"
        ) from None
