"""Planning a whole sheet: read, validate, plan every pending row, write back once per batch.

Plain async code: the demo calls it directly; the Temporal TopicWorkflow calls the same pieces as
activities. A bad row is reported (in the sheet and in ``run_rows``) and skipped; the rest go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from icop.db import tenant_tx

from . import repository
from .plan import ROW_PLANNING_FAILED, PlanRow, RowProblem, status_updates, subtopic_updates
from .service import StoredSubtopic, SubtopicPlanner
from .sheet_io import PlanSheet

log = logging.getLogger(__name__)


@dataclass
class RowOutcome:
    row: PlanRow
    subtopics: list[StoredSubtopic] = field(default_factory=list)
    error: str | None = None


@dataclass
class SheetPlanReport:
    outcomes: list[RowOutcome]
    problems: list[RowProblem]
    batch_updates: int


async def plan_sheet(
    pool: asyncpg.Pool, sheet: PlanSheet, planner: SubtopicPlanner, tenant_id: UUID, *,
    want: int, run_id: UUID | None = None, pipeline_id: UUID | None = None, batch_size: int = 10,
    progress: Callable[[RowOutcome], None] | None = None,
) -> SheetPlanReport:  # fmt: skip
    plan = await sheet.read()
    if run_id is not None:
        async with tenant_tx(pool, tenant_id) as conn:
            await repository.set_rows_invalid(conn, tenant_id, run_id, plan.problems)
    next_sub_row = await sheet.next_subtopic_row()
    problem_status = {p.row_number: (f"error: {p}", "") for p in plan.problems}
    outcomes: list[RowOutcome] = []
    writes = 0
    pending = plan.pending
    for start in range(0, max(len(pending), 1), batch_size):
        batch = pending[start : start + batch_size]
        statuses: dict[int, tuple[str, str]] = dict(problem_status) if start == 0 else {}
        sub_rows: list[tuple[int, str, str, str, str]] = []
        for row in batch:
            outcome = RowOutcome(row)
            try:
                outcome.subtopics = await planner.plan_row(tenant_id, row, want, pipeline_id=pipeline_id,
                                                           run_id=run_id)  # fmt: skip
                statuses[row.row_number] = ("planned", f"{len(outcome.subtopics)} sub-topics")
                sub_rows += [(row.row_number, row.topic, s.label, "planned", "") for s in outcome.subtopics]
            except Exception as e:  # one row's failure must not stop the batch
                log.exception("planning row %d failed", row.row_number)
                outcome.error = f"{type(e).__name__}: {e}"[:300]
                statuses[row.row_number] = (f"error: {outcome.error}; set status to 'retry' to try again", "")
            if run_id is not None:
                async with tenant_tx(pool, tenant_id) as conn:
                    await repository.set_row_status(
                        conn, tenant_id, run_id, row.row_number, row.topic, row.language,
                        "failed" if outcome.error else "planned", outcome.error,
                        code=ROW_PLANNING_FAILED,
                    )  # fmt: skip
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        updates = status_updates(statuses) + subtopic_updates(next_sub_row, sub_rows)
        next_sub_row += len(sub_rows)
        if updates:
            await sheet.write(updates)  # one values.batchUpdate per batch
            writes += 1
    return SheetPlanReport(outcomes, plan.problems, writes)
