"""Two Ray nodes on one machine (head on 127.0.0.2, a worker node on 127.0.0.3, both under the loopback
shim) on a PRIVATE cluster, never the session stack's: autoscaling of the JpegConverter under load, and
Serve recovering when the worker node is SIGKILLed mid-load, with Temporal activities as the callers (the
same kill with plain handle callers is ``bench/serve_autoscale.py --scenario failover``).

The scenarios run in a driver process of their own (``bench/serve_autoscale.py --driver``, under the
shim too), so this pytest process's Ray state (the session stack's driver) is left alone.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from cluster.ray_nodes import PrivateCluster, off_loopback
from icop.offline import apply_offline_env
from icop.settings import Settings

apply_offline_env()

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKER_IP = "127.0.0.3"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("serve_autoscale", ROOT / "bench" / "serve_autoscale.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    pc = PrivateCluster(num_cpus=2)  # the head has room to replace a replica lost with the worker
    try:
        pc.start()
        pc.add_worker(WORKER_IP, num_cpus=1)
        yield pc
    finally:
        pc.close()


def test_nodes_listen_on_loopback_only(cluster: PrivateCluster) -> None:
    pids = cluster.pids()
    assert len(pids) >= 6  # gcs, raylets, agents, Serve controller and proxies, ...
    assert off_loopback(pids) == []


def test_autoscaling_under_load(cluster: PrivateCluster, tmp_path: Path) -> None:
    r = bench().run_driver(cluster, ["--scenario", "autoscale", "--load-s", "25", "--clients", "24",
                                     "--side", "512", "--upscale-delay", "0.5", "--downscale-delay", "4",
                                     "--down-timeout", "40"], timeout=240)  # fmt: skip
    out = tmp_path / "serve-autoscale.json"
    out.write_text(json.dumps(r, indent=1))
    print(f"autoscale figures: {out}\n" + json.dumps({k: v for k, v in r.items() if k != "samples"}))
    assert r["replicas_before"] == 1
    assert 2 <= r["replicas_decided_peak"] <= 3  # the autoscaler asked for more, within max_replicas
    assert r["replicas_peak"] >= 2  # ... and they ran
    assert r["replicas_after"] == 1 and r["back_to_min_s_after_load"] is not None
    assert r["errors"] == 0 and r["calls"] > 50
    assert r["throughput_img_s"] > 0 and r["p99_ms"] > 0
    assert any(w["replicas"] and w["replicas"] >= 2 for w in r["timeline"])


def test_worker_node_killed_under_temporal_activities_loses_none(
    cluster: PrivateCluster, settings: Settings
) -> None:
    """The worker node is SIGKILLed under load, with real Temporal activities as the callers: each activity
    makes one Serve call; the ones the kill broke fail and Temporal's retry policy runs them again; all
    complete, and Serve replaces the lost replica on the head."""
    worker_ip = WORKER_IP
    sids = f"{cluster.head_sid},{cluster.workers[worker_ip]}"
    # 16 callers and 2048² images keep the worker's replica busy when it is killed: with 8 and 1024² a quiet
    # machine once had no call in flight on it at that instant, and nothing to retry.
    r = bench().run_driver(cluster, ["--scenario", "failover", "--temporal", settings.temporal_target,
                                     "--sids", sids, "--kill-after", "3", "--clients", "16", "--side", "2048",
                                     "--activities", "200", "--max-attempts", "20", "--call-timeout", "20",
                                     "--rejoin-timeout", "60"],
                           timeout=300)  # fmt: skip
    print("failover under Temporal: " + json.dumps(r))
    assert r["placement_before"] == {"127.0.0.2": 1, worker_ip: 1}  # spread across both nodes
    assert r["sockets_off_loopback"] == []  # both nodes' processes and the driver, replicas deployed
    assert r["activities"] == r["activities_completed"] == 200  # none lost
    assert r["failed_executions"] >= 1 and r["retried_activities"] >= 1  # the kill broke running calls
    assert r["activity_executions"] == 200 + r["failed_executions"]  # each failure retried exactly once more
    assert r["placement_after"] == {"127.0.0.2": 2}
