"""Serve resources have one home: ``cluster/serve_config.yaml``.

Every deployment's replicas, autoscaling bounds, concurrency and CPUs are declared there (``serve deploy``
and the stack apply that file; the KubeRay RayService embeds it). The builders read the same entries
through :func:`deployment_options`, so an application built in code (a test, a benchmark) gets exactly
what the config declares; the decorators carry no resource options. A caller that needs other figures
passes them as an explicit ``overrides`` mapping, which is visible where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SERVE_CONFIG = Path(__file__).resolve().parents[1] / "cluster" / "serve_config.yaml"
# the per-deployment fields of ServeDeploySchema that configure how a deployment runs
_FIELDS = (
    "num_replicas",
    "max_ongoing_requests",
    "max_queued_requests",
    "autoscaling_config",
    "ray_actor_options",
    "graceful_shutdown_timeout_s",
    "health_check_period_s",
    "health_check_timeout_s",
)


@lru_cache(maxsize=4)
def serve_config(path: Path = SERVE_CONFIG) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config


def app_args(app: str, path: Path = SERVE_CONFIG) -> dict[str, Any]:
    """The ``args`` the config gives an application."""
    return dict(_app(app, path).get("args") or {})


def deployment_options(
    app: str, deployment: str, overrides: Mapping[str, Any] | None = None, path: Path = SERVE_CONFIG
) -> dict[str, Any]:
    """The options ``Deployment.options(...)`` takes for ``deployment`` of ``app``, as the config
    declares them (``overrides`` on top, e.g. a test's smaller CPU share)."""
    entries = [d for d in _app(app, path).get("deployments") or [] if d.get("name") == deployment]
    if not entries:
        raise KeyError(f"{path.name} declares no deployment {deployment!r} in application {app!r}")
    options = {k: v for k, v in entries[0].items() if k in _FIELDS}
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(options.get(key), Mapping):
            options[key] = {**options[key], **value}
        else:
            options[key] = value
    if "num_replicas" in (overrides or {}):
        options.pop("autoscaling_config", None)  # a fixed count replaces the autoscaling bounds
    return options


def _app(app: str, path: Path) -> dict[str, Any]:
    for entry in serve_config(path).get("applications") or []:
        if entry.get("name") == app:
            return dict(entry)
    raise KeyError(f"{path.name} declares no application {app!r}")
