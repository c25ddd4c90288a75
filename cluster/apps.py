"""The product's app processes as stack components: the gateway, a worker and the dashboard.

``icop stack up`` runs them after the infrastructure in embedded mode (``--no-apps`` leaves them out); the
test session's stack does not (tests start what they need themselves, see tests/dashboard/conftest.py).
All three bind loopback ports from settings and log under ``<state>/apps/``:

- **gateway**: ``icop gateway serve`` with ``ICOP_WORKFLOW_ENGINE=temporal`` (runs start workflows);
- **worker**: ``icop worker all`` on the ``ICOP_WORKFLOW_QUEUE_PREFIX`` queues, after the Serve config's
  applications are deployed (its TopicClusterer runs there, as in production); healthy once Temporal
  lists this very process among the planning queue's pollers;
- **dashboard**: ``next start`` of ``dashboard/`` after ``npm ci``/``next build`` when needed
  (cluster/dashboard.py), pointed at the gateway, with cookies without ``Secure`` (plain-HTTP loopback).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from icop.offline import apply_offline_env
from icop.settings import Settings

from .dashboard import DASHBOARD_DIR, build_current, ensure_built, next_bin, node_env, require_node
from .processes import StackError, alive, require_free, spawn, stop_session, wait_for_port

if TYPE_CHECKING:
    from .stack import Component

ROOT = Path(__file__).resolve().parent.parent


def gateway_url(s: Settings) -> str:
    return f"http://{s.bind_host}:{s.gateway_port}"


def dashboard_url(s: Settings) -> str:
    return f"http://{s.bind_host}:{s.dashboard_port}"


def apps_dir(s: Settings) -> Path:
    return s.state_path / "apps"


def app_env(s: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the stack's Python app processes: this stack's state dir, the Temporal engine,
    this stack's queues, ports and dashboard origin (what the gateway accepts as OAuth redirect URIs)."""
    env = apply_offline_env(dict(os.environ))
    env.update(
        {
            "ICOP_STATE_DIR": str(s.state_path),
            "ICOP_WORKFLOW_ENGINE": "temporal",
            "ICOP_WORKFLOW_QUEUE_PREFIX": s.workflow_queue_prefix,
            "ICOP_GATEWAY_PORT": str(s.gateway_port),
            "ICOP_DASHBOARD_PORT": str(s.dashboard_port),
            "ICOP_DASHBOARD_PUBLIC_URL": dashboard_url(s),
            **(extra or {}),
        }
    )
    return env


def _get(url: str, timeout: float = 2.0) -> int | None:
    try:
        with httpx.Client(trust_env=False, timeout=timeout) as c:
            return c.get(url, follow_redirects=False).status_code
    except httpx.HTTPError:
        return None


def _wait_http(url: str, ok: tuple[int, ...], timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        code = _get(url)
        if code is not None and (code in ok or (not ok and code < 500)):
            return True
        time.sleep(0.2)
    return False


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _status(name: str, address: str, running: bool, healthy: bool, sid: int | None, detail: str):
    from .stack import ComponentStatus

    return ComponentStatus(name, address, running, healthy, sid, detail)


class GatewayComponent:
    """``icop gateway serve`` on ``ICOP_GATEWAY_PORT`` (the public API; runs go to Temporal)."""

    name = "gateway"

    def __init__(self, settings: Settings, extra_env: dict[str, str] | None = None) -> None:
        self.s = settings
        self.extra_env = extra_env or {}
        self.log = apps_dir(settings) / "gateway.log"

    @property
    def address(self) -> str:
        return gateway_url(self.s)

    def start(self) -> int:
        s = self.s
        require_free(s.bind_host, s.gateway_port, "The gateway", "ICOP_GATEWAY_PORT")
        argv = [
            sys.executable, "-m", "cluster.cli", "gateway", "serve", "--state-dir", str(s.state_path),
            "--host", s.bind_host, "--port", str(s.gateway_port), "--log-level", "warning",
        ]  # fmt: skip
        proc = spawn(argv, self.log, env=app_env(s, self.extra_env), cwd=ROOT)
        if not _wait_http(f"{self.address}/healthz", (200,), 60, proc):
            stop_session(proc.pid)
            raise StackError(f"The gateway did not start; see {self.log}:\n{_tail(self.log)}")
        return proc.pid

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=10)

    def status(self, sid: int | None):
        running = alive(sid)
        healthy = running and _get(f"{self.address}/healthz") == 200
        return _status(self.name, self.address, running, healthy, sid, "public API (/docs); runs → Temporal")


class WorkerComponent:
    """``icop worker all``: every module's Temporal queue in one process."""

    name = "worker"

    def __init__(
        self,
        settings: Settings,
        models: str = "serve",
        extra_env: dict[str, str] | None = None,
        deploy_serve: bool = True,
    ) -> None:
        self.s = settings
        self.models = models
        self.deploy_serve = deploy_serve and models == "serve"
        self.extra_env = extra_env or {}
        self.log = apps_dir(settings) / "worker.log"

    @property
    def address(self) -> str:
        return f"temporal://{self.s.temporal_target}/{self.s.workflow_queue_prefix}-*"

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cluster.cli", *args, "--state-dir", str(self.s.state_path)]

    def start(self) -> int:
        env = app_env(self.s, self.extra_env)
        if self.deploy_serve:  # the worker's models are the Serve deployments: deploy the config first
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "ab") as out:
                r = subprocess.run(
                    self._cli("serve", "deploy"), env={**env, "COLUMNS": "160"}, cwd=ROOT,
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=600,
                )  # fmt: skip
            if r.returncode != 0:
                raise StackError(f"`icop serve deploy` failed; see {self.log}:\n{_tail(self.log)}")
        argv = self._cli(
            "worker", "all", "--models", self.models, "--queue-prefix", self.s.workflow_queue_prefix
        )
        proc = spawn(argv, self.log, env=env, cwd=ROOT)
        deadline = time.monotonic() + 180
        while not self._polling(proc.pid):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_session(proc.pid)
                raise StackError(f"The worker did not start polling; see {self.log}:\n{_tail(self.log)}")
            time.sleep(1.0)
        return proc.pid

    def _polling(self, pid: int) -> bool:
        """Temporal lists this process (identity ``pid@host``) among the planning queue's pollers."""
        from .stack import venv_bin

        try:
            r = subprocess.run(
                [venv_bin("temporal"), "task-queue", "describe", "--address", self.s.temporal_target,
                 "--namespace", self.s.temporal_namespace,
                 "--task-queue", f"{self.s.workflow_queue_prefix}-planning"],
                capture_output=True, text=True, timeout=10,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return False
        return r.returncode == 0 and f"{pid}@" in r.stdout

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=15)  # SIGTERM: the worker finishes or hands back its tasks

    def status(self, sid: int | None):
        running = alive(sid)
        healthy = running and sid is not None and self._polling(sid)
        detail = f"icop worker all (models: {self.models}); log {self.log}"
        return _status(self.name, self.address, running, healthy, sid, detail)


class DashboardComponent:
    """``next start`` of the built dashboard on ``ICOP_DASHBOARD_PORT``, talking to the gateway."""

    name = "dashboard"

    def __init__(self, settings: Settings, root: Path = DASHBOARD_DIR, api_url: str | None = None) -> None:
        self.s = settings
        self.root = root
        self.api_url = api_url or gateway_url(settings)
        self.log = apps_dir(settings) / "dashboard.log"
        self.build_log = apps_dir(settings) / "dashboard-build.log"

    @property
    def address(self) -> str:
        return dashboard_url(self.s)

    def env(self) -> dict[str, str]:
        return node_env(
            {
                "ICOP_API_URL": self.api_url,
                "ICOP_DASHBOARD_SECURE_COOKIES": "0",  # plain HTTP on loopback
                "ICOP_DASHBOARD_PUBLIC_URL": self.address,
                "NODE_ENV": "production",
            }
        )

    def start(self) -> int:
        s = self.s
        node, _ = require_node()
        ensure_built(self.build_log, self.root)
        require_free(s.bind_host, s.dashboard_port, "The dashboard", "ICOP_DASHBOARD_PORT")
        argv = [node, str(next_bin(self.root)), "start", "-H", s.bind_host, "-p", str(s.dashboard_port)]
        proc = spawn(argv, self.log, env=self.env(), cwd=self.root)
        if not wait_for_port(s.bind_host, s.dashboard_port, 60, proc) or not _wait_http(
            f"{self.address}/", (), 60, proc
        ):
            stop_session(proc.pid)
            raise StackError(f"The dashboard did not start; see {self.log}:\n{_tail(self.log)}")
        return proc.pid

    def stale(self) -> bool:
        """The sources changed since the build it serves: `icop stack up` rebuilds and restarts it."""
        return not build_current(self.root)

    def stop(self, sid: int) -> None:
        stop_session(sid, grace=5)

    def status(self, sid: int | None):
        running = alive(sid)
        code = _get(f"{self.address}/") if running else None
        healthy = running and code is not None and code < 500
        detail = f"Next.js → {self.api_url}"
        if running and self.stale():
            detail += " (sources changed since the build: `icop stack up` rebuilds and restarts it)"
        return _status(self.name, self.address, running, healthy, sid, detail)


def app_components(settings: Settings) -> list[Component]:
    """The stack's app processes, in start order (``down`` stops them in reverse)."""
    return [GatewayComponent(settings), WorkerComponent(settings), DashboardComponent(settings)]
