"""Reading the plan from a Google Sheet and writing statuses and sub-topics back: one
``values.batchUpdate`` per batch, never a call per cell, always with ``valueInputOption=RAW``."""

from __future__ import annotations

from dataclasses import dataclass

from icop.connectors.sheets import SheetsClient, UpdateResult, ValueRange

from . import a1
from .plan import PLAN_RANGE, SUBTOPIC_TAB, CellUpdate, ParsedPlan, parse_rows

STATUS_COL, RESULT_COL = 4, 5  # D, E


@dataclass(frozen=True)
class Snapshot:
    plan: ParsedPlan
    written: dict[int, list[str]]
    """Each row's status, result and note cells as read (the note "" when there is no note column)."""
    next_subtopic_row: int


class PlanSheet:
    def __init__(self, client: SheetsClient, spreadsheet_id: str, plan_range: str = PLAN_RANGE) -> None:
        self.client, self.spreadsheet_id, self.plan_range = client, spreadsheet_id, plan_range

    async def read(self, default_language: str = "en") -> ParsedPlan:
        values = await self.client.get_values(self.spreadsheet_id, self.plan_range)
        first_row = _first_row(self.plan_range)
        return parse_rows(values, default_language, first_row)

    async def snapshot(self, default_language: str = "en", note_column: str = "") -> Snapshot:
        """The plan, what the run may write over, and the Subtopics tab's first free row: one
        ``values.batchGet``."""
        r = a1.parse(self.plan_range)
        note = a1.col_number(note_column) if note_column else 0
        last = max(r.col1, RESULT_COL, note)
        wide = f"{a1.quote_tab(r.tab)}!{a1.col_letters(r.col0)}{r.row0}:{a1.col_letters(last)}"
        if r.row1 < a1.MAX_ROW:
            wide += str(r.row1)
        values, subtopics = await self.client.batch_get(self.spreadsheet_id, [wide, f"{SUBTOPIC_TAB}!A2:A"])
        plan = parse_rows([row[: r.col1 - r.col0 + 1] for row in values], default_language, r.row0)

        def at(row: list[str], col: int) -> str:
            i = col - r.col0
            return row[i] if col and 0 <= i < len(row) else ""

        written = {
            r.row0 + i: [at(row, STATUS_COL), at(row, RESULT_COL), at(row, note)]
            for i, row in enumerate(values)
        }
        return Snapshot(plan, written, 2 + len(subtopics))

    async def next_subtopic_row(self) -> int:
        """The first empty row of the Subtopics tab (row 1 holds its header)."""
        values = await self.client.get_values(self.spreadsheet_id, f"{SUBTOPIC_TAB}!A2:A")
        return 2 + len(values)

    async def write(self, updates: list[CellUpdate]) -> UpdateResult | None:
        """All updates of one batch in one call."""
        if not updates:
            return None
        data = [ValueRange(u.range, u.values) for u in updates]
        return await self.client.batch_update(self.spreadsheet_id, data, "RAW")


def _first_row(a1: str) -> int:
    import re

    m = re.search(r"![A-Z]+(\d+)", a1)
    return int(m.group(1)) if m else 1
