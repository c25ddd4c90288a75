"""Every metric the platform exports, in one place, and the cheap calls that move them.

Labels are bounded sets only (route templates, activity types, provider and platform names, statuses):
never tenant, run or article ids, which would grow the series without end (those belong in logs and
spans). The process's own registry is exposed by the gateway's ``/metrics`` route and by
:func:`serve_metrics` in the workers and the events worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

# Requests take milliseconds; activities and provider calls up to minutes.
FAST_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
log = logging.getLogger(__name__)
UNMATCHED_ROUTE: Final = "<unmatched>"  # 404s of paths no route knows: one series, not one per path

HTTP_REQUESTS = Counter("icop_http_requests", "Gateway requests answered.", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "icop_http_request_duration_seconds",
    "Gateway request time, first byte in to last byte out.",
    ["method", "route"],
    buckets=FAST_BUCKETS,
)
ACTIVITIES = Counter(
    "icop_activities",
    "Temporal activities finished, by type and outcome (ok|failed).",
    ["activity", "outcome"],
)
ACTIVITY_LATENCY = Histogram(
    "icop_activity_duration_seconds", "Time of one activity attempt.", ["activity"], buckets=SLOW_BUCKETS
)
PROVIDER_CALLS = Counter(
    "icop_provider_calls",
    "Calls to external providers (each attempt), by provider and outcome (ok or the error kind).",
    ["provider", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "icop_provider_call_duration_seconds",
    "Time of one provider call attempt.",
    ["provider"],
    buckets=SLOW_BUCKETS,
)
POSTS = Counter(
    "icop_posts",
    "Publish calls by platform and the status the post ended in (published, failed, waiting_quota, ...).",
    ["platform", "status"],
)
WEBHOOK_DELIVERIES = Counter(
    "icop_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retry (it will be tried again) or dead (given up).",
    ["outcome"],
)
OUTBOX_RELAYED = Counter("icop_outbox_relayed", "Outbox events the broker confirmed.")
OUTBOX_LAG = Histogram(
    "icop_outbox_lag_seconds",
    "Time from an event's commit to the broker's confirm.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
OUTBOX_OLDEST_UNSENT = Gauge(
    "icop_outbox_oldest_unsent_seconds",
    "Age of the oldest unsent event the relay saw in its last pass (0: none was waiting).",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def observe_activity(activity: str, ok: bool, seconds: float) -> None:
    ACTIVITIES.labels(activity, "ok" if ok else "failed").inc()
    ACTIVITY_LATENCY.labels(activity).observe(seconds)


def observe_provider_call(provider: str, outcome: str, seconds: float) -> None:
    PROVIDER_CALLS.labels(provider, outcome).inc()
    PROVIDER_LATENCY.labels(provider).observe(seconds)


@contextmanager
def provider_call(provider: str) -> Iterator[None]:
    """Time one provider call; an exception counts as an error of its ``kind`` (a ``ProviderError`` or a
    ``PlatformError``), otherwise of its class name."""
    t0 = time.perf_counter()
    try:
        yield
    except BaseException as e:
        kind = getattr(e, "kind", None)
        outcome = str(getattr(kind, "value", kind) or type(e).__name__)
        observe_provider_call(provider, outcome, time.perf_counter() - t0)
        raise
    observe_provider_call(provider, "ok", time.perf_counter() - t0)


def observe_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def observe_post(platform: str, status: str) -> None:
    POSTS.labels(platform, status).inc()


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> bool:
    """Serve ``/metrics`` of this process on ``host:port`` from a daemon thread (0: not at all). A port
    that is taken (a second worker on the host) costs the metrics, not the process: logged, False."""
    if not port:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as e:
        log.warning("no /metrics for this process: %s:%d is not free (%s)", host, port, e)
        return False
    log.info("metrics on http://%s:%d/metrics", host, port)
    return True
