"""The one activity of a schedule fire: open its ``scheduled`` run row (or record why it is skipped)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from uuid import UUID

import asyncpg
from temporalio import activity

from icop.db import tenant_tx
from icop.runs.admission import Actor, RunLimits, StartedBy, open_run
from icop.statuses import RunKind

from ..types import OpenScheduledRunInput, ScheduledRunOpened, run_workflow_id

FIRE_NAMESPACE = uuid.UUID("5b0f3f7e-8a55-4d1e-9a43-5c0d2f3e7a11")


def fire_run_id(fire_id: str) -> UUID:
    """The run id of a schedule fire: derived from the fire's workflow id, so retries open one run."""
    return uuid.uuid5(FIRE_NAMESPACE, fire_id)


class ScheduledRunActivities:
    def __init__(self, pool: asyncpg.Pool, limits: RunLimits) -> None:
        self.pool, self.limits = pool, limits

    @activity.defn(name="open_scheduled_run")
    async def open_scheduled_run(self, inp: OpenScheduledRunInput) -> ScheduledRunOpened:
        """The fire's run under the rules every start obeys; a refused fire is recorded as skipped."""
        tenant, run_id = UUID(inp.tenant_id), fire_run_id(inp.fire_id)
        progress = {"requested": {"kind": RunKind.SCHEDULED.value}}
        async with tenant_tx(self.pool, tenant) as conn:
            opened = await open_run(
                conn, tenant, UUID(inp.pipeline_id), RunKind.SCHEDULED, progress,
                Actor(StartedBy.SCHEDULE), self.limits, run_id=run_id,
                workflow_id=run_workflow_id(str(run_id)), record_refusal=True,
            )  # fmt: skip
        admitted = opened.admission.admitted
        return ScheduledRunOpened(str(run_id) if admitted else None, opened.admission.reason)

    def all(self) -> list[Callable[..., object]]:
        return [self.open_scheduled_run]
