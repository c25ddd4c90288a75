"""The writer stage through Ray Serve: three Writers (GPT, Claude, Gemini) called at once per article, as
the article graph calls them, against the slowest writer's own latency.

A private stack (Ray with the Serve Writer applications of cluster/serve_config.yaml, the emulators)
answers every LLM call after ``--llm-ms``; ``--articles`` stages run with ``--in-flight`` of them at once
(the Serve config lets 64 calls per provider run together: up to two replicas of 32). The stage time of one
article is from the moment its three calls are sent to the moment the last answer is back; the figure is
its median over the slowest writer's latency (1.0 would be no overhead at all). Measured alone, then as
a burst at ``--in-flight`` that starts on one replica per Writer (the autoscaler adds the second during
it), then at the same load once scaled (a back-fill's steady state): that last figure is written to
bench/results.json as ``writer_stage_over_slowest``, with the other two beside it.

    .venv/bin/python bench/writers.py --llm-ms 4000 --articles 64 --in-flight 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from icop.offline import apply_offline_env  # noqa: E402 - after sys.path.insert

apply_offline_env(sync_handles=True)  # the handles serve successive event loops (asyncio.run per measurement)


async def stages(writers: dict[str, Any], n: int, in_flight: int) -> list[float]:
    from graphs.article.writers import WriteRequest

    gate = asyncio.Semaphore(in_flight)

    async def one(i: int) -> float:
        async with gate:
            request = WriteRequest(f"Stage {i}: brewing coffee at home", "en")
            t0 = time.perf_counter()
            await asyncio.gather(*(call(request) for call in writers.values()))
            return time.perf_counter() - t0

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def running_replicas() -> dict[str, int]:
    """Running replicas of each Writer, as Serve reports them."""
    from ray import serve

    return {
        app: sum(
            n
            for d in status.deployments.values()
            for state, n in d.replica_states.items()
            if str(getattr(state, "value", state)) == "RUNNING"
        )
        for app, status in serve.status().applications.items()
        if app.startswith("writer-")
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm-ms", type=float, default=4000.0)
    ap.add_argument("--articles", type=int, default=64)
    ap.add_argument("--in-flight", type=int, default=16)
    args = ap.parse_args()

    from bench.backfill import start_stack, stop_stack
    from bench.results import record
    from cluster.serve_apps import connect
    from deployments.writers import deploy_writers, writer_call
    from emulators.client import EmulatorAdmin
    from icop.settings import load_settings

    load = os.getloadavg()
    state = Path(tempfile.mkdtemp(prefix="icop-bench-writers-", dir="/tmp"))
    os.chmod(state, 0o755)
    stack = start_stack(state, with_ray=True, database=False)
    try:
        settings = load_settings(state)
        connect(settings)
        handles = deploy_writers(None)
        writers = {name: writer_call(h) for name, h in handles.items()}
        admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
        admin.reset()
        latency = args.llm_ms / 1000
        for service in writers:
            admin.knobs(service, replace=True, latency_ms=args.llm_ms)
        asyncio.run(stages(writers, 3, 3))  # warm: the replicas' first calls, the handles' routers
        out = {}
        # One alone; then a burst at --in-flight from one replica per Writer (the autoscaler adds the
        # second while it runs); then the same load again once scaled: a back-fill's steady state.
        for name, in_flight in (("single", 1), ("burst", args.in_flight), ("steady", args.in_flight)):
            times = asyncio.run(stages(writers, args.articles if in_flight > 1 else 8, in_flight))
            ratio = statistics.median(times) / latency
            p95 = sorted(times)[int(0.95 * (len(times) - 1))] / latency
            out[name] = (ratio, p95)
            print(f"{name}, in flight {in_flight}: stage / slowest writer = {ratio:.3f} (p95 {p95:.3f}); "
                  f"replicas {running_replicas()}", flush=True)  # fmt: skip
        ratio, p95 = out["steady"]
        burst = round(out["burst"][0], 3)
        record("writer_stage_over_slowest", round(ratio, 3), "<= 1.1", "ratio", load=load,
               p95=round(p95, 3), in_flight=args.in_flight, llm_ms=args.llm_ms,
               single=round(out["single"][0], 3), burst_from_one_replica=burst)  # fmt: skip
    finally:
        stop_stack(stack)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
