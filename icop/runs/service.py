"""Starting a run: admission, the run row, then its workflow, in the caller's transaction.

The workflow engine sits behind :class:`RunStarter` (the Temporal one lives in ``workflows/starter.py``);
a run whose workflow cannot be started raises :class:`EngineUnavailable` and, because the caller's
transaction then rolls back, is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from icop.errors import DomainError
from icop.statuses import RunKind

from . import repository as repo
from .admission import Actor, Admission, RunLimits, open_run


class EngineUnavailable(DomainError):
    status, title, code = 503, "Workflow engine unavailable", "engine.unavailable"


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
        """Start the run's workflow; return its workflow id, or ``None`` when nothing was started.
        Raises :class:`EngineUnavailable` when the engine cannot be reached."""

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        """Ask the run's workflow to stop (idempotent). Raises :class:`EngineUnavailable`."""


class RecordOnlyStarter:
    """Workflow engine ``none`` (development only; production refuses it): the run row is the record."""

    async def start(self, run: RunRequest) -> str | None:
        return None

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        return None


@dataclass(frozen=True)
class StartedRun:
    run_id: UUID | None
    """None when the run was refused."""
    admission: Admission


async def start_run(
    conn: asyncpg.Connection,
    starter: RunStarter,
    limits: RunLimits,
    actor: Actor,
    tenant_id: UUID,
    pipeline_id: UUID,
    kind: RunKind,
    progress: dict[str, Any],
    *,
    from_row: int | None = None,
    to_row: int | None = None,
    rows: tuple[int, ...] | None = None,
) -> StartedRun:
    opened = await open_run(conn, tenant_id, pipeline_id, kind, progress, actor, limits)
    if opened.run_id is None:
        return StartedRun(None, opened.admission)
    request = RunRequest(tenant_id, pipeline_id, opened.run_id, kind, from_row, to_row, rows)
    workflow_id = await starter.start(request)
    if workflow_id:
        await repo.set_workflow(conn, tenant_id, opened.run_id, workflow_id)
    return StartedRun(opened.run_id, opened.admission)
