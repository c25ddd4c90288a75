"""More Ray nodes on one machine: a worker node as its own process tree on another loopback alias.

A worker node joins a head (``settings.ray_target``) from ``127.0.0.3``, ``127.0.0.4`` …, with its own
ports, socket names and the same LD_PRELOAD shim as the head (``ray_env(..., node_ip=ip)``), so its
wildcard binds land on its own alias. :class:`PrivateCluster` is a head plus workers on private ports
and a private state folder, for tests and benchmarks that must not touch the developer's stack.

    with PrivateCluster(num_cpus=1) as pc:
        sid = pc.add_worker("127.0.0.3", num_cpus=1)
        ...  # a driver: ray.init(address=pc.settings.ray_target, _node_ip_address="127.0.0.2")
        kill_node(sid)           # SIGKILL, as a machine failure
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from icop.settings import Settings

from .ports import free_port, free_span, private_port_settings
from .processes import StackError, session_members, stop_session
from .ray_head import STOP_GRACE_S, RayComponent, ray_env, start_ray_node


def start_worker_node(settings: Settings, ip: str, num_cpus: int, *, state: Path | None = None,
                      object_store_mb: int = 256, timeout: float = 60.0) -> int:  # fmt: skip
    """Start a Ray worker node on loopback alias ``ip`` that joins ``settings.ray_target``; its session id.

    Every port is explicit (a second node on the same machine must not collide with the head), the
    raylet and object-store sockets live in the node's own folder, and the process runs under the
    loopback shim with ``ICOP_BIND_IP=ip``.
    """
    from .stack import venv_bin

    root = (state or settings.state_path) / f"node-{ip}"
    root.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to 107 bytes: keep Ray's temp dir short.
    sockets = Path(tempfile.mkdtemp(prefix=f"icop-n{ip.rsplit('.', 1)[-1]}-", dir="/tmp"))
    base = free_span(60)
    node_manager_port = free_port()
    env = ray_env(settings, root, node_ip=ip)
    argv = [
        venv_bin("ray"), "start", "--block", f"--address={settings.ray_target}",
        f"--node-ip-address={ip}", f"--num-cpus={num_cpus}", "--num-gpus=0",
        "--disable-usage-stats", f"--object-store-memory={object_store_mb * 2**20}",
        f"--node-manager-port={node_manager_port}", f"--object-manager-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
        f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
        f"--min-worker-port={base}", f"--max-worker-port={base + 59}",
        f"--temp-dir={sockets}",  # its own session folder: raylet and plasma sockets apart from the head's
    ]  # fmt: skip
    try:
        proc = start_ray_node(argv, root / "ray.log", env, timeout)
    except StackError as e:
        shutil.rmtree(sockets, ignore_errors=True)
        raise StackError(f"Ray worker node {ip}: {e}") from e
    # One record per start (a node may be restarted): whoever owns the state folder can stop and clean up.
    (root / f"sockets.{proc.pid}").write_text(str(sockets))
    (root / f"sid.{proc.pid}").write_text(str(proc.pid))
    return proc.pid


def kill_node(sid: int) -> None:
    """SIGKILL every process of a node at once (a machine failure: no graceful drain)."""
    import psutil

    procs = session_members(sid)
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=10)


def node_pids(sid: int) -> list[int]:
    return [p.pid for p in session_members(sid)]


def private_settings(state: Path, num_cpus: int, node_ip: str = "127.0.0.2") -> Settings:
    """Settings for a private Ray head: private ports (``cluster.ports``), state in ``state``.

    ``bind_host`` is the wildcard on purpose: it is only used for Serve's HTTP proxies, which run on
    every node (``EveryNode``) at the same port; under the shim each node's proxy binds its own alias
    (127.0.0.2:P on the head, 127.0.0.3:P on a worker) instead of colliding on 127.0.0.1:P. The
    multi-node test checks that nothing ends up off loopback.
    """
    values: dict[str, Any] = {
        **private_port_settings(), "state_dir": state, "ray_node_ip": node_ip, "ray_num_cpus": num_cpus,
        "bind_host": "0.0.0.0", "storage_backend": "local", "storage_dir": state / "objects",
    }  # fmt: skip
    return Settings(**values)


class PrivateCluster:
    """A Ray head (``RayComponent``, with Serve) plus worker nodes, all on private ports; ``close`` stops
    exactly these process trees and removes the state folder."""

    def __init__(self, num_cpus: int, state: Path | None = None) -> None:
        self.state = state or Path(tempfile.mkdtemp(prefix="icop-pc-", dir="/tmp"))
        self.settings = private_settings(self.state, num_cpus)
        self.head = RayComponent(self.settings)
        self.head_sid: int | None = None
        self.workers: dict[str, int] = {}

    def start(self) -> PrivateCluster:
        self.head_sid = self.head.start()
        return self

    def add_worker(self, ip: str, num_cpus: int) -> int:
        sid = start_worker_node(self.settings, ip, num_cpus, state=self.state)
        self.workers[ip] = sid
        return sid

    def pids(self) -> list[int]:
        sids = [s for s in [self.head_sid, *self.workers.values()] if s]
        return [pid for s in sids for pid in node_pids(s)]

    def close(self) -> None:
        # Every worker node started under this state folder (also by a driver process), not only ours.
        sids = set(self.workers.values())
        for sid_file in self.state.glob("node-*/sid.*"):
            sids.add(int(sid_file.read_text()))
        for sid in sids:
            if session_members(sid):
                stop_session(sid, grace=STOP_GRACE_S)
        for sock in self.state.glob("node-*/sockets.*"):
            shutil.rmtree(sock.read_text(), ignore_errors=True)
        if self.head_sid:
            stop_session(self.head_sid, grace=STOP_GRACE_S)
        shutil.rmtree(self.head.temp_dir, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


def replica_nodes(app: str, deployment: str) -> dict[str, int]:
    """Live replicas of ``app``/``deployment`` per node IP, from the GCS actor table (no dashboard
    needed). Call from a connected driver."""
    from ray._private import state

    counts: dict[str, int] = {}
    prefix = f"SERVE_REPLICA::{app}#{deployment}#"
    for info in state.actors().values():
        if info.get("State") == "ALIVE" and str(info.get("Name", "")).startswith(prefix):
            ip = info["Address"]["IPAddress"]
            counts[ip] = counts.get(ip, 0) + 1
    return counts


def is_loopback(ip: str) -> bool:
    """True for 127.0.0.0/8, ::1 and v4-mapped loopback (``::ffff:127.0.0.3``)."""
    import ipaddress

    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def off_loopback(pids: list[int]) -> list[tuple[int, str, int]]:
    """Listening (or bound UDP) sockets of ``pids`` that are not on loopback."""
    from .processes import listening_addresses

    return [(pid, ip, port) for pid, ip, port in listening_addresses(pids) if not is_loopback(ip)]
