"""Worker interceptors: every activity attempt counted and timed by activity type
(``icop_activities``, ``icop_activity_duration_seconds``; local activities included), its log lines
carrying the ids of its input (tenant, pipeline, run, row, article, platform); and Temporal's tracing
interceptor for clients and workers when this process traces."""

from __future__ import annotations

import time
from typing import Any

from temporalio import activity, client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from icop.observability import tracing
from icop.observability.logs import ids_of, ids_scope
from icop.observability.metrics import observe_activity


class _ActivityMetricsInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        ids = ids_of(input.args[0]) if input.args else {}
        t0 = time.perf_counter()
        ok = False
        try:
            with ids_scope(activity=name, **ids):  # the attempt's log lines carry its ids
                result = await super().execute_activity(input)
            ok = True
            return result
        finally:
            observe_activity(name, ok, time.perf_counter() - t0)


def client_interceptors() -> list[client.Interceptor]:
    """Temporal's OpenTelemetry interceptor when this process traces: on a client it makes the
    StartWorkflow span a child of the caller's (the gateway's request), and workers built on that client
    take it too, so workflows and activities join the trace that started the run."""
    if not tracing.active():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


class ActivityMetrics(Interceptor):
    """Registered on every worker (``workflows.worker.workers_for``)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityMetricsInbound(next)
