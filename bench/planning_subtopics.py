"""Sub-topics from 300, 1,000 and 5,000 candidates through the TopicClusterer Serve deployment.

For each size: wall time of one request (model already warm), the replica's peak RSS, and the quality of
the chosen sub-topics against the naive baseline on the same candidates — the first N candidates, which is
what a plain "give me N sub-topics" prompt returns:
- theme coverage: distinct themes among the N chosen / themes present;
- duplicate rate: chosen sub-topics whose theme an earlier one already had / N.

    .venv/bin/python bench/planning_subtopics.py [--sizes 300,1000,5000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages

from cluster.eval_themes import wide_candidates as themed_candidates  # noqa: E402
from cluster.eval_themes import wide_themes  # noqa: E402

THEMES = wide_themes()


def quality(chosen_themes: list[str], total: int) -> tuple[float, float]:
    distinct = len(set(chosen_themes))
    return distinct / total, (len(chosen_themes) - distinct) / max(1, len(chosen_themes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="300,1000,5000")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from icop.offline import apply_offline_env

    apply_offline_env(sync_handles=True)  # sync `.result()` calls
    import ray
    from ray import serve

    from deployments.topics import SubtopicRequest, build_topics_app
    from icop.settings import Settings

    state = Path(tempfile.mkdtemp(prefix="icop-pb-", dir="/tmp"))
    ray.init(address="local", include_dashboard=False, num_cpus=2, _node_ip_address="127.0.0.2",
             _temp_dir=str(state / "ray"), log_to_driver=False)  # fmt: skip
    serve.start(proxy_location="Disabled")
    t0 = time.perf_counter()
    handle = serve.run(build_topics_app(Settings(state_dir=state)), name="topics-bench", route_prefix=None)
    print(f"deployment ready (model loaded, BERTopic warmed) in {time.perf_counter() - t0:.1f}s")
    want = len(THEMES)
    rows = []
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            docs, themes = themed_candidates(n)
            load = os.getloadavg()
            t = time.perf_counter()
            reply = handle.subtopics.remote(SubtopicRequest("home coffee", "en", docs, want)).result(
                timeout_s=600
            )
            seconds = time.perf_counter() - t
            stats = handle.stats.remote().result()
            chosen = reply.subtopics[:want]
            chosen_themes = [themes[docs.index(d["examples"][0])] for d in chosen]
            cov, dup = quality(chosen_themes, len(THEMES))
            ncov, ndup = quality(themes[:want], len(THEMES))
            row = {"candidates": len(docs), "seconds": round(seconds, 2),
                   "peak_rss_mib": stats["peak_rss_mib"], "subtopics": len(chosen),
                   "coverage": round(cov, 2), "duplicate_rate": round(dup, 2),
                   "naive_coverage": round(ncov, 2), "naive_duplicate_rate": round(ndup, 2)}  # fmt: skip
            rows.append(row)
            print(json.dumps(row))
            if len(docs) == 5000:
                from bench.results import record

                record("planning_5000_candidates_s", row["seconds"], "< 60", "s", load=load,
                       coverage=row["coverage"], duplicate_rate=row["duplicate_rate"])  # fmt: skip
    finally:
        serve.shutdown()
        ray.shutdown()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
