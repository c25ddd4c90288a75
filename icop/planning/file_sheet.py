"""A pipeline's uploaded plan file as a :class:`icop.connectors.sheets.SheetsClient`: runs read and write it
exactly as they do a Google Sheet. Reads lay the cells runs wrote (``plan_cells``) over the file's grid;
writes go to ``plan_cells``, one statement per ``batchUpdate``."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from icop.connectors.sheets import UpdateResult, ValueRange
from icop.db import tenant_tx

from . import a1, repository
from .files import Grid, values


class FileSheet:
    def __init__(self, pool: asyncpg.Pool, tenant_id: UUID, pipeline_id: UUID, key: str, grid: Grid) -> None:
        self.pool, self.tenant_id, self.pipeline_id, self.key, self.grid = (
            pool, tenant_id, pipeline_id, key, grid,
        )  # fmt: skip

    async def _cells(self) -> dict[tuple[str, int, int], str]:
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            return await repository.plan_cells(conn, self.tenant_id, self.pipeline_id, self.key)

    async def get_values(self, spreadsheet_id: str, range_: str) -> list[list[str]]:
        return (await self.batch_get(spreadsheet_id, [range_]))[0]

    async def batch_get(self, spreadsheet_id: str, ranges: list[str]) -> list[list[list[str]]]:
        cells = await self._cells()
        out = []
        for text in ranges:
            r = a1.parse(text)
            out.append(values(self.grid, cells, r.tab, r.row0, r.col0, r.row1, r.col1))
        return out

    async def batch_update(
        self,
        spreadsheet_id: str,
        data: list[ValueRange],
        value_input_option: Literal["RAW", "USER_ENTERED"] = "RAW",
    ) -> UpdateResult:
        cells: list[tuple[str, int, int, str]] = []
        for vr in data:
            r = a1.parse(vr.range)
            for i, row in enumerate(vr.values):
                for j, v in enumerate(row):
                    cells.append((r.tab, r.row0 + i, r.col0 + j, "" if v is None else str(v)))
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            await repository.put_plan_cells(conn, self.tenant_id, self.pipeline_id, self.key, cells)
        return UpdateResult(len(cells), [vr.range for vr in data])
