"""Images per second: the Ray Serve JpegConverter against plain Pillow loops, same inputs, same run.

Every contender does the same work per image: read the PNG from a local-directory store by key,
convert it (``StoredJpegConverter``: decode, flatten, encode q90), write the JPEG under its content
address. Each measurement uses a fresh tenant id, so every output is really written.

Contenders, on the same machine and cores (a private local Ray with ``num_cpus=2`` stays up for all):
- ``plain-1``: one Python loop in this process (one core; the STACK.md baseline);
- ``plain-2``: two worker processes (``multiprocessing``), i.e. the best plain use of two cores;
- ``serve-batched``: one ``convert`` call per key, merged on the replica by ``@serve.batch``;
- ``serve-grouped``: ``convert_many`` calls of ``--per-call`` keys (an article's images in one call).
Both Serve apps run ``--replicas`` replicas at ``--num-cpus`` each; keys go in, stored keys come out.
Besides images/s, each contender's images per CPU-second of the whole process tree (this process, its
pool workers and every Ray process) is reported: on a shared machine it is the steadier figure.

    .venv/bin/python bench/jpeg_convert.py --n 64 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from icop.offline import apply_offline_env  # noqa: E402 - after sys.path.insert

apply_offline_env(sync_handles=True)  # each timed Serve round runs in its own `asyncio.run` loop

from PIL import Image  # noqa: E402 - after apply_offline_env

from icop.images.service import ConvertJob, StoredJpegConverter  # noqa: E402 - after apply_offline_env
from icop.storage import LocalDirStore  # noqa: E402 - after apply_offline_env

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

SIZES = {"1024x1024": (1024, 1024), "1792x1024": (1792, 1024)}


def make_png(size: tuple[int, int], seed: int) -> bytes:
    """Photo-like content: smooth gradients plus grain (so PNG decoding costs what real images cost)."""
    import io

    w, h = size
    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size).rotate(seed * 37 % 360),
        Image.linear_gradient("L").rotate(90).resize(size),
    ))  # fmt: skip
    noise = Image.merge("RGB", [Image.effect_noise(size, 40 + (seed + i) % 20) for i in range(3)])
    im = Image.blend(base, noise, 0.25)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def tree_cpu_s() -> float:
    """CPU seconds used so far by this process and all its descendants (pool workers, Ray's processes)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def measured(fn, *args):
    """(images/s, images per CPU-second of the whole process tree) for one contender's run."""
    c0 = tree_cpu_s()
    rate = fn(*args)
    n = len(args[-1])
    return rate, n / max(tree_cpu_s() - c0, 1e-9)


# -- plain loops --------------------------------------------------------------------------------------

_worker_core: StoredJpegConverter | None = None


def _init_worker(root: str) -> None:
    global _worker_core
    _worker_core = StoredJpegConverter(LocalDirStore(root))


def _convert_one(args: tuple[str, str]) -> bool:
    tenant, key = args
    assert _worker_core is not None
    return _worker_core.run(ConvertJob(tenant, source_key=key)).ok


def plain_loop(root: str, keys: list[str]) -> float:
    core = StoredJpegConverter(LocalDirStore(root))
    tenant = uuid.uuid4().hex
    t0 = time.perf_counter()
    for key in keys:
        assert core.run(ConvertJob(tenant, source_key=key)).ok
    return len(keys) / (time.perf_counter() - t0)


def plain_pool(pool: mp.pool.Pool, keys: list[str]) -> float:
    tenant = uuid.uuid4().hex
    t0 = time.perf_counter()
    assert all(pool.map(_convert_one, [(tenant, k) for k in keys], chunksize=2))
    return len(keys) / (time.perf_counter() - t0)


# -- Ray Serve ----------------------------------------------------------------------------------------


async def serve_run(handle: DeploymentHandle[Any], keys: list[str], per_call: int = 1) -> float:
    """All keys in flight at once: one ``convert`` call per image (Serve batches them on the replica), or
    with ``per_call`` > 1 the caller's own groups through ``convert_many``."""
    from deployments.jpeg import JpegRequest

    tenant = uuid.uuid4().hex
    t0 = time.perf_counter()
    if per_call == 1:
        h = handle.options(method_name="convert")
        outcomes = await asyncio.gather(*(h.remote(JpegRequest(tenant, source_key=k)) for k in keys))
    else:
        h = handle.options(method_name="convert_many")
        groups = [keys[i : i + per_call] for i in range(0, len(keys), per_call)]
        lists = await asyncio.gather(
            *(h.remote([JpegRequest(tenant, source_key=k) for k in g]) for g in groups)
        )
        outcomes = [o for group in lists for o in group]
    elapsed = time.perf_counter() - t0
    assert len(outcomes) == len(keys) and all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:1]
    return len(keys) / elapsed


def start_serve(state: Path, root: str, args: argparse.Namespace) -> dict[str, DeploymentHandle[Any]]:
    """A private local Ray (2 CPUs, loopback) with two converter apps, each ``--replicas`` replicas:

    - ``batched``: per-image ``convert`` calls merged by ``@serve.batch`` (``--batch`` images), two batches
      in flight per replica;
    - ``grouped``: ``convert_many`` with the caller's groups of ``--per-call`` keys, at most
      ``--grouped-ongoing`` groups per replica (so the router spreads them).
    """
    import ray
    from ray import serve

    from deployments.jpeg import build_jpeg_app
    from icop.settings import Settings

    ray.init(address="local", include_dashboard=False, num_cpus=2, _node_ip_address="127.0.0.2",
             _temp_dir=str(state / "ray"), log_to_driver=False)  # fmt: skip
    serve.start(proxy_location="Disabled")
    settings = Settings(storage_backend="local", storage_dir=Path(root))
    # the benchmark's own replica count and CPU share, on top of the Serve config's entry (stated)
    fixed = {"num_replicas": args.replicas, "ray_actor_options": {"num_cpus": args.num_cpus}}
    batched = build_jpeg_app(
        settings, max_batch_size=args.batch, batch_wait_timeout_s=args.batch_wait, overrides=fixed
    )
    grouped = build_jpeg_app(
        settings, max_batch_size=args.batch, batch_wait_timeout_s=args.batch_wait,
        overrides={**fixed, "max_ongoing_requests": args.grouped_ongoing},
    )  # fmt: skip
    return {
        "batched": serve.run(batched, name="jpeg-bench-batched", route_prefix=None),
        "grouped": serve.run(grouped, name="jpeg-bench-grouped", route_prefix=None),
    }


def main() -> None:
    from cluster.loopback import bind_driver_to_loopback

    # This process starts a local Ray and is its driver: like every driver of ours, under the loopback
    # bind shim (re-executes once), so neither it nor the Ray processes it starts listen off loopback.
    bind_driver_to_loopback("127.0.0.2", Path(__file__).resolve().parents[1] / ".icop" / "lib", sys.argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64, help="images per size and measurement")
    ap.add_argument("--rounds", type=int, default=3, help="measurements per contender (median reported)")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--num-cpus", type=float, default=0.5, help="Ray CPUs per replica (both apps fit in 2)")
    ap.add_argument("--batch", type=int, default=4, help="@serve.batch max_batch_size")
    ap.add_argument("--batch-wait", type=float, default=0.005)
    ap.add_argument("--per-call", type=int, default=4, help="keys per convert_many call (grouped app)")
    ap.add_argument("--grouped-ongoing", type=int, default=2, help="max_ongoing_requests of the grouped app")
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    load = os.getloadavg()
    state = Path(tempfile.mkdtemp(prefix="icop-jb-", dir="/tmp"))  # short: Ray's socket paths are limited
    root = str(state / "objects")
    store = LocalDirStore(root)
    results: dict[str, dict[str, float]] = {}
    pool = None
    try:
        inputs: dict[str, list[str]] = {}
        for name in args.sizes.split(","):
            keys = []
            for i in range(args.n):
                key = f"bench/inputs/{name}/{i}.png"
                store.put(key, make_png(SIZES[name], i), "image/png")
                keys.append(key)
            inputs[name] = keys
            mean_kb = statistics.mean(os.path.getsize(store.path_for(k)) for k in keys) / 1024
            print(f"{name}: {args.n} PNG inputs, mean {mean_kb:.0f} KiB", flush=True)

        t0 = time.perf_counter()
        handles = start_serve(state, root, args)
        print(f"Ray + Serve app up in {time.perf_counter() - t0:.1f} s", flush=True)
        pool = mp.get_context("spawn").Pool(2, initializer=_init_worker, initargs=(root,))

        for name, keys in inputs.items():
            warm = keys[: min(8, len(keys))]
            contenders = {
                "plain-1": lambda ks: plain_loop(root, ks),
                "plain-2": lambda ks: plain_pool(pool, ks),
                "serve-batched": lambda ks: asyncio.run(serve_run(handles["batched"], ks)),
                "serve-grouped": lambda ks: asyncio.run(serve_run(handles["grouped"], ks, args.per_call)),
            }
            for fn in contenders.values():
                fn(warm)
            runs: dict[str, list[float]] = {k: [] for k in contenders}
            per_cpu: dict[str, list[float]] = {k: [] for k in contenders}
            for _ in range(args.rounds):  # interleaved, so that background load hits all contenders alike
                for label, fn in contenders.items():
                    rate, eff = measured(fn, keys)
                    runs[label].append(rate)
                    per_cpu[label].append(eff)
            med = {f"{k} img/s": statistics.median(v) for k, v in runs.items()}
            med.update({f"{k} img/cpu-s": statistics.median(v) for k, v in per_cpu.items()})
            for mode in ("serve-batched", "serve-grouped"):
                for base in ("plain-1", "plain-2"):
                    med[f"{mode}/{base}"] = med[f"{mode} img/s"] / med[f"{base} img/s"]
                med[f"cpu-efficiency {mode}/plain-1"] = med[f"{mode} img/cpu-s"] / med["plain-1 img/cpu-s"]
            results[name] = med
            rounds = json.dumps({k: [round(x, 1) for x in v] for k, v in runs.items()})
            print(f"{name} medians:\n" + "\n".join(f"   {k:38s} {v:7.2f}" for k, v in med.items())
                  + "\n   all rounds (img/s): " + rounds, flush=True)  # fmt: skip
    finally:
        if pool is not None:
            pool.terminate()
        try:
            import ray
            from ray import serve

            if ray.is_initialized():
                serve.shutdown()
                ray.shutdown()
        finally:
            shutil.rmtree(state, ignore_errors=True)

    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count(),
            "loadavg_after": os.getloadavg(), "args": {k: str(v) for k, v in vars(args).items()}}  # fmt: skip
    print(json.dumps({"results": results, "meta": meta}, indent=2))
    from bench.results import record

    for name, med in results.items():
        best = max(("serve-batched", "serve-grouped"), key=lambda m: med[f"{m}/plain-2"])
        record(f"jpeg_serve_over_plain2_{name.split('x')[0]}", round(med[f"{best}/plain-2"], 3), ">= 0.8",
               "ratio", load=load, mode=best, serve_img_s=round(med[f"{best} img/s"], 1),
               plain2_img_s=round(med["plain-2 img/s"], 1), size=name)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"results": results, "meta": meta}, indent=2))


if __name__ == "__main__":
    main()
