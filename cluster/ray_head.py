"""A local Ray head node, kept on loopback and off the network. Serve starts with the first application
deployed on it (``deployments.handles.start_serve``: no HTTP proxy, handles only), not here: an
``icop stack up`` that only needs Ray is ready in seconds.

Ray rewrites a node address of ``127.0.0.1`` to the machine's interface address, so the head uses
another loopback alias (``127.0.0.2`` by default). The dashboard is off (its usage probe reaches for
the cloud metadata address), usage stats are off, and every port is explicit so that several stacks
(a developer's and a test run's) can share a machine.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from icop.offline import apply_offline_env
from icop.settings import Settings

from .loopback import loopback_shim, with_shim
from .processes import (
    Port,
    StackError,
    alive,
    require_free,
    require_outside_ephemeral,
    spawn,
    stop_session,
    wait_for_line,
    wait_for_port,
)

log = logging.getLogger(__name__)

# Nothing of Ray's is durable here (Serve apps are redeployed), and some of its processes sit out a
# SIGTERM's whole grace period: 3 s after SIGTERM, SIGKILL (the stack's head and private clusters' nodes).
STOP_GRACE_S = 3.0

# `ray start --block` prints this once its node is registered. Before that it can still fail: under load a
# raylet gives its dashboard agent 15 s to come up, then aborts, and `ray start` exits (the GCS port had
# been open all along, so an open port is not a started node). Such a start is tried again.
RAY_READY = "Ray runtime started"
START_ATTEMPTS = 4
START_TIMEOUT_S = 120.0


def ray_env(settings: Settings, state: Path, node_ip: str | None = None) -> dict[str, str]:
    """Environment for a Ray node process: offline switches and wildcard binds pinned to the node's IP."""
    env = apply_offline_env(dict(os.environ))
    env["HOME"] = str(state)  # Ray writes ~/ray_bootstrap_config.yaml-style files under HOME
    env["RAY_ADDRESS"] = settings.ray_target
    env["ICOP_STATE_DIR"] = str(settings.state_path)  # replicas read the stack's settings (stack.env)
    # The head's two metrics exporters have fixed ports inside the ephemeral range unless these are set.
    env["AUTOSCALER_METRIC_PORT"] = str(settings.ray_autoscaler_metrics_port)
    env["DASHBOARD_METRIC_PORT"] = str(settings.ray_dashboard_metrics_port)
    return with_shim(env, loopback_shim(settings.state_path / "lib"), node_ip or settings.ray_node_ip)


def start_ray_node(
    argv: list[str], ray_log: Path, env: dict[str, str], timeout: float = START_TIMEOUT_S
) -> subprocess.Popen[bytes]:
    """Run ``ray start --block …`` until it says its node runs, trying again (up to ``START_ATTEMPTS``)
    when a start dies or hangs; a ``StackError`` with the log's end when none succeeds."""
    why = ""
    for attempt in range(1, START_ATTEMPTS + 1):
        offset = ray_log.stat().st_size if ray_log.exists() else 0
        proc = spawn(argv, ray_log, env=env)
        why = wait_for_line(ray_log, offset, RAY_READY, timeout, proc) or ""
        if not why:
            return proc
        stop_session(proc.pid, grace=STOP_GRACE_S)
        if attempt < START_ATTEMPTS:
            log.warning("Ray node did not start (%s; see %s): starting it again", why, ray_log)
    tail = ray_log.read_text(errors="replace")[-1500:]
    raise StackError(
        f"Ray node did not start in {START_ATTEMPTS} attempts (the last: {why}); {ray_log} ends with:\n{tail}"
    )


class RayComponent:
    name = "ray"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.root = settings.state_path / "ray"
        # Unix socket paths are limited to 107 bytes: keep Ray's temp dir short.
        self.temp_dir = Path("/tmp") / f"icop-ray-{settings.ray_gcs_port}"

    @property
    def address(self) -> str:
        return self.s.ray_target

    def ports(self) -> list[Port]:
        ip, s = self.s.ray_node_ip, self.s
        return [
            (ip, s.ray_gcs_port, "Ray", "ICOP_RAY_GCS_PORT"),
            (ip, s.ray_client_port, "Ray", "ICOP_RAY_CLIENT_PORT"),
            (ip, s.ray_agent_port, "Ray", "ICOP_RAY_AGENT_PORT"),
            (ip, s.ray_agent_grpc_port, "Ray", "ICOP_RAY_AGENT_GRPC_PORT"),
            (ip, s.ray_node_manager_port, "Ray", "ICOP_RAY_NODE_MANAGER_PORT"),
            (ip, s.ray_object_manager_port, "Ray", "ICOP_RAY_OBJECT_MANAGER_PORT"),
            (ip, s.ray_runtime_env_agent_port, "Ray", "ICOP_RAY_RUNTIME_ENV_AGENT_PORT"),
            (ip, s.ray_metrics_port, "Ray", "ICOP_RAY_METRICS_PORT"),
            (ip, s.ray_autoscaler_metrics_port, "Ray", "ICOP_RAY_AUTOSCALER_METRICS_PORT"),
            (ip, s.ray_dashboard_metrics_port, "Ray", "ICOP_RAY_DASHBOARD_METRICS_PORT"),
            (s.bind_host, s.serve_http_port, "Ray", "ICOP_SERVE_HTTP_PORT"),
        ]

    def start(self) -> int:
        from .stack import venv_bin

        ip = self.s.ray_node_ip
        for port in self.ports():
            require_free(*port)
        for worker_port, setting in ((self.s.ray_min_worker_port, "ICOP_RAY_MIN_WORKER_PORT"),
                                     (self.s.ray_max_worker_port, "ICOP_RAY_MAX_WORKER_PORT")):  # fmt: skip
            require_outside_ephemeral(worker_port, "Ray's workers", setting)
        self.root.mkdir(parents=True, exist_ok=True)
        env = ray_env(self.s, self.root)
        argv = [
            venv_bin("ray"), "start", "--head", "--block",
            f"--node-ip-address={ip}", f"--port={self.s.ray_gcs_port}",
            f"--num-cpus={self.s.ray_num_cpus}", "--num-gpus=0",
            "--include-dashboard=false", "--disable-usage-stats",
            f"--ray-client-server-port={self.s.ray_client_port}",
            f"--dashboard-agent-listen-port={self.s.ray_agent_port}",
            f"--dashboard-agent-grpc-port={self.s.ray_agent_grpc_port}",
            f"--node-manager-port={self.s.ray_node_manager_port}",
            f"--object-manager-port={self.s.ray_object_manager_port}",
            f"--runtime-env-agent-port={self.s.ray_runtime_env_agent_port}",
            f"--metrics-export-port={self.s.ray_metrics_port}",
            f"--min-worker-port={self.s.ray_min_worker_port}",
            f"--max-worker-port={self.s.ray_max_worker_port}",
            f"--temp-dir={self.temp_dir}",
        ]  # fmt: skip
        return start_ray_node(argv, self.root / "ray.log", env).pid

    def stop(self, sid: int) -> None:
        import shutil

        stop_session(sid, grace=STOP_GRACE_S)
        shutil.rmtree(self.temp_dir, ignore_errors=True)  # no stale session for the next `up`

    def status(self, sid: int | None):
        from .stack import ComponentStatus

        running = alive(sid)
        healthy = running and wait_for_port(self.s.ray_node_ip, self.s.ray_gcs_port, 2)
        detail = "Ray (Serve starts with the first deployment; handles only, no HTTP proxy)"
        return ComponentStatus(self.name, self.address, running, healthy, sid, detail)
