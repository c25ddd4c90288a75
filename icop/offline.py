"""Environment switches set for every process of ours (CLI, workers, Ray nodes, tests) before the
libraries that read them are imported.

``OFFLINE_ENV`` keeps third-party libraries from reaching off the machine: Ray's usage-stats probe,
CrewAI's telemetry and version check, OpenTelemetry exporters and the Hugging Face hub would otherwise send
traffic to outside addresses. ``SERVE_ENV`` is how our Serve deployments run: handles-only calls whose
handlers never block their event loop, so Serve's throughput mode (no extra thread hop per request on
either side) fits, without its HTTP ingress (no proxy actor: nothing calls Serve over HTTP), and a
controller loop at 2 Hz rather than 10 Hz (it was the busiest idle process).
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
    # A process of ours joins the stack's Ray cluster explicitly or not at all: Ray's API would otherwise
    # start a private local cluster (more processes and ports) when called before `ray.init` or after
    # `ray.shutdown` (a Serve handle's metrics task does, once its driver has left the cluster).
    "RAY_ENABLE_AUTO_CONNECT": "0",
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
    "OTEL_SDK_DISABLED": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # transformers draws a progress bar ("Loading weights") on stderr when a model loads: in a server's
    # log (the gateway warms its embedding model at start) it is a line that is not a log record.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "NEXT_TELEMETRY_DISABLED": "1",
    "DO_NOT_TRACK": "1",
}


SERVE_ENV: dict[str, str] = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",  # throughput mode would start a fallback HTTP proxy
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}


# For a driver that calls Serve handles from plain threads (``.result()``) or from one ``asyncio.run`` loop
# after another (benchmarks): throughput mode would run a handle's router on the first caller's loop.
SYNC_HANDLES_ENV: dict[str, str] = {"RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1"}


def apply_offline_env(environ: dict[str, str] | None = None, *, sync_handles: bool = False) -> dict[str, str]:
    """Set the switches (without overriding explicit values) in ``environ`` (default: this process);
    ``sync_handles`` adds ``SYNC_HANDLES_ENV``. Call before ``ray.serve`` is imported."""
    target = os.environ if environ is None else environ
    for key, value in {**OFFLINE_ENV, **SERVE_ENV, **(SYNC_HANDLES_ENV if sync_handles else {})}.items():
        target.setdefault(key, value)
    return dict(target)
