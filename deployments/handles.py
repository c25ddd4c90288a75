"""Serve on the stack's Ray, and handles to running Serve applications, one per caller.

Serve starts with the first application deployed on a cluster (not with ``icop stack up``, which only
starts Ray), always without an HTTP proxy: callers use handles, nothing listens for HTTP.

``serve.get_app_handle`` returns one handle per application for the whole process (Serve caches it), and
the first request binds that handle's router to the event loop it was made on (the stack runs Serve in
throughput-optimized mode, where the router runs on the caller's loop rather than a thread of its own). A
process that builds a second worker on a new loop — a restarted worker, each test of the suite — would get
the cached handle and fail with "Event loop is closed". So every worker asks for its own handle here.
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle


def start_serve() -> None:
    """Serve's controller on the connected cluster, with no proxy; when it runs already, Serve connects
    to it and changes nothing."""
    serve.start(proxy_location="Disabled")


def run_app(app: Any, name: str) -> DeploymentHandle[Any]:
    """Deploy (or update) the application ``name`` and return its ingress handle; starts Serve first."""
    start_serve()
    return serve.run(app, name=name, route_prefix=None)


def app_handle(app_name: str) -> DeploymentHandle[Any]:
    """A new handle to ``app_name``'s ingress deployment (raises if the application does not exist)."""
    cached = serve.get_app_handle(app_name)
    return DeploymentHandle(cached.deployment_id.name, cached.deployment_id.app_name)
