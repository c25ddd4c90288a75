"""Korean, mixed and English plans through the TopicClusterer, per embedding model, against the naive
first-N; cross-language dedup; the time to embed and cluster 1,000 candidates.

For each labelled set (examples/eval: Korean, mixed Korean+English, English narrow and wide) and each
model, the chosen sub-topics are scored (``cluster.eval_themes.plan_quality``, mean of three draws):
- theme coverage: distinct themes among the N chosen (each counted as its majority theme) / themes;
- purity: share of a sub-topic's candidates from its majority theme, averaged over the chosen;
- duplicate rate: chosen sub-topics whose theme an earlier one already had / N.
The naive baseline takes the first N candidates as the sub-topics (what a plain "give me N sub-topics"
prompt returns). Cross-language: six Korean sub-topics are "stored"; an English plan of ten themes (six of
them the same) is checked against them the way the planner does (``cross_language_twins``): the share of
the six twins caught, and of the four new themes wrongly taken for twins.

Figures go to bench/results.json (records of the same name replaced) with the load average: on a shared
machine the times are not the quiet machine's.

    .venv/bin/python bench/planning_korean.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages

from cluster.eval_themes import (  # noqa: E402
    PlanQuality,
    candidates,
    korean_candidates,
    korean_wide_candidates,
    mixed_candidates,
    plan_quality,
    wide_candidates,
)
from icop.embeddings import EmbeddingChoice, calibration_for  # noqa: E402
from icop.planning.clustering import TopicClusterer  # noqa: E402
from icop.planning.service import cross_language_twins  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
COMMAND = "python bench/planning_korean.py"
SEEDS = (3, 5, 8)
Sets = dict[str, Callable[[int], tuple[list[str], list[str]]]]


def mean_quality(core: TopicClusterer, make: Callable[[int], tuple[list[str], list[str]]]) -> PlanQuality:
    scores = []
    for seed in SEEDS:
        docs, themes = make(seed)
        want = len(set(themes))
        results = core.subtopics("t", "ko", docs, want)[:want]
        q = plan_quality([r.members for r in results], themes)
        scores.append((q.coverage, q.purity, q.duplicate_rate))
    return PlanQuality(*(float(x) for x in np.mean(scores, axis=0)))


def naive_quality(make: Callable[[int], tuple[list[str], list[str]]]) -> PlanQuality:
    scores = []
    for seed in SEEDS:
        _, themes = make(seed)
        want = len(set(themes))
        q = plan_quality([[i] for i in range(want)], themes)
        scores.append((q.coverage, q.purity, q.duplicate_rate))
    return PlanQuality(*(float(x) for x in np.mean(scores, axis=0)))


def cross_language(core: TopicClusterer) -> tuple[float, float]:
    """(twins caught, new themes wrongly caught) for an English plan checked against a Korean one."""
    ko_docs, ko_themes = korean_candidates(12, seed=1)
    en_docs, en_themes = wide_candidates(240, seed=2)
    ko = core.subtopics("t", "ko", ko_docs, 6)[:6]
    en = core.subtopics("t", "en", en_docs, 10)[:10]
    cal = calibration_for(core.model_id)
    floor = cal.cross_language_duplicate if cal.cross_language_duplicate is not None else 2.0
    twins = cross_language_twins(
        np.array([r.embedding for r in en]), np.array([r.embedding for r in ko]), floor
    )
    stored = {plan_theme(r.members, ko_themes) for r in ko}
    caught = [plan_theme(en[i].members, en_themes) for i in twins]
    shared = [plan_theme(r.members, en_themes) for r in en if plan_theme(r.members, en_themes) in stored]
    new = [r for r in en if plan_theme(r.members, en_themes) not in stored]
    return (
        sum(t in stored for t in caught) / max(1, len(shared)),
        sum(t not in stored for t in caught) / max(1, len(new)),
    )


def plan_theme(members: list[int], themes: list[str]) -> str:
    from collections import Counter

    return Counter(themes[i] for i in members).most_common(1)[0][0]


def timed_1000(core: TopicClusterer) -> float:
    docs, _ = korean_wide_candidates(1000)
    t = time.perf_counter()
    proposal = core.propose(docs, 6, core.embed(docs))
    core.finalize(proposal, [""] * len(proposal.clusters))  # labels: the keywords (no LLM in the timing)
    return time.perf_counter() - t


def record(name: str, value: float, goal: str, unit: str = "") -> dict[str, object]:
    return {"name": name, "value": round(value, 3), "goal": goal, "unit": unit, "command": COMMAND,
            "date": dt.date.today().isoformat(), "load": round(os.getloadavg()[0], 2)}  # fmt: skip


def merge(records: list[dict[str, object]]) -> None:
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    names = {r["name"] for r in records}
    RESULTS.write_text(json.dumps([r for r in old if r["name"] not in names] + records, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/results.json")
    args = ap.parse_args()
    choice = EmbeddingChoice()
    cores = {m: TopicClusterer(choice.embedder(m)) for m in ("e5-small", "minilm")}
    sets: Sets = {
        "korean": lambda s: korean_candidates(24, seed=s),
        "mixed": lambda s: mixed_candidates(24, seed=s),
        "english": lambda s: candidates(24, seed=s),
        "english_wide": lambda s: wide_candidates(300, seed=s),
    }
    q = {(k, m): mean_quality(core, make) for k, make in sets.items() for m, core in cores.items()}
    naive = {k: naive_quality(make) for k, make in sets.items()}
    for (k, m), v in [*q.items(), *(((k, "first-N"), v) for k, v in naive.items())]:
        print(f"{k:13s} {m:9s} coverage {v.coverage:.2f} purity {v.purity:.2f} dup {v.duplicate_rate:.2f}")
    caught, wrong = cross_language(cores["e5-small"])
    print(f"cross-language (e5): twins caught {caught:.2f}, new themes taken for twins {wrong:.2f}")
    # what ``auto`` gives each row: e5 for Korean and mixed rows, MiniLM for English rows
    auto = {k: q[(k, choice.model("en" if k.startswith("english") else "ko"))] for k in sets}
    english_vs_minilm = min(auto[k].coverage - q[(k, "minilm")].coverage for k in ("english", "english_wide"))
    seconds = timed_1000(cores["e5-small"])
    print(
        f"1,000 Korean candidates embedded and clustered (e5): {seconds:.1f} s, load {os.getloadavg()[0]:.1f}"
    )
    records = [
        record("korean_coverage", auto["korean"].coverage, ">= 0.9"),
        record("korean_purity", auto["korean"].purity, ">= 0.85"),
        record("korean_duplicate_rate", auto["korean"].duplicate_rate, "0"),
        record("korean_coverage_minilm", q[("korean", "minilm")].coverage, "reference"),
        record("korean_coverage_naive", naive["korean"].coverage, "reference"),
        record("mixed_coverage", auto["mixed"].coverage, ">= 0.9"),
        record("mixed_purity", auto["mixed"].purity, ">= 0.85"),
        record("mixed_coverage_minilm", q[("mixed", "minilm")].coverage, "reference"),
        record("mixed_coverage_naive", naive["mixed"].coverage, "reference"),
        record("english_coverage_vs_minilm", english_vs_minilm, ">= 0"),
        record("english_wide_coverage_e5", q[("english_wide", "e5-small")].coverage, "reference"),
        record("cross_language_twins_caught", caught, "1.0"),
        record("cross_language_false_twins", wrong, "0"),
        record("planning_1000_candidates_s", seconds, "< 20", "s"),
    ]  # fmt: skip
    if not args.no_write:
        merge(records)
        print(f"wrote {len(records)} records to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
