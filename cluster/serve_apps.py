"""Deploy ICOP's Serve applications from ``cluster/serve_config.yaml`` on the stack's Ray cluster.

The same file ``serve deploy`` takes and the KubeRay RayService embeds; here it goes through Serve's
config path (the controller imports each builder, validates ``args`` and applies the ``deployments``
overrides), so what runs locally is what the file declares. Only ``http_options`` are taken from the
settings: the stack's proxy listens on its own loopback port.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from icop.settings import Settings

SERVE_CONFIG = Path(__file__).resolve().parent / "serve_config.yaml"


@dataclass(frozen=True)
class AppStatus:
    name: str
    status: str
    message: str
    replicas: dict[str, int]


def load_config(settings: Settings, path: Path = SERVE_CONFIG) -> Any:
    """The Serve config (a ``ServeDeploySchema``) with the stack's HTTP host and port."""
    from ray.serve.schema import ServeDeploySchema

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["http_options"] = {**raw.get("http_options", {}), "host": settings.bind_host,
                           "port": settings.serve_http_port}  # fmt: skip
    return ServeDeploySchema.model_validate(raw)


def connect(settings: Settings) -> None:
    """This process as a driver of the stack's Ray cluster (``ray.init`` waits for ever on a dead GCS: its
    port is checked first)."""
    import ray

    from .processes import StackError, wait_for_port

    if not ray.is_initialized():
        host, port = settings.ray_target.rsplit(":", 1)
        if not wait_for_port(host, int(port), 30):
            raise StackError(
                f"Ray's GCS at {settings.ray_target} does not answer: is the stack up? (icop stack status)"
            )
        ray.init(address=settings.ray_target, _node_ip_address=settings.ray_node_ip, log_to_driver=False)


def deploy(settings: Settings, path: Path = SERVE_CONFIG, timeout_s: float = 300.0) -> list[AppStatus]:
    """Apply the config and wait until every application runs (or one fails: its message is raised)."""
    from ray import serve
    from ray.serve.context import _get_global_client

    from deployments.handles import start_serve

    config = load_config(settings, path)
    connect(settings)
    http = {"host": settings.bind_host, "port": settings.serve_http_port}
    if config.proxy_location.value == "Disabled":  # handles only: no proxy actor at all
        start_serve()
    else:
        serve.start(proxy_location=config.proxy_location, http_options=http)
    _get_global_client().deploy_apps(config)  # type: ignore[union-attr]  # raises, not None, with no controller
    names = [a.name for a in config.applications]
    deadline = time.monotonic() + timeout_s
    while True:
        statuses = app_states(names)
        failed = [s for s in statuses if s.status in ("DEPLOY_FAILED", "UNHEALTHY")]
        if failed:
            raise RuntimeError("; ".join(f"{s.name}: {s.status}: {s.message}" for s in failed))
        if len(statuses) == len(names) and all(s.status == "RUNNING" for s in statuses):
            return statuses
        if time.monotonic() > deadline:
            pending = ", ".join(f"{s.name} {s.status}" for s in statuses if s.status != "RUNNING")
            raise TimeoutError(f"Serve applications not running after {timeout_s:.0f} s: {pending}")
        time.sleep(1.0)


def app_states(names: list[str]) -> list[AppStatus]:
    """Each named application's state, without replica counts: the controller's status overviews, a cheap
    call (``serve.status()`` builds every deployment's full details, a second of CPU per call with all of
    ICOP's applications: too much to poll)."""
    from ray.serve.context import _get_global_client

    client = _get_global_client()
    overviews = {o.name: o for o in client.list_serve_statuses()}  # type: ignore[union-attr]
    out = []
    for name in names:
        if (o := overviews.get(name)) is not None:
            state = getattr(o.app_status.status, "value", o.app_status.status)  # a str enum
            out.append(AppStatus(name, str(state), o.app_status.message, {}))
    return out


def status(settings: Settings, names: list[str] | None = None) -> list[AppStatus]:
    """Each application's status and its deployments' running replicas."""
    from ray import serve

    connect(settings)
    apps = serve.status().applications
    out = []
    for name, app in sorted(apps.items()):
        if names is not None and name not in names:
            continue
        replicas = {d: int(ds.replica_states.get("RUNNING", 0)) for d, ds in app.deployments.items()}  # type: ignore[call-overload]  # ReplicaState is a str enum
        state = getattr(app.status, "value", app.status)  # ApplicationStatus is a str enum
        out.append(AppStatus(name, str(state), app.message or "", replicas))
    return out
