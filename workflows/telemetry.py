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
    return [_tracing_interceptor()]


def _tracing_interceptor() -> client.Interceptor:
    """Temporal's interceptor without its zero-length ``StartActivity`` spans.

    A workflow marks each activity it schedules with a span of no duration (made through a call out of
    the sandbox, its context then serialized into the activity's headers), beside the ``RunActivity``
    span that the attempt makes: half of an article's spans, for a time that the ``RunActivity`` span's
    start already shows. Here the workflow passes its own context on instead, so each ``RunActivity`` is
    the child of the span that started its workflow (``StartWorkflow`` / ``StartChildWorkflow``); child
    workflows, signals and the workflow's own Run/Complete spans are as Temporal makes them. What it
    saves is measured by ``bench/backfill.py --phases telemetry`` (docs/BENCHMARKS.md)."""
    from temporalio import worker
    from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
    from temporalio.contrib.opentelemetry._interceptor import _TracingWorkflowOutboundInterceptor

    class Outbound(_TracingWorkflowOutboundInterceptor):
        def start_activity(self, input: worker.StartActivityInput) -> Any:
            input.headers = self.root._context_to_headers(input.headers)
            return self.next.start_activity(input)

        def start_local_activity(self, input: worker.StartLocalActivityInput) -> Any:
            input.headers = self.root._context_to_headers(input.headers)
            return self.next.start_local_activity(input)

    class Inbound(TracingWorkflowInboundInterceptor):
        def init(self, outbound: worker.WorkflowOutboundInterceptor) -> None:
            self.next.init(Outbound(outbound, self))

    class Tracing(TracingInterceptor):
        def workflow_interceptor_class(
            self, input: worker.WorkflowInterceptorClassInput
        ) -> type[TracingWorkflowInboundInterceptor]:
            super().workflow_interceptor_class(input)  # registers the span-making call out of the sandbox
            return Inbound

    return Tracing()


class ActivityMetrics(Interceptor):
    """Registered on every worker (``workflows.worker.workers_for``)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityMetricsInbound(next)
