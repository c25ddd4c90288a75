"""The one activity of a schedule fire: open its ``scheduled`` run row (or record why it is skipped)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from uuid import UUID

import asyncpg
from temporalio import activity

from icop.db import tenant_tx

from .. import repository
from ..types import OpenScheduledRunInput, ScheduledRunOpened, run_workflow_id

FIRE_NAMESPACE = uuid.UUID("5b0f3f7e-8a55-4d1e-9a43-5c0d2f3e7a11")


def fire_run_id(fire_id: str) -> UUID:
    """The run id of a schedule fire: derived from the fire's workflow id, so retries open one run."""
    return uuid.uuid5(FIRE_NAMESPACE, fire_id)


class ScheduledRunActivities:
    def __init__(
        self, pool: asyncpg.Pool, max_active_runs: int, monthly_articles: Callable[[str], int] | None = None
    ) -> None:
        self.pool, self.max_active_runs, self.monthly_articles = pool, max_active_runs, monthly_articles

    @activity.defn(name="open_scheduled_run")
    async def open_scheduled_run(self, inp: OpenScheduledRunInput) -> ScheduledRunOpened:
        tenant, run_id = UUID(inp.tenant_id), fire_run_id(inp.fire_id)
        async with tenant_tx(self.pool, tenant) as conn:
            opened, reason = await repository.open_scheduled_run(
                conn,
                tenant,
                UUID(inp.pipeline_id),
                run_id,
                run_workflow_id(str(run_id)),
                self.max_active_runs,
                self.monthly_articles,
            )
        return ScheduledRunOpened(str(run_id) if opened else None, reason)

    def all(self) -> list[Callable[..., object]]:
        return [self.open_scheduled_run]
