"""A ``RunStarter`` backed by Temporal: a run is one ``PipelineRunWorkflow`` whose id comes from the
run id, so an API retry (or two gateways racing) can never start the same run twice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from icop.settings import Settings
from workflows.schedules import ClientSource, LazyClient, TemporalSchedules, client_source
from workflows.types import PipelineRunInput, Queues, run_workflow_id

from ..articles.approvals import TemporalApprovals
from .starter import RunRequest


class TemporalRunStarter:
    def __init__(
        self, client: Client | ClientSource, queues: Queues | None = None, max_concurrent_rows: int = 4
    ) -> None:
        self.client = client_source(client)  # a Client, or a lazy connector (the gateway's)
        self.queues, self.max_concurrent_rows = queues or Queues(), max_concurrent_rows

    async def start(self, run: RunRequest) -> str | None:
        wid = run_workflow_id(str(run.run_id))
        inp = PipelineRunInput(
            str(run.tenant_id),
            str(run.pipeline_id),
            str(run.run_id),
            self.queues,
            self.max_concurrent_rows,
            run.from_row,
            run.to_row,
            rows=list(run.rows) if run.rows is not None else None,
        )
        try:
            client = await self.client()
            await client.start_workflow(
                "PipelineRunWorkflow",
                inp,
                id=wid,
                task_queue=self.queues.planning,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass  # started by an earlier attempt: the same run, not a second one
        return wid

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        try:
            client = await self.client()
            await client.get_workflow_handle(workflow_id or run_workflow_id(str(run_id))).cancel()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise


def engine_extras(settings: Settings) -> dict[str, Any]:
    """What ``create_app`` plugs into the services for ``ICOP_WORKFLOW_ENGINE``: with ``temporal``, a
    lazily connected client (``temporal``), this starter (``run_starter``), the pipeline schedules
    (``schedules``) and the approval signal (``approvals``); with ``none``, nothing (runs are recorded
    only, crons are not scheduled, approvals answer 503)."""
    if settings.workflow_engine != "temporal":
        return {}
    connect = LazyClient(settings.temporal_target, settings.temporal_namespace)
    queues = Queues.with_prefix(settings.workflow_queue_prefix)
    return {
        "temporal": connect,
        "run_starter": TemporalRunStarter(connect, queues, settings.run_max_concurrent_rows),
        "schedules": TemporalSchedules(connect, queues, settings.run_max_concurrent_rows),
        "approvals": TemporalApprovals(connect),
    }
