"""The gateway's handles on the workflow engine (``ICOP_WORKFLOW_ENGINE``); with ``temporal``, the run
starter is ``workflows.starter.TemporalRunStarter``, shared with ``icop backfill``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from icop.runs.service import RecordOnlyStarter, RunStarter
from icop.settings import Settings
from workflows.schedules import (
    AccountSchedules,
    ClientSource,
    LazyClient,
    NoAccountSchedules,
    NoSchedules,
    PipelineSchedules,
    TemporalAccountSchedules,
    TemporalSchedules,
)
from workflows.starter import TemporalPostRetrier, TemporalRunStarter
from workflows.types import Queues

from ..articles.approvals import ApprovalSignaller, TemporalApprovals


class PostRetrier(Protocol):
    async def start(self, tenant_id: UUID, post_id: UUID, attempt: int) -> str: ...


@dataclass(frozen=True)
class WorkflowEngine:
    """What the routes reach the engine through. The defaults are no engine: runs are recorded only,
    crons are stored but not scheduled, approval decisions answer 503."""

    run_starter: RunStarter = field(default_factory=RecordOnlyStarter)
    schedules: PipelineSchedules = field(default_factory=NoSchedules)
    approvals: ApprovalSignaller | None = None
    post_retrier: PostRetrier | None = None
    insights: AccountSchedules = field(default_factory=NoAccountSchedules)
    """One schedule per connected social account collects its posts' engagement."""
    temporal: ClientSource | None = None
    """Connects on first call (again after a failed attempt), so the gateway starts while Temporal is down."""


def workflow_engine(settings: Settings) -> WorkflowEngine:
    """For ``temporal``, one lazily connected client behind the run starter, the pipeline schedules and
    the approval signal; for ``none``, no engine."""
    if settings.workflow_engine != "temporal":
        return WorkflowEngine()
    connect = LazyClient(settings.temporal_target, settings.temporal_namespace)
    queues = Queues.with_prefix(settings.workflow_queue_prefix)
    return WorkflowEngine(
        run_starter=TemporalRunStarter(connect, queues, settings.run_max_concurrent_rows),
        schedules=TemporalSchedules(connect, queues, settings.run_max_concurrent_rows),
        approvals=TemporalApprovals(connect),
        post_retrier=TemporalPostRetrier(connect, queues),
        insights=TemporalAccountSchedules(connect, queues, settings.insights_every_s),
        temporal=connect,
    )
