"""Content plans as files (CSV or XLSX): checked like a sheet (same columns, same rules), stored
content-addressed; a file pipeline's plan served back with what its runs wrote filled in."""

from __future__ import annotations

import asyncio
import hashlib
from uuid import UUID

from icop.errors import InvalidRequest, NotFound
from icop.planning import files
from icop.planning import repository as planning_repo
from icop.planning.plan import FIRST_ROW, PLAN_TAB, ParsedPlan, PreviewRow, RowProblem, preview
from icop.storage import ObjectStore, plan_key

from ..context import Tx
from .schemas import PlanCheck, PlanPreviewRow, PlanRowProblem, PlanUpload

MAX_BYTES = files.MAX_BYTES


def check(plan: ParsedPlan, shown: list[PreviewRow]) -> PlanCheck:
    """What a tenant sees before creating a pipeline: counts, every problem, the first rows."""
    return PlanCheck(
        rows=len(plan.rows),
        pending=len(plan.pending),
        problems=[_problem(p) for p in plan.problems],
        preview=[
            PlanPreviewRow(
                row_number=r.row_number, topic=r.topic, notes=r.notes, language=r.language, status=r.status,
                problems=[_problem(p) for p in r.problems],
            )
            for r in shown
        ],
    )  # fmt: skip


def _problem(p: RowProblem) -> PlanRowProblem:
    return PlanRowProblem(
        row_number=p.row_number, column=p.column, reason=p.reason, code=p.code, params=p.params
    )


async def upload(store: ObjectStore, tenant_id: object, data: bytes) -> PlanUpload:
    if len(data) > MAX_BYTES:
        raise InvalidRequest(
            f"the plan is {len(data)} bytes; the limit is {MAX_BYTES} (split it into several plans)",
            code="plan_file.too_large",
            params={"bytes": len(data), "limit": MAX_BYTES},
        )
    kind = files.kind_of(data)
    try:
        grid = await asyncio.to_thread(files.read, kind, data)
    except files.PlanFileError as e:
        raise InvalidRequest(str(e), code=e.code, params=e.params) from None
    plan, shown = preview(grid[PLAN_TAB][FIRST_ROW - 1 :])
    if not plan.rows:
        detail = "; ".join(str(p) for p in plan.problems[:5]) or "the file has no rows"
        raise InvalidRequest(f"the plan has no valid row: {detail}", code="plan_file.no_valid_row")
    key = plan_key(tenant_id, hashlib.sha256(data).hexdigest(), kind)
    await asyncio.to_thread(store.put, key, data, files.MEDIA_TYPES[kind], if_absent=True)
    return PlanUpload(
        **check(plan, shown).model_dump(),
        plan_object_key=key,
        source_kind="xlsx" if kind == "xlsx" else "csv",
    )


async def download(tx: Tx, pipeline_id: UUID, tab: str) -> tuple[bytes, str, str]:
    """A file pipeline's plan with its runs' cells filled in: (content, media type, file name)."""
    row = await tx.conn.fetchrow(
        "SELECT source_kind, plan_object_key FROM content_pipelines WHERE tenant_id = $1 AND id = $2",
        tx.tenant_id, pipeline_id,
    )  # fmt: skip
    if row is None:
        raise NotFound("no such pipeline")
    kind, key = row["source_kind"], row["plan_object_key"]
    if kind == "sheet" or not key:
        raise InvalidRequest(
            "this pipeline's plan is a Google Sheet: its statuses are in the sheet itself",
            code="plan_file.is_sheet",
        )
    cells = await planning_repo.plan_cells(tx.conn, tx.tenant_id, pipeline_id, key)
    data = await asyncio.to_thread(tx.services.store.get, key)
    content = await asyncio.to_thread(files.render, kind, data, cells, tab)
    name = f"plan-{pipeline_id}" + (f"-{tab.lower()}" if kind == "csv" and tab != PLAN_TAB else "")
    return content, files.MEDIA_TYPES[kind], f"{name}.{kind}"
