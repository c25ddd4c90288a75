"""Planning activities: read the plan, plan one row's sub-topics, write cells back, record status.

Thin shells over ``icop.planning``; the SQL they add lives in ``workflows.repository``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Protocol
from uuid import UUID

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from icop.connectors.errors import ProviderError
from icop.connectors.sheets import SheetsClient
from icop.db import tenant_tx
from icop.google.access import sheet_missing
from icop.modelkeys.rules import own_key_providers
from icop.planning import files, notes
from icop.planning import repository as planning_repo
from icop.planning.feedback import SheetFeedback, Write
from icop.planning.file_sheet import FileSheet
from icop.planning.plan import PlanRow, safe_cell
from icop.planning.service import SubtopicPlanner
from icop.planning.sheet_io import PlanSheet
from icop.research.types import failure_policy, provider_choice
from icop.storage import ObjectStore, plan_kind_of_key

from .. import repository
from ..types import (
    PipelineConfig,
    PlanRowInput,
    PlanSnapshot,
    ReadPlanInput,
    RowSpec,
    RowStatusInput,
    RunStatusInput,
    SheetCells,
    SheetWriteInput,
    SubtopicRef,
    TargetSpec,
)
from .errors import mapped_errors
from .heartbeat import with_heartbeats

log = logging.getLogger(__name__)
NOTHING = ["", "", ""]  # a row's status, result and note before anything was written
GRIDS_KEPT = 16  # plan files' grids kept per worker


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
    """Built with the pool, the tenants' Sheets access, the sub-topic planner (LLM expansion +
    TopicClusterer) and the object store (uploaded plan files)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        sheets: SheetsSource,
        planner: SubtopicPlanner,
        store: ObjectStore,
        default_language: str = "en",
        feedback: SheetFeedback | None = None,
    ) -> None:
        self.pool, self.sheets, self.planner, self.store = pool, sheets, planner, store
        self.default_language = default_language
        self.feedback = feedback or SheetFeedback()
        self._grids: dict[str, files.Grid] = {}

    async def _book(
        self, tenant: UUID, pipeline_id: UUID, config: PipelineConfig
    ) -> tuple[SheetsClient, str]:
        """The plan to read and write, and its id: the tenant's Google Sheet as its own Google identity
        (only a sheet bound to the tenant), or the pipeline's uploaded file."""
        if config.source_kind == "sheet":
            async with tenant_tx(self.pool, tenant) as conn:
                if not await repository.sheet_is_bound(conn, tenant, config.sheet_id):
                    raise _not_bound()
            return await self.sheets.sheets_for(tenant), config.sheet_id
        key = config.plan_key
        if plan_kind_of_key(tenant, key) != config.source_kind:
            raise ApplicationError(
                "the pipeline's plan file is not one this tenant uploaded; upload it again (POST /v1/plans)",
                type="InvalidPlan",
                non_retryable=True,
            )
        return FileSheet(self.pool, tenant, pipeline_id, key, await self._grid(config.source_kind, key)), key

    async def _grid(self, kind: str, key: str) -> files.Grid:
        """A plan file's grid; files are content-addressed, so a grid read once stays right."""
        grid = self._grids.get(key)
        if grid is None:
            data = await asyncio.to_thread(self.store.get, key)
            try:
                grid = files.read(kind, data)
            except files.PlanFileError as e:
                raise ApplicationError(str(e), type="InvalidPlan", non_retryable=True) from None
            self._grids[key] = grid
            while len(self._grids) > GRIDS_KEPT:
                self._grids.pop(next(iter(self._grids)))
        return grid

    @activity.defn(name="read_plan")
    async def read_plan(self, inp: ReadPlanInput) -> PlanSnapshot:
        """The pipeline's settings and its pending rows; invalid rows are reported (sheet + run_rows)."""
        tenant, pipeline = UUID(inp.tenant_id), UUID(inp.pipeline_id)
        with mapped_errors():
            async with tenant_tx(self.pool, tenant) as conn:
                p = await repository.pipeline_config(conn, tenant, pipeline)
            if p is None:
                raise ApplicationError(
                    f"pipeline {inp.pipeline_id} does not exist for this tenant",
                    type="NotFound",
                    non_retryable=True,
                )
            config = _config(p, self.default_language)
            client, book = await self._book(tenant, pipeline, config)
            try:
                snap = await PlanSheet(client, book, config.sheet_range).snapshot(
                    config.default_language, config.note_column
                )
            except ProviderError as e:
                missing = sheet_missing(e, book)
                if missing is None:
                    raise
                raise missing from None
            plan = snap.plan
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
                    await planning_repo.set_rows_invalid(conn, tenant, run, plan.problems)
                by_row: dict[int, list[str]] = {}
                for pr in plan.problems:
                    by_row.setdefault(pr.row_number, []).append(str(pr))
                for n, reasons in sorted(by_row.items()):
                    cells = row_cells(
                        config,
                        n,
                        snap.written.get(n),
                        f"error: {reasons[0]}",
                        "",
                        notes.invalid("; ".join(reasons)),
                    )
                    await self._write(tenant, run, n, client, book, cells)
        return PlanSnapshot(
            config,
            [
                RowSpec(
                    r.row_number, r.topic, r.notes, r.language, snap.written.get(r.row_number, ["", "", ""])
                )
                for r in in_range
            ],
            len(plan.problems),
            snap.next_subtopic_row,
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
        """The row's cells into the plan (RAW; no value can become a formula), never over a cell someone
        edited after the run read it: those are left and recorded on the run's row. Writes of one worker to
        the same plan are merged into one ``batchGet`` + ``batchUpdate`` (``icop.planning.feedback``).
        Idempotent. Only into the run's tenant's own plan."""
        if not inp.cells:
            return 0
        tenant = UUID(inp.tenant_id)
        with mapped_errors():
            client, book = await self._book(tenant, UUID(inp.pipeline_id), inp.config)
            return await self._write(tenant, UUID(inp.run_id), inp.row_number, client, book, inp.cells)

    async def _write(
        self,
        tenant: UUID,
        run: UUID,
        row_number: int,
        client: SheetsClient,
        book: str,
        cells: list[SheetCells],
    ) -> int:
        writes = [
            Write(c.range, [[safe_cell(str(v)) for v in row] for row in c.values], c.expected) for c in cells
        ]
        out = await self.feedback.write((tenant, book), client, book, writes)
        if out.kept:
            log.warning("plan row %s: %s", row_number, "; ".join(map(str, out.kept)))
            async with tenant_tx(self.pool, tenant) as conn:
                await planning_repo.set_kept_cells(conn, tenant, run, row_number, [k.cell for k in out.kept])
        return out.updated

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
                code=inp.reason_code,
            )

    def all(self) -> list[Callable[..., object]]:
        return [self.read_plan, self.plan_row, self.write_sheet, self.set_run_status, self.set_row_status]


def _config(p: asyncpg.Record, default_language: str) -> PipelineConfig:
    extra = p["settings"] or {}
    targets = [TargetSpec(str(t["platform"]), str(t["account_id"])) for t in (p["targets"] or [])]
    return PipelineConfig(
        sheet_id=p["sheet_id"] or "",
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
        source_kind=str(p["source_kind"]),
        plan_key=str(p["plan_object_key"] or ""),
        note_column=notes.check_note_column(extra.get("status_note_column", notes.DEFAULT_NOTE_COLUMN)),
        learn_times=bool(p["learn_times"]),
        own_keys=own_key_providers(p["model_keys"]),
    )


def subtopic_cells(row_number: int, topic: str, subtopic: str, status: str, url: str) -> list[str]:
    """A row of the Subtopics tab: main row, main topic, sub-topic, status, article link."""
    return [safe_cell(v) for v in (str(row_number), topic, subtopic, status, url)]


def row_cells(
    config: PipelineConfig, row: int, written: list[str] | None, status: str, result: str, note: str
) -> list[SheetCells]:
    """A plan row's status and result (columns D:E) and its note (the pipeline's note column), each
    expecting what the run read or last wrote there (``written``: status, result, note)."""
    was = written or ["", "", ""]
    status, result, note = safe_cell(status), safe_cell(result), safe_cell(note)
    tab = config.sheet_range.split("!")[0]
    cells = [SheetCells(f"{tab}!D{row}:E{row}", [[status, result]], [[was[0], was[1]]])]
    if config.note_column:
        c = config.note_column
        cells.append(SheetCells(f"{tab}!{c}{row}", [[note]], [[was[2]]]))
    return cells
