"""Handles to running Serve applications, one per caller.

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


def app_handle(app_name: str) -> DeploymentHandle[Any]:
    """A new handle to ``app_name``'s ingress deployment (raises if the application does not exist)."""
    cached = serve.get_app_handle(app_name)
    return DeploymentHandle(cached.deployment_id.name, cached.deployment_id.app_name)
