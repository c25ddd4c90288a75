"""Ray cluster figures for the JpegConverter (CPU bound): autoscaling under load, one node vs two nodes.

Scenarios (each on a private Ray cluster of its own, on loopback, unless ``--address`` names one):

- ``autoscale``: the ``jpeg`` application of ``cluster/serve_config.yaml`` deployed through Serve's
  config path (``ServeDeploySchema`` → ``deployments.apps:jpeg_app``), autoscaling min 1 / max 3, on a
  head (1 CPU) + a worker node on 127.0.0.3 (1 CPU). Idle → ``--clients`` closed-loop callers for
  ``--load-s`` seconds → idle until back at min_replicas. Replicas are sampled every 0.5 s; throughput
  and latency (p50/p99) per 2-second window and per phase.
- ``nodes``: fixed 2 replicas at ``num_cpus=1``: one node with 2 CPUs against two nodes with 1 CPU each
  (same total, the placement forced by the resources); images/s over ``--rounds`` rounds.

    .venv/bin/python bench/serve_autoscale.py --json /tmp/serve-autoscale.json
    .venv/bin/python bench/serve_autoscale.py --scenario autoscale --load-s 15 --clients 24

The JSON holds every sample (``timeline``), so the figures can be redrawn.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio import workflow  # noqa: E402 - after sys.path.insert
from temporalio.common import RetryPolicy  # noqa: E402 - after sys.path.insert

from icop.offline import apply_offline_env  # noqa: E402 - after sys.path.insert

apply_offline_env(sync_handles=True)  # handles called from threads and successive `asyncio.run` loops

APP = "jpeg"
DEPLOYMENT = "JpegConverterDeployment"


def make_png(size: tuple[int, int], seed: int) -> bytes:
    """Photo-like content (gradients plus grain), so decoding costs what real images cost."""
    from PIL import Image

    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size).rotate(seed * 37 % 360),
        Image.linear_gradient("L").rotate(90).resize(size),
    ))  # fmt: skip
    noise = Image.merge("RGB", [Image.effect_noise(size, 40 + (seed + i) % 20) for i in range(3)])
    buf = io.BytesIO()
    Image.blend(base, noise, 0.25).save(buf, "PNG")
    return buf.getvalue()


def put_inputs(objects: Path, n: int, side: int) -> list[str]:
    from icop.storage import LocalDirStore

    store = LocalDirStore(objects)
    keys = []
    for i in range(n):
        key = f"bench/inputs/{side}/{i}.png"
        if not store.path_for(key).exists():
            store.put(key, make_png((side, side), i), "image/png")
        keys.append(key)
    return keys


# -- deploying ---------------------------------------------------------------------------------------


def config_app(objects: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """The product's JPEG converter (the ``JpegConverterDeployment`` entry of the ``images`` application in
    cluster/serve_config.yaml: its resources and autoscaling bounds) deployed as an application of its own,
    ``APP``, so a scenario loads and kills it alone; storage pointed at ``objects`` through the replicas'
    environment, autoscaling fields replaced by ``overrides`` (shorter delays for a bench)."""
    import yaml

    cfg = yaml.safe_load((ROOT / "cluster" / "serve_config.yaml").read_text())
    (images,) = [a for a in cfg["applications"] if a["name"] == "images"]
    (dep,) = [d for d in images["deployments"] if d["name"] == DEPLOYMENT]
    dep["autoscaling_config"].update(overrides)
    return {
        "name": APP,
        "route_prefix": None,
        "import_path": "deployments.apps:jpeg_app",
        "args": dict(images["args"].get("jpeg", {})),
        "runtime_env": {"env_vars": {"ICOP_STORAGE_BACKEND": "local", "ICOP_STORAGE_DIR": str(objects)}},
        "deployments": [dep],
    }


def fixed_replicas_app(objects: Path, cpus: float, max_batch_size: int, replicas: int = 2) -> dict[str, Any]:
    """The config's jpeg application with a fixed number of replicas (no autoscaling) of ``cpus`` each."""
    app = config_app(objects, {})
    dep = app["deployments"][0]
    dep["autoscaling_config"] = None  # explicitly: the builder's options (the config's entry) autoscale
    dep["num_replicas"] = replicas
    dep["ray_actor_options"]["num_cpus"] = cpus
    app["args"] = {"max_batch_size": max_batch_size}
    return app


def wait_free_cpus(cpus: float, timeout: float = 60) -> None:
    """Wait until replicas of an earlier scenario have released their CPUs (deletion is asynchronous)."""
    import ray

    deadline = time.monotonic() + timeout
    while ray.available_resources().get("CPU", 0.0) < cpus - 1e-6:
        if time.monotonic() > deadline:
            raise TimeoutError(f"CPUs still taken after {timeout} s: {ray.available_resources()}")
        time.sleep(0.5)


def deploy_config(apps: list[dict[str, Any]], timeout: float = 120) -> None:
    """Deploy through Serve's config path (what ``serve deploy``/``serve run config.yaml`` do)."""
    import ray
    from ray import serve
    from ray.serve.context import _get_global_client
    from ray.serve.schema import ServeDeploySchema

    serve.start()
    wait_free_cpus(ray.cluster_resources().get("CPU", 0.0))
    _get_global_client().deploy_apps(ServeDeploySchema.model_validate({"applications": apps}))  # type: ignore[union-attr]  # raises, not None, with no controller
    wait_running([a["name"] for a in apps], timeout)


def wait_running(names: list[str], timeout: float) -> None:
    from ray import serve

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = serve.status().applications
        if all(n in st and st[n].status == "RUNNING" for n in names):
            return
        bad = [(n, st[n].status, st[n].message) for n in names if n in st and st[n].status == "DEPLOY_FAILED"]
        if bad:
            raise RuntimeError(f"deploy failed: {bad}")
        time.sleep(0.5)
    raise TimeoutError(f"apps {names} not RUNNING after {timeout} s: {serve.status().applications}")


def replica_counts(app: str = APP, deployment: str = DEPLOYMENT) -> tuple[int, int]:
    """(running, all: running + starting + ...) replicas of a deployment, from Serve's status."""
    from ray import serve

    st = serve.status().applications.get(app)
    if not st or deployment not in st.deployments:
        return 0, 0
    states = st.deployments[deployment].replica_states
    running = states.get("RUNNING", 0)  # type: ignore[call-overload]  # ReplicaState is a str enum
    return int(running), int(sum(v for k, v in states.items() if k != "STOPPING"))


def running_replicas(app: str = APP, deployment: str = DEPLOYMENT) -> int:
    return replica_counts(app, deployment)[0]


# -- load ----------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.calls: list[tuple[float, float, bool]] = []  # (end time, latency s, ok)
        self.samples: list[tuple[float, int, dict[str, int], int]] = []  # (t, running, per node, all)

    def now(self) -> float:
        return time.monotonic() - self.t0


async def closed_loop(handle: Any, keys: list[str], clients: int, seconds: float, rec: Recorder) -> None:
    """``clients`` callers, each issuing its next call when the previous one returns."""
    from deployments.jpeg import JpegRequest

    conv = handle.options(method_name="convert")
    tenant = uuid.uuid4().hex
    stop = time.monotonic() + seconds

    async def one(i: int) -> None:
        j = i
        while time.monotonic() < stop:
            t = time.monotonic()
            try:
                out = await conv.remote(JpegRequest(tenant, source_key=keys[j % len(keys)]))
                ok = bool(out.ok)
            except Exception:  # noqa: BLE001 - a failed call is a data point here
                ok = False
            rec.calls.append((rec.now(), time.monotonic() - t, ok))
            j += clients

    await asyncio.gather(*(one(i) for i in range(clients)))


def sampler(rec: Recorder, stop: threading.Event, interval: float = 0.5) -> threading.Thread:
    from cluster.ray_nodes import replica_nodes

    def run() -> None:
        while not stop.is_set():
            try:
                running, total = replica_counts()
                rec.samples.append((rec.now(), running, replica_nodes(APP, DEPLOYMENT), total))
            except Exception:  # noqa: BLE001 - a missed sample is fine
                pass
            stop.wait(interval)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def windows(rec: Recorder, width: float = 2.0) -> list[dict[str, Any]]:
    out = []
    end = max([c[0] for c in rec.calls] + [s[0] for s in rec.samples] + [0.0])
    t = 0.0
    while t < end:
        calls = [c for c in rec.calls if t <= c[0] < t + width]
        reps = [s[1] for s in rec.samples if t <= s[0] < t + width]
        decided = [s[3] for s in rec.samples if t <= s[0] < t + width]
        lat = [c[1] * 1000 for c in calls if c[2]]
        out.append({"t": round(t, 1), "replicas": max(reps) if reps else None,
                    "decided": max(decided) if decided else None, "img_s": round(len(lat) / width, 2),
                    "errors": sum(1 for c in calls if not c[2]),
                    "p50_ms": round(pct(lat, 0.5), 1) if lat else None,
                    "p99_ms": round(pct(lat, 0.99), 1) if lat else None})  # fmt: skip
        t += width
    return out


def scenario_autoscale(args: argparse.Namespace, objects: Path) -> dict[str, Any]:
    from ray import serve

    overrides = {"min_replicas": 1, "initial_replicas": 1, "max_replicas": 3,
                 "target_ongoing_requests": args.target, "upscale_delay_s": args.upscale_delay,
                 "downscale_delay_s": args.downscale_delay, "metrics_interval_s": 0.5,
                 "look_back_period_s": 2.0}  # fmt: skip
    keys = put_inputs(objects, 32, args.side)
    t0 = time.monotonic()
    deploy_config([config_app(objects, overrides)])
    deploy_s = time.monotonic() - t0
    handle = serve.get_app_handle(APP)
    asyncio.run(closed_loop(handle, keys[:4], 2, 2.0, Recorder()))  # warm-up (imports, first batch)

    rec = Recorder()
    stop = threading.Event()
    th = sampler(rec, stop)
    time.sleep(args.idle_s)
    load_start = rec.now()
    asyncio.run(closed_loop(handle, keys, args.clients, args.load_s, rec))
    load_end = rec.now()
    deadline = time.monotonic() + args.down_timeout
    while time.monotonic() < deadline and running_replicas() > 1:
        time.sleep(0.5)
    time.sleep(1.0)
    stop.set()
    th.join(5)
    down_at = next((s[0] for s in rec.samples if s[0] > load_end and s[1] == 1), None)
    in_load = [c for c in rec.calls if c[2]]
    steady = [c for c in in_load if c[0] >= load_start + args.load_s / 2]
    replicas = [s[1] for s in rec.samples]
    result = {
        "deploy_s": round(deploy_s, 1),
        "config": overrides
        | {"clients": args.clients, "load_s": args.load_s, "image": f"{args.side}x{args.side}"},
        "replicas_before": replicas[0] if replicas else None,
        "replicas_peak": max(replicas) if replicas else None,
        "replicas_after": replicas[-1] if replicas else None,
        "replicas_decided_peak": max((s[3] for s in rec.samples), default=None),
        "first_scale_decision_s": next((round(s[0] - load_start, 1) for s in rec.samples if s[3] > 1), None),
        "first_scale_up_s": next((round(s[0] - load_start, 1) for s in rec.samples if s[1] > 1), None),
        "back_to_min_s_after_load": round(down_at - load_end, 1) if down_at is not None else None,
        "peak_nodes": max((len(s[2]) for s in rec.samples), default=0),
        "calls": len(rec.calls),
        "errors": sum(1 for c in rec.calls if not c[2]),
        "throughput_img_s": round(len(in_load) / max(load_end - load_start, 1e-9), 2),
        "throughput_second_half_img_s": round(len(steady) / (args.load_s / 2), 2),
        "p50_ms": round(pct([c[1] * 1000 for c in in_load], 0.5), 1),
        "p99_ms": round(pct([c[1] * 1000 for c in in_load], 0.99), 1),
        "timeline": windows(rec),
        "load_window_s": [round(load_start, 1), round(load_end, 1)],
        "samples": [(round(t, 2), n, nodes, total) for t, n, nodes, total in rec.samples],
    }
    serve.delete(APP)
    return result


def scenario_nodes_one(args: argparse.Namespace, objects: Path, label: str) -> dict[str, Any]:
    """Images/s with 2 fixed replicas at num_cpus=1 on whatever cluster this driver is connected to."""
    from ray import serve

    from cluster.ray_nodes import replica_nodes

    keys = put_inputs(objects, 32, args.side)
    deploy_config([fixed_replicas_app(objects, cpus=1, max_batch_size=8)])
    handle = serve.get_app_handle(APP)
    asyncio.run(closed_loop(handle, keys[:8], 4, 3.0, Recorder()))  # warm-up
    placement = replica_nodes(APP, DEPLOYMENT)
    rates = []
    for _ in range(args.rounds):
        rec = Recorder()
        asyncio.run(closed_loop(handle, keys, args.clients, args.round_s, rec))
        ok = [c for c in rec.calls if c[2]]
        rates.append(len(ok) / args.round_s)
    serve.delete(APP)
    return {"label": label, "placement": placement, "img_s_rounds": [round(r, 2) for r in rates],
            "img_s_median": round(statistics.median(rates), 2)}  # fmt: skip


def scenario_failover(args: argparse.Namespace, objects: Path) -> dict[str, Any]:
    """Two replicas at 0.6 CPU on a head with 2 CPUs and a worker node with 1 (Serve spreads them); the
    worker node is SIGKILLed mid-load; callers retry failed calls (as a Temporal activity's retry policy
    would); Serve replaces the lost replica on the head, where there is room."""
    from ray import serve

    from cluster.ray_nodes import kill_node, node_pids, off_loopback, replica_nodes
    from deployments.jpeg import JpegRequest

    keys = put_inputs(objects, 16, args.side)
    app = fixed_replicas_app(objects, cpus=0.6, max_batch_size=4)
    t0 = time.monotonic()
    deploy_config([app])
    deploy_s = time.monotonic() - t0
    placement_before = replica_nodes(APP, DEPLOYMENT)
    sids = [int(x) for x in args.sids.split(",")]
    pids = [pid for sid in sids for pid in node_pids(sid)] + [os.getpid()]
    sockets_off_loopback = off_loopback(pids)
    handle = serve.get_app_handle(APP).options(method_name="convert")

    rec = Recorder()
    attempts: list[tuple[float, bool, str]] = []  # (time, ok, error type)
    logical: list[tuple[float, float, int, bool]] = []  # (start, latency, attempts, ok)
    tenant = uuid.uuid4().hex
    kill_at: list[float] = []

    async def call(key: str) -> None:
        start = rec.now()
        for n in range(1, args.max_attempts + 1):
            try:
                req = JpegRequest(tenant, source_key=key)
                out = await asyncio.wait_for(handle.remote(req), args.call_timeout)
                attempts.append((rec.now(), bool(out.ok), ""))
                if out.ok:
                    logical.append((start, rec.now() - start, n, True))
                    return
            except Exception as e:  # noqa: BLE001 - the caller's retry policy
                attempts.append((rec.now(), False, type(e).__name__))
            await asyncio.sleep(min(0.25 * 2 ** (n - 1), 2.0))
        logical.append((start, rec.now() - start, args.max_attempts, False))

    async def load() -> None:
        stop = time.monotonic() + args.load_s
        sem = asyncio.Semaphore(args.clients)
        tasks = []
        i = 0
        while time.monotonic() < stop:
            await sem.acquire()
            task = asyncio.create_task(call(keys[i % len(keys)]))
            task.add_done_callback(lambda _t: sem.release())
            tasks.append(task)
            i += 1
            if not kill_at and rec.now() >= args.kill_after:
                kill_at.append(rec.now())  # in a thread, not awaited: the callers keep going
                threading.Thread(target=kill_node, args=(sids[1],), daemon=True).start()
        await asyncio.gather(*tasks)

    zero = time.monotonic() - rec.now()
    asyncio.run(load())
    k = kill_at[0] if kill_at else float("nan")
    failed_after_kill = [a for a in attempts if a[0] >= k and not a[1]]
    last_fail = max((a[0] for a in failed_after_kill), default=k)
    after = [c for c in logical if c[0] >= k]
    # Serve's own recovery: the lost replica is replaced (on the head, where 2 x 0.6 CPU fit).
    deadline = time.monotonic() + args.rejoin_timeout
    while time.monotonic() < deadline and (
        running_replicas() < 2 or sum(replica_nodes(APP, DEPLOYMENT).values()) < 2
    ):
        time.sleep(0.5)
    replaced_s = time.monotonic() - (zero + k)
    placement_after = replica_nodes(APP, DEPLOYMENT)
    last = JpegRequest(tenant, source_key=keys[0])
    ok_after = asyncio.run(asyncio.wait_for(handle.remote(last), 60)).ok
    serve.delete(APP)
    return {
        "deploy_s": round(deploy_s, 1),
        "placement_before": placement_before,
        "sockets_off_loopback": sockets_off_loopback,
        "kill_at_s": round(k, 2),
        "logical_calls": len(logical),
        "logical_failed": sum(1 for c in logical if not c[3]),
        "attempts": len(attempts),
        "failed_attempts_after_kill": len(failed_after_kill),
        "error_types": sorted({a[2] for a in failed_after_kill if a[2]}),
        "retried_calls": sum(1 for c in logical if c[2] > 1),
        "recovered_s": round(last_fail - k, 2),
        "calls_after_kill": len(after),
        "max_call_latency_after_kill_s": round(max((c[1] for c in after), default=0.0), 2),
        "replica_replaced_s_after_kill": round(replaced_s, 1),
        "placement_after": placement_after,
        "ok_after_replacement": ok_after,
    }


@dataclass
class JpegBatchInput:
    keys: list[str]
    max_attempts: int


@workflow.defn(name="JpegBatch", sandboxed=False)
class JpegBatch:
    """One activity per image, all at once (the worker's slots bound the concurrency), each retried by
    Temporal's retry policy."""

    @workflow.run
    async def run(self, inp: JpegBatchInput) -> list[int]:
        policy = RetryPolicy(
            initial_interval=timedelta(seconds=0.25),
            maximum_interval=timedelta(seconds=2),
            maximum_attempts=inp.max_attempts,
        )
        timeout = timedelta(seconds=30)
        calls = [
            workflow.execute_activity(
                "serve_jpeg", k, start_to_close_timeout=timeout, retry_policy=policy, result_type=int
            )
            for k in inp.keys
        ]
        return list(await asyncio.gather(*calls))


def scenario_failover_temporal(args: argparse.Namespace, objects: Path) -> dict[str, Any]:
    """The failover scenario with Temporal as the caller: one workflow runs one activity per image
    (each activity makes exactly one Serve call; a failed call fails the activity and Temporal's retry
    policy runs it again), the worker node is SIGKILLed mid-run, and every activity must complete."""
    from ray import serve
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.worker import Worker

    from cluster.ray_nodes import kill_node, node_pids, off_loopback, replica_nodes
    from deployments.jpeg import JpegRequest

    keys = put_inputs(objects, 16, args.side)
    app = fixed_replicas_app(objects, cpus=0.6, max_batch_size=4)
    deploy_config([app])
    placement_before = replica_nodes(APP, DEPLOYMENT)
    sids = [int(x) for x in args.sids.split(",")]
    # both nodes' processes and this driver, with the replicas deployed
    sockets_off_loopback = off_loopback([pid for sid in sids for pid in node_pids(sid)] + [os.getpid()])
    handle = serve.get_app_handle(APP).options(method_name="convert")
    tenant = uuid.uuid4().hex
    attempts: list[tuple[int, bool, str]] = []  # (attempt, ok, error type) of every activity execution

    @activity.defn(name="serve_jpeg")
    async def serve_jpeg(key: str) -> int:
        n = activity.info().attempt
        try:
            req = JpegRequest(tenant, source_key=key)
            out = await asyncio.wait_for(handle.remote(req), args.call_timeout)
        except Exception as e:
            attempts.append((n, False, type(e).__name__))
            raise
        attempts.append((n, bool(out.ok), ""))
        if not out.ok:
            raise RuntimeError(f"conversion failed: {out.error_message}")
        return n

    async def run() -> tuple[list[int], float]:
        client = await Client.connect(args.temporal)
        queue = f"serve-failover-{uuid.uuid4().hex[:8]}"
        batch = [keys[i % len(keys)] for i in range(args.activities)]
        async with Worker(client, task_queue=queue, workflows=[JpegBatch], activities=[serve_jpeg],
                          max_concurrent_activities=args.clients):  # fmt: skip
            t0 = time.monotonic()
            inp = JpegBatchInput(batch, args.max_attempts)
            handle_wf = await client.start_workflow(JpegBatch.run, inp, id=queue, task_queue=queue)
            killer = threading.Timer(args.kill_after, kill_node, args=(sids[1],))
            killer.start()
            result = await handle_wf.result()
            return result, time.monotonic() - t0

    results, seconds = asyncio.run(run())
    deadline = time.monotonic() + args.rejoin_timeout
    while time.monotonic() < deadline and sum(replica_nodes(APP, DEPLOYMENT).values()) < 2:
        time.sleep(0.5)
    placement_after = replica_nodes(APP, DEPLOYMENT)
    serve.delete(APP)
    return {
        "placement_before": placement_before,
        "sockets_off_loopback": sockets_off_loopback,
        "activities": len(results),
        "activities_completed": sum(1 for n in results if n >= 1),
        "activity_executions": len(attempts),
        "failed_executions": sum(1 for a in attempts if not a[1]),
        "error_types": sorted({a[2] for a in attempts if a[2]}),
        "retried_activities": sum(1 for n in results if n > 1),
        "max_attempt": max(results, default=0),
        "seconds": round(seconds, 1),
        "placement_after": placement_after,
    }


# -- driver process / cluster orchestration ------------------------------------------------------------


def connect(address: str, node_ip: str) -> None:
    import ray

    ray.init(address=address, _node_ip_address=node_ip, log_to_driver=False)


def wait_nodes(n: int, timeout: float = 60) -> None:
    import ray

    deadline = time.monotonic() + timeout
    while sum(1 for x in ray.nodes() if x["Alive"]) < n:
        if time.monotonic() > deadline:
            seen = [(x["NodeManagerAddress"], x["Alive"]) for x in ray.nodes()]
            raise TimeoutError(f"expected {n} live Ray nodes, saw {seen}")
        time.sleep(0.5)


def driver_main(args: argparse.Namespace) -> None:
    """Runs inside the cluster's environment (shim on, ICOP_BIND_IP = head alias) and prints JSON."""
    connect(args.address, args.node_ip)
    wait_nodes(args.expect_nodes)
    objects = Path(args.objects)
    if args.scenario == "autoscale":
        out = scenario_autoscale(args, objects)
    elif args.scenario == "failover" and args.temporal:
        out = scenario_failover_temporal(args, objects)
    elif args.scenario == "failover":
        out = scenario_failover(args, objects)
    else:
        out = scenario_nodes_one(args, objects, args.label)
    print("RESULT " + json.dumps(out), flush=True)


def run_driver(pc: Any, extra: list[str], timeout: float = 600) -> dict[str, Any]:
    """Run this file as a driver of ``pc`` (a PrivateCluster) in its own process, under the shim."""
    from cluster.ray_head import ray_env

    extra = [*extra, "--expect-nodes", str(1 + len(pc.workers))]
    env = ray_env(pc.settings, pc.state)
    argv = [sys.executable, str(Path(__file__).resolve()), "--driver", "--address", pc.settings.ray_target,
            "--node-ip", pc.settings.ray_node_ip, "--objects", str(pc.settings.storage_dir),
            "--state", str(pc.state), *extra]  # fmt: skip
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"driver failed (rc {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def passthrough(args: argparse.Namespace) -> list[str]:
    keys = ["clients", "load_s", "idle_s", "target", "upscale_delay", "downscale_delay", "down_timeout",
            "side",
            "rounds", "round_s", "kill_after", "max_attempts", "call_timeout", "rejoin_timeout"]  # fmt: skip
    out = []
    for k in keys:
        out += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=["all", "autoscale", "nodes", "failover"], default="all")
    ap.add_argument("--clients", type=int, default=24, help="closed-loop callers under load")
    ap.add_argument("--load-s", type=float, default=20.0)
    ap.add_argument("--idle-s", type=float, default=2.0, help="idle before the load")
    ap.add_argument("--target", type=float, default=4.0, help="target_ongoing_requests per replica")
    ap.add_argument("--upscale-delay", type=float, default=1.0)
    ap.add_argument("--downscale-delay", type=float, default=5.0)
    ap.add_argument("--down-timeout", type=float, default=45.0, help="most seconds to wait for min_replicas")
    ap.add_argument("--side", type=int, default=1024, help="input PNGs are side x side")
    ap.add_argument("--rounds", type=int, default=3, help="nodes scenario: rounds per cluster shape")
    ap.add_argument("--round-s", type=float, default=10.0)
    ap.add_argument("--kill-after", type=float, default=4.0, help="failover: seconds into the load")
    ap.add_argument("--max-attempts", type=int, default=8, help="failover: attempts per call (retry policy)")
    ap.add_argument("--call-timeout", type=float, default=20.0, help="failover: seconds per attempt")
    ap.add_argument(
        "--rejoin-timeout",
        type=float,
        default=90.0,
        help="failover: most seconds to wait for the replacement replica",
    )
    ap.add_argument(
        "--temporal",
        default="",
        help="failover: a Temporal server (host:port); the calls are "
        "then activities of one workflow, retried by Temporal's retry policy",
    )
    ap.add_argument("--activities", type=int, default=96, help="failover with --temporal: activities")
    ap.add_argument("--json", type=Path)
    # internal: run as the driver inside a cluster
    ap.add_argument("--driver", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--address", help=argparse.SUPPRESS)
    ap.add_argument("--node-ip", help=argparse.SUPPRESS)
    ap.add_argument("--objects", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    ap.add_argument("--state", help=argparse.SUPPRESS)
    ap.add_argument("--sids", default="", help=argparse.SUPPRESS)
    ap.add_argument("--expect-nodes", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.driver:
        driver_main(args)
        return

    from cluster.ray_nodes import PrivateCluster

    results: dict[str, Any] = {}
    common = passthrough(args)
    if args.scenario in ("all", "autoscale"):
        with PrivateCluster(num_cpus=1) as pc:
            pc.add_worker("127.0.0.3", num_cpus=1)
            results["autoscale"] = run_driver(pc, ["--scenario", "autoscale", *common])
        summary = {k: v for k, v in results["autoscale"].items() if k != "samples"}
        print(json.dumps(summary, indent=1), flush=True)
    if args.scenario in ("all", "nodes"):
        shapes = []
        for label, head_cpus, workers in (("1 node x 2 CPUs", 2, 0), ("2 nodes x 1 CPU", 1, 1)):
            for attempt in (1, 2):  # a worker raylet has crashed at start on an overloaded machine
                try:
                    with PrivateCluster(num_cpus=head_cpus) as pc:
                        for w in range(workers):
                            pc.add_worker(f"127.0.0.{3 + w}", num_cpus=1)
                        shapes.append(run_driver(pc, ["--scenario", "nodes", "--label", label, *common]))
                    break
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    print(f"{label}: attempt {attempt} failed: {str(e)[-600:]}", flush=True)
                    if attempt == 2:
                        raise
            print(json.dumps(shapes[-1]), flush=True)
        ratio = shapes[1]["img_s_median"] / shapes[0]["img_s_median"]
        results["nodes"] = {"shapes": shapes, "two_over_one": round(ratio, 3)}
        print(json.dumps(results["nodes"], indent=1), flush=True)
    results["meta"] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_after": os.getloadavg(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
