"""The seam between the API and the workflow engine.

Starting and cancelling the durable ``PipelineRunWorkflow`` belongs to the orchestration module. Until
it lands, the default starter only records the run (status ``pending``, no workflow id): nothing is
faked, and the orchestration issue plugs a Temporal-backed ``RunStarter`` into ``create_app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class RunRequest:
    tenant_id: UUID
    pipeline_id: UUID
    run_id: UUID
    kind: str
    from_row: int | None = None
    to_row: int | None = None
    rows: tuple[int, ...] | None = None
    """Only these plan rows (a retry of another run's failed rows)."""


class RunStarter(Protocol):
    async def start(self, run: RunRequest) -> str | None:
        """Start the run's workflow; return its workflow id, or ``None`` when nothing was started."""

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        """Ask the run's workflow to stop (idempotent)."""


class RecordOnlyStarter:
    """Default: the run row is the record; no workflow is started yet."""

    async def start(self, run: RunRequest) -> str | None:
        return None

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        return None
