"""Worker interceptors: every activity attempt counted and timed by activity type
(``icop_activities``, ``icop_activity_duration_seconds``; local activities included), its log lines
carrying the ids of its input (tenant, pipeline, run, row, article, platform)."""

from __future__ import annotations

import time
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

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


class ActivityMetrics(Interceptor):
    """Registered on every worker (``workflows.worker.workers_for``)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityMetricsInbound(next)
