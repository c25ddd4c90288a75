"""Reading the plan from a Google Sheet and writing statuses and sub-topics back: one
``values.batchUpdate`` per batch, never a call per cell, always with ``valueInputOption=RAW``."""

from __future__ import annotations

from icop.connectors.sheets import SheetsClient, UpdateResult, ValueRange

from .plan import PLAN_RANGE, SUBTOPIC_TAB, CellUpdate, ParsedPlan, parse_rows


class PlanSheet:
    def __init__(self, client: SheetsClient, spreadsheet_id: str, plan_range: str = PLAN_RANGE) -> None:
        self.client, self.spreadsheet_id, self.plan_range = client, spreadsheet_id, plan_range

    async def read(self, default_language: str = "en") -> ParsedPlan:
        values = await self.client.get_values(self.spreadsheet_id, self.plan_range)
        first_row = _first_row(self.plan_range)
        return parse_rows(values, default_language, first_row)

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
