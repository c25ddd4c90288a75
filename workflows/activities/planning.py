"""Planning activities: read the plan, plan one row's sub-topics, write cells back, record status.

Thin shells over ``icop.planning``; the SQL they add lives in ``workflows.repository``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Protocol
from uuid import UUID

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from icop.connectors.sheets import SheetsClient, ValueRange
from icop.db import tenant_tx
from icop.planning import repository as planning_repo
from icop.planning.plan import PlanRow, safe_cell, status_updates
from icop.planning.service import SubtopicPlanner
from icop.planning.sheet_io import PlanSheet
from icop.research.types import failure_policy, provider_choice

from .. import repository
from ..types import (
    PipelineConfig,
    PlanRowInput,
    PlanSnapshot,
    ReadPlanInput,
    RowSpec,
    RowStatusInput,
    RunStatusInput,
    SheetWriteInput,
    SubtopicRef,
    TargetSpec,
)
from .errors import mapped_errors
from .heartbeat import with_heartbeats


def _not_bound() -> ApplicationError:
    return ApplicationError(
        "this sheet is connected to another account; the run may neither read nor write it",
        type="SheetNotBound",
        non_retryable=True,
    )


class SheetsSource(Protocol):
    """Sheets clients acting as each tenant's own Google account (``icop.google.access.GoogleAccess``)."""

    async def sheets_for(self, tenant_id: UUID) -> SheetsClient: ...


class PlanningActivities:
    """Built with the pool, the tenants' Sheets access and the sub-topic planner (LLM expansion +
    TopicClusterer)."""

    def __init__(
        self, pool: asyncpg.Pool, sheets: SheetsSource, planner: SubtopicPlanner, default_language: str = "en"
    ) -> None:
        self.pool, self.sheets, self.planner, self.default_language = pool, sheets, planner, default_language

    @activity.defn(name="read_plan")
    async def read_plan(self, inp: ReadPlanInput) -> PlanSnapshot:
        """The pipeline's settings and its pending rows; invalid rows are reported (sheet + run_rows)."""
        tenant = UUID(inp.tenant_id)
        with mapped_errors():
            async with tenant_tx(self.pool, tenant) as conn:
                p = await repository.pipeline_config(conn, tenant, UUID(inp.pipeline_id))
                bound = (
                    p is None
                    or p["sheet_id"] is None
                    or await repository.sheet_is_bound(conn, tenant, p["sheet_id"])
                )
            if not bound:
                raise _not_bound()
            if p is None:
                raise ApplicationError(
                    f"pipeline {inp.pipeline_id} does not exist for this tenant",
                    type="NotFound",
                    non_retryable=True,
                )
            if p["source_kind"] != "sheet":
                raise ApplicationError(
                    "only sheet pipelines run through the orchestrator for now",
                    type="Unsupported",
                    non_retryable=True,
                )
            config = _config(p, self.default_language)
            sheet = PlanSheet(await self.sheets.sheets_for(tenant), config.sheet_id, config.sheet_range)
            plan = await sheet.read(config.default_language)
            next_row = await sheet.next_subtopic_row()
            if inp.rows is not None:  # a retry: the given rows, when pending or failed (never done ones)
                wanted = set(inp.rows)
                in_range = [
                    r
                    for r in plan.rows
                    if r.row_number in wanted
                    and (r in plan.pending or r.status.strip().lower().startswith("error"))
                ]
            else:
                in_range = [
                    r
                    for r in plan.pending
                    if (inp.from_row is None or r.row_number >= inp.from_row)
                    and (inp.to_row is None or r.row_number <= inp.to_row)
                ]
            if plan.problems:
                run = UUID(inp.run_id)
                async with tenant_tx(self.pool, tenant) as conn:
                    for pr in plan.problems:
                        await planning_repo.set_row_status(
                            conn, tenant, run, pr.row_number, "", None, "invalid", str(pr)
                        )
                await sheet.write(
                    status_updates({pr.row_number: (f"error: {pr}", "") for pr in plan.problems})
                )
        return PlanSnapshot(
            config,
            [RowSpec(r.row_number, r.topic, r.notes, r.language) for r in in_range],
            len(plan.problems),
            next_row,
        )

    @activity.defn(name="plan_row")
    async def plan_row(self, inp: PlanRowInput) -> list[SubtopicRef]:
        """Sub-topics for one row, stored once: a retry after a crash returns what the first attempt
        stored."""
        tenant, run = UUID(inp.tenant_id), UUID(inp.run_id)
        with mapped_errors():
            async with tenant_tx(self.pool, tenant) as conn:
                done = await repository.run_subtopics(conn, tenant, run, inp.row.row_number)
            if done:
                return [SubtopicRef(str(r["id"]), r["label"]) for r in done]
            row = PlanRow(inp.row.row_number, inp.row.topic, inp.row.notes, inp.row.language, "")
            stored = await with_heartbeats(
                self.planner.plan_row(tenant, row, inp.want, pipeline_id=UUID(inp.pipeline_id), run_id=run)
            )
        return [SubtopicRef(str(s.id), s.label) for s in stored]

    @activity.defn(name="write_sheet")
    async def write_sheet(self, inp: SheetWriteInput) -> int:
        """One ``values.batchUpdate`` with every range (RAW; no value can become a formula). Idempotent.

        Only into a sheet bound to the run's tenant: never into another tenant's plan."""
        if not inp.cells:
            return 0
        tenant = UUID(inp.tenant_id)
        async with tenant_tx(self.pool, tenant) as conn:
            if not await repository.sheet_is_bound(conn, tenant, inp.sheet_id):
                raise _not_bound()
        data = [
            ValueRange(c.range, [[safe_cell(str(v)) for v in row] for row in c.values]) for c in inp.cells
        ]
        with mapped_errors():
            client = await self.sheets.sheets_for(tenant)
            result = await client.batch_update(inp.sheet_id, data, "RAW")
        return result.updated_cells

    # -- short database steps: local activities -------------------------------------------------------

    @activity.defn(name="set_run_status")
    async def set_run_status(self, inp: RunStatusInput) -> None:
        tenant = UUID(inp.tenant_id)
        async with tenant_tx(self.pool, tenant) as conn:
            await repository.set_run_status(
                conn, tenant, UUID(inp.run_id), inp.status, asdict(inp.progress), inp.error
            )

    @activity.defn(name="set_row_status")
    async def set_row_status(self, inp: RowStatusInput) -> None:
        tenant = UUID(inp.tenant_id)
        async with tenant_tx(self.pool, tenant) as conn:
            await planning_repo.set_row_status(
                conn,
                tenant,
                UUID(inp.run_id),
                inp.row_number,
                inp.topic,
                inp.language,
                inp.status,
                inp.reason,
            )

    def all(self) -> list[Callable[..., object]]:
        return [self.read_plan, self.plan_row, self.write_sheet, self.set_run_status, self.set_row_status]


def _config(p: asyncpg.Record, default_language: str) -> PipelineConfig:
    extra = p["settings"] or {}
    targets = [TargetSpec(str(t["platform"]), str(t["account_id"])) for t in (p["targets"] or [])]
    return PipelineConfig(
        sheet_id=p["sheet_id"],
        sheet_range=p["sheet_range"],
        mode=p["mode"],
        writers=list(p["writers"]),
        image_provider=p["image_provider"],
        targets=targets,
        approval_required=bool(p["approval_required"]),
        dry_run=bool(p["dry_run"]),
        subtopics_per_topic=int(p["subtopics_per_topic"]),
        default_language=str(extra.get("default_language") or default_language),
        images_per_article=int(extra.get("images_per_article", 1)),
        search_provider=str(provider_choice(extra.get("search_provider")) or ""),
        on_research_failure=str(failure_policy(extra.get("on_research_failure")) or ""),
    )
