"""The embedded local stack: PostgreSQL 16 + pgvector, the Temporal dev server, a local Ray head
with Serve, the emulators, RabbitMQ and an S3 server (SeaweedFS), all on loopback, all state under one
folder (``ICOP_STATE_DIR``, default ``.icop``); with ``apps``, also the product's gateway, worker and
dashboard (cluster/apps.py).

Each component records the session id of the process it spawned in ``<state>/stack.json``; ``down``
stops exactly those sessions and nothing else on the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from icop.settings import STACK_ENV, Settings, load_settings

from .emulators import EmulatorsComponent
from .postgres import PostgresComponent
from .processes import (
    Port,
    StackError,
    alive,
    require_free,
    session_members,
    spawn,
    stop_session,
    wait_for_port,
)
from .rabbitmq import RabbitMQComponent
from .ray_head import RayComponent
from .seaweedfs import SeaweedFSComponent

STACK_FILE = "stack.json"


@dataclass
class ComponentStatus:
    name: str
    address: str
    running: bool
    healthy: bool
    pid: int | None = None
    detail: str = ""


@dataclass
class StartResult:
    name: str
    started: bool  # False: it was already running
    seconds: float
    status: ComponentStatus


class Component(Protocol):
    name: str

    def start(self) -> int:
        """Start the component and wait until it is healthy; return its session id."""
        ...

    def stop(self, sid: int) -> None: ...

    def status(self, sid: int | None) -> ComponentStatus: ...


class Infrastructure(Component, Protocol):
    def ports(self) -> list[Port]:
        """What it listens on: checked free before any component of the stack starts."""
        ...


@dataclass
class StackState:
    sessions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StackState:
        if not path.is_file():
            return cls()
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))


def venv_bin(name: str) -> str:
    """A binary installed in this virtual environment, or on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` is not installed: run `make install` (or `pip install -e .`) first.")
    return found


class TemporalComponent:
    name = "temporal"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.dir = settings.state_path / "temporal"

    @property
    def address(self) -> str:
        return f"{self.s.bind_host}:{self.s.temporal_port}"

    def ports(self) -> list[Port]:
        host, s = self.s.bind_host, self.s
        ports = [
            (host, s.temporal_port, "Temporal", "ICOP_TEMPORAL_PORT"),
            (host, s.temporal_http_port, "Temporal (HTTP API)", "ICOP_TEMPORAL_HTTP_PORT"),
            (host, s.temporal_metrics_port, "Temporal (metrics)", "ICOP_TEMPORAL_METRICS_PORT"),
        ]
        if s.temporal_ui_port:
            ports.append((host, s.temporal_ui_port, "Temporal (web UI)", "ICOP_TEMPORAL_UI_PORT"))
        return ports

    def start(self) -> int:
        binary = venv_bin("temporal")
        for port in self.ports():
            require_free(*port)
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary, "server", "start-dev",
            "--ip", self.s.bind_host,
            "--port", str(self.s.temporal_port),
            # Left unset, these two would be random ports (the UI's: --port + 1000); the dev server's
            # internal services still take ports the kernel hands out (it has no flags for them).
            "--http-port", str(self.s.temporal_http_port),
            "--metrics-port", str(self.s.temporal_metrics_port),
            "--db-filename", str(self.dir / "temporal.db"),
            # WAL, synced at checkpoints: a commit survives a killed server process (the OS still has it);
            # only a machine crash can lose the last ones. The default (rollback journal, fsync per
            # commit) made every history write wait on the disk.
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=NORMAL",
            "--log-level", "warn",
            "--dynamic-config-value", "frontend.enableServerVersionCheck=false",
            "--namespace", self.s.temporal_namespace,
        ]  # fmt: skip
        if self.s.temporal_ui_port:
            argv += ["--ui-ip", self.s.bind_host, "--ui-port", str(self.s.temporal_ui_port)]
            argv += ["--ui-disable-news-fetch"]
        else:
            argv += ["--headless"]
        proc = spawn(argv, self.dir / "temporal.log")
        if not wait_for_port(self.s.bind_host, self.s.temporal_port, 30, proc) or not self._healthy(20):
            stop_session(proc.pid)
            raise StackError(f"Temporal did not become healthy; see {self.dir / 'temporal.log'}")
        return proc.pid

    def _healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(
                [venv_bin("temporal"), "operator", "cluster", "health", "--address", self.address],
                capture_output=True,
                timeout=10,
            )
            if r.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def stop(self, sid: int) -> None:
        stop_session(sid)

    def status(self, sid: int | None) -> ComponentStatus:
        running = alive(sid)
        healthy = running and self._healthy(2)
        return ComponentStatus(self.name, self.address, running, healthy, sid)


class LocalStack:
    """The embedded stack; ``up`` is idempotent, ``down`` stops only what ``up`` started."""

    def __init__(self, settings: Settings, apps: bool = False, metrics: bool = False) -> None:
        """``apps``: also run the product's app processes (gateway, worker, dashboard; cluster/apps.py),
        as ``icop stack up`` does. Off for test sessions, whose tests start what they need. ``metrics``: and
        a Prometheus scraping them all (cluster/metrics_server.py), last."""
        from .apps import app_components
        from .metrics_server import PrometheusComponent

        self.s = settings
        self.state_dir = settings.state_path
        self.infra: list[Infrastructure] = [
            PostgresComponent(settings),
            TemporalComponent(settings),
            RayComponent(settings),
            EmulatorsComponent(settings),
            RabbitMQComponent(settings),
            SeaweedFSComponent(settings),
        ]
        prometheus = PrometheusComponent(settings)
        self.app_components: list[Component] = [*app_components(settings), prometheus]
        self.components: list[Component] = (
            self.infra + (self.app_components[:-1] if apps else []) + ([prometheus] if metrics else [])
        )

    @classmethod
    def open(
        cls, state_dir: Path | str | None = None, apps: bool = False, metrics: bool = False
    ) -> LocalStack:
        """Load settings for ``state_dir``; on first use, write generated secrets to its ``stack.env``."""
        settings = load_settings(state_dir)
        ensure_stack_env(settings.state_path)
        return cls(load_settings(state_dir), apps=apps, metrics=metrics)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STACK_FILE

    def up(self, progress: Callable[[str], None] | None = None) -> list[StartResult]:
        """Start what is not running and healthy. The infrastructure's processes do not depend on each other
        and start side by side (Ray's ≈15 s dominates); the apps then start in order, after the migrations.
        ``progress`` gets what is still starting. A component that fails to start raises StackError once the
        others have started (and been recorded, so that ``down`` stops them)."""
        state = StackState.load(self.state_file)
        lock = threading.Lock()
        pending: list[str] = []

        def bring_up(comp: Component) -> StartResult:
            sid = state.sessions.get(comp.name)
            t0 = time.monotonic()
            if sid and alive(sid):
                st = comp.status(sid)
                if st.healthy and not getattr(comp, "stale", lambda: False)():
                    return StartResult(comp.name, False, 0.0, st)
                comp.stop(sid)
            with lock:
                pending.append(comp.name)
                if progress:
                    progress(", ".join(pending))
            try:
                sid = comp.start()
            finally:
                with lock:
                    pending.remove(comp.name)
                    if progress and pending:
                        progress(", ".join(pending))
            with lock:
                state.sessions[comp.name] = sid
                state.save(self.state_file)
            return StartResult(comp.name, True, time.monotonic() - t0, comp.status(sid))

        infra = [c for c in self.infra if c in self.components]
        # a taken port fails the whole `up` before anything starts (not after the others' ≈20 s)
        for comp in infra:
            if not alive(state.sessions.get(comp.name)):
                for port in comp.ports():
                    require_free(*port)
        with ThreadPoolExecutor(len(infra), thread_name_prefix="stack-up") as pool:
            futures = [pool.submit(bring_up, c) for c in infra]
        results = [f.result() for f in futures]  # all have finished: the first failure, if any, is raised
        apps = [c for c in self.components if c in self.app_components]
        if any(c.name != "prometheus" for c in apps):  # the apps need the schema: migrate first
            if progress:
                progress("database migrations")
            self.migrate()
        results += [bring_up(c) for c in apps]
        return results

    def migrate(self) -> list[str]:
        """Bootstrap roles and apply pending migrations (as `icop db migrate`); the names applied."""
        import asyncio

        from icop.db.migrate import setup_database

        return [f"{m.version:04d}_{m.name}" for m in asyncio.run(setup_database(self.s))]

    def down(self) -> list[str]:
        """Stop what ``up`` recorded: the apps first (whoever started them), then the infrastructure side by
        side. Returns the names stopped."""
        state = StackState.load(self.state_file)
        lock = threading.Lock()
        stopped: list[str] = []

        def stop(comp: Component) -> None:
            with lock:
                sid = state.sessions.pop(comp.name, None)
            if sid and session_members(sid):
                comp.stop(sid)
                with lock:
                    stopped.append(comp.name)
            with lock:
                state.save(self.state_file)

        for comp in reversed(self.app_components):
            stop(comp)
        with ThreadPoolExecutor(len(self.infra), thread_name_prefix="stack-down") as pool:
            for f in [pool.submit(stop, c) for c in reversed(self.infra)]:
                f.result()
        order = [c.name for c in reversed(self.infra + self.app_components)]
        return sorted(stopped, key=order.index)

    def status(self) -> list[ComponentStatus]:
        """The infrastructure, and the app components this stack runs or has recorded as started."""
        state = StackState.load(self.state_file)
        everything = self.infra + self.app_components
        shown = [c for c in everything if c in self.components or c.name in state.sessions]
        return [c.status(state.sessions.get(c.name)) for c in shown]

    def app_running(self, name: str) -> bool:
        """Whether the app component ``name`` (gateway, worker, dashboard) runs and is healthy."""
        state = StackState.load(self.state_file)
        comp = next((c for c in self.app_components if c.name == name), None)
        sid = state.sessions.get(name)
        return comp is not None and bool(sid) and comp.status(sid).healthy

    def pids(self) -> list[int]:
        """Every live process the stack started (for audits such as the loopback-only test)."""
        state = StackState.load(self.state_file)
        return [p.pid for sid in state.sessions.values() for p in session_members(sid)]


def private_state_dir(prefix: str) -> Path:
    """A fresh state folder for a private stack (test sessions, benchmarks; its ports: ``cluster.ports``).
    Under /tmp, not pytest's tmp_path, whose 0700 parents the PostgreSQL OS user could not pass."""
    import tempfile

    state = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(state, 0o711)  # passable (the PostgreSQL OS user's data dir is inside), not listable
    return state


def ensure_stack_env(state_dir: Path, extra: dict[str, str] | None = None) -> Path:
    """Create ``<state>/stack.env`` with fresh passwords and keys the first time; never overwrite it.

    ``extra`` adds settings (e.g. a test stack's private ports) to a new file.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    # Other local users may pass through (PostgreSQL and RabbitMQ run as their own OS users and must reach
    # their folders inside) but not list it; what is secret inside is 0600/0700 (stack.env, objects/).
    os.chmod(state_dir, 0o711)
    path = state_dir / STACK_ENV
    if path.exists():
        _add_missing(path, _s3_keys())  # a stack made before the S3 server joined it
        return path
    import base64

    values = {
        "ICOP_PG_SUPERUSER_PASSWORD": secrets.token_urlsafe(24),
        "ICOP_PG_OWNER_PASSWORD": secrets.token_urlsafe(24),
        "ICOP_PG_APP_PASSWORD": secrets.token_urlsafe(24),
        "ICOP_JWT_SECRET": secrets.token_urlsafe(48),
        "ICOP_VAULT_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        **_s3_keys(),
        **(extra or {}),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# Generated by `icop stack up` for the embedded stack. Keep private.\n")
        for k, v in values.items():
            f.write(f"{k}={v}\n")
    return path


def _s3_keys() -> dict[str, str]:
    """The embedded S3 server's one identity: its signatures (presigned URLs too) are really checked."""
    return {
        "ICOP_S3_ACCESS_KEY_ID": "icop" + secrets.token_hex(8),
        "ICOP_S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
    }


def _add_missing(path: Path, values: dict[str, str]) -> None:
    """Append the settings ``path`` does not set yet; what it sets is never changed."""
    present = {line.split("=", 1)[0].strip() for line in path.read_text().splitlines() if "=" in line}
    missing = {k: v for k, v in values.items() if k not in present}
    if missing:
        with open(path, "a") as f:
            f.writelines(f"{k}={v}\n" for k, v in missing.items())
