"""A run's feedback in the tenant's sheet, through the real Sheets client as the tenant's own Google account
against the Sheets emulator: a cell someone edited after the run read it is never overwritten (left, and
recorded on the run's row), concurrent writes of one worker are merged into one batchGet + batchUpdate,
and the Sheets API's per-minute quota is met with backoff, losing nothing."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from cluster.sheet_pipeline import make_pipeline
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.planning.feedback import SheetFeedback, Write, write_guarded
from icop.settings import Settings
from tests.google.test_identity import ROWS, access_for, read_plan
from workflows.activities.planning import PlanningActivities, row_cells
from workflows.types import SheetWriteInput


async def test_a_cell_edited_after_the_run_read_it_is_left_and_reported(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    p = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    acts = PlanningActivities(app_pool, access_for(settings, app_pool), planner=None, store=None)  # type: ignore[arg-type]
    snap = await read_plan(acts, p)
    row2, row3 = snap.pending
    assert row2.written == ["", "", ""]  # what the run read: D, E and the note (F) are blank
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        for n in (2, 3):
            await conn.execute(
                "INSERT INTO run_rows (tenant_id, run_id, row_number, status) VALUES ($1, $2, $3, 'writing')",
                p.tenant_id, p.run_id, n,
            )  # fmt: skip

    # The user types into row 2's status after the run read it (and leaves row 3 alone).
    book = admin.read_sheet(p.sheet_id)
    book["ContentPlan"][1] = [*book["ContentPlan"][1][:3], "on hold — do not publish"]
    admin.seed_sheet(p.sheet_id, book, owner=_owner(p.tenant_id))

    def write(row: int, written: list[str]) -> SheetWriteInput:
        cells = row_cells(snap.config, row, written, "writing", "2 sub-topics", "planned")
        return SheetWriteInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id), row, snap.config, cells)

    assert await acts.write_sheet(write(2, row2.written)) == 2  # E and F written, D left
    assert await acts.write_sheet(write(3, row3.written)) == 3
    plan = admin.read_sheet(p.sheet_id)["ContentPlan"]
    assert plan[1][3:6] == ["on hold — do not publish", "2 sub-topics", "planned"]
    assert plan[2][3:6] == ["writing", "2 sub-topics", "planned"]
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        kept = dict(
            await conn.fetch("SELECT row_number, kept_cells FROM run_rows WHERE run_id = $1", p.run_id)
        )
    assert kept == {2: ["ContentPlan!D2"], 3: []}

    # The same write again (an activity retried after its write landed) changes and reports nothing new.
    assert await acts.write_sheet(write(3, row3.written)) == 0
    # The run's next write expects what it wrote last: row 3 goes on; row 2's edit is still left alone.
    later = row_cells(snap.config, 2, ["writing", "2 sub-topics", "planned"], "done", "x", "finished")
    await acts.write_sheet(
        SheetWriteInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id), 2, snap.config, later)
    )
    assert admin.read_sheet(p.sheet_id)["ContentPlan"][1][3:6] == [
        "on hold — do not publish",
        "x",
        "finished",
    ]


async def test_a_worker_merges_its_writes_and_meets_the_quota_with_backoff(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    """Forty rows' writes at once from one worker: a handful of batchGet + batchUpdate pairs, not forty;
    with the per-user quota cut to 4 requests in 2 s (a minute, shortened) the emulator refuses some, the
    client backs off, and every cell lands."""
    rows = [[f"Topic {i}", "", "en", ""] for i in range(40)]
    p = await make_pipeline(app_pool, admin, rows, settings=settings)
    client = await access_for(settings, app_pool).sheets_for(p.tenant_id)
    since = admin.last_seq()
    feedback = SheetFeedback(min_interval_s=0.2)
    writes = [
        [Write(f"ContentPlan!D{n}:E{n}", [["done", f"https://a.example/{n}"]], [["", ""]])]
        for n in range(2, 42)
    ]
    outcomes = await asyncio.gather(*(feedback.write("t", client, p.sheet_id, w) for w in writes))
    assert [o.updated for o in outcomes] == [2] * 40 and not any(o.kept for o in outcomes)
    calls = admin.requests("sheets", since=since)
    assert 2 <= len(calls) <= 8, len(calls)  # one read + one write per merged batch

    before = admin.sheets_quota()["refused"]
    admin.sheets_quota(per_user=4, window_s=2)
    try:
        patient = settings.model_copy(update={"provider_max_attempts": 8})
        slow_client = await access_for(patient, app_pool).sheets_for(p.tenant_id)
        for n in range(2, 6):  # a read and a write each: 8 requests where 4 per window are allowed
            [out] = await write_guarded(
                slow_client, p.sheet_id, [[Write(f"ContentPlan!D{n}", [["again"]], [["done"]])]]
            )
            assert out.updated == 1
    finally:
        admin.sheets_quota(per_user=60, window_s=60)
    assert admin.sheets_quota()["refused"] > before
    plan = admin.read_sheet(p.sheet_id)["ContentPlan"]
    assert [r[3] for r in plan[1:5]] == ["again"] * 4 and all(r[3] == "done" for r in plan[5:41])


def _owner(tenant_id: uuid.UUID) -> str:
    from cluster.sheet_pipeline import google_email

    return google_email(tenant_id)
