"""Writing a run's feedback into the tenant's plan without overwriting the tenant.

Every write names what the run believes its cells hold now: what it read, or what it last wrote there.
Before writing, the cells are read again (one ``values.batchGet``); a cell whose value is neither that nor
already the new value was edited by someone after the run read it, and is left as it is and reported
(:class:`Kept`). The rest is written in one ``values.batchUpdate`` (RAW).

:class:`SheetFeedback` merges the writes of one worker for the same spreadsheet that arrive while one is
on its way, and spaces them out: one read and one write per spreadsheet per ``min_interval_s`` at most
(1.1 s: 55 of each a minute, under the Sheets API's per-user quotas of 60 reads and 60 writes a minute,
with room for the run's plan reads). Several workers writing one tenant's sheets can still meet the quota:
the 429 gets the client's backoff, then the activity's retries (``workflows.policies.SHEETS``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, field

from icop.connectors.sheets import SheetsClient, ValueRange

from . import a1

MAX_WRITES_PER_BATCH = 200  # callers' writes merged into one batchGet + batchUpdate


@dataclass(frozen=True)
class Write:
    range: str  # a rectangle on one tab, e.g. "ContentPlan!D7:F7"
    values: list[list[str]]
    expected: list[list[str]]  # the same shape: what the run believes the cells hold now


@dataclass(frozen=True)
class Kept:
    """A cell left as someone edited it after the run read it."""

    cell: str  # A1, e.g. "ContentPlan!D7"
    expected: str
    found: str
    wanted: str

    def __str__(self) -> str:
        return (
            f"{self.cell} was changed to {self.found!r} after the run read {self.expected!r}; "
            f"it was left as it is (the run would have written {self.wanted!r})"
        )


@dataclass
class Outcome:
    updated: int = 0
    kept: list[Kept] = field(default_factory=list)


def _cells(w: Write) -> list[tuple[str, int, int, str, str]]:
    r = a1.parse(w.range)
    out = []
    for i, row in enumerate(w.values):
        for j, value in enumerate(row):
            exp = w.expected[i][j] if i < len(w.expected) and j < len(w.expected[i]) else ""
            out.append((r.tab, r.row0 + i, r.col0 + j, str(value), str(exp)))
    return out


def _ranges(writes: dict[tuple[str, int, int], str]) -> list[ValueRange]:
    """The cells to write as few rectangles: runs of adjacent columns on one row."""
    out: list[ValueRange] = []
    run: list[tuple[str, int, int, str]] = []
    for (tab, row, col), v in sorted(writes.items()):
        if run and not (run[-1][0] == tab and run[-1][1] == row and run[-1][2] == col - 1):
            out.append(_range(run))
            run = []
        run.append((tab, row, col, v))
    if run:
        out.append(_range(run))
    return out


def _range(run: list[tuple[str, int, int, str]]) -> ValueRange:
    tab, row, c0, _ = run[0]
    return ValueRange(a1.render(tab, row, c0, row, run[-1][2]), [[v for *_, v in run]])


async def write_guarded(client: SheetsClient, sheet_id: str, batches: list[list[Write]]) -> list[Outcome]:
    """Several callers' writes, in order, with one read and one write: an :class:`Outcome` per caller.

    A later write of the same cell sees an earlier one's value as the cell's value (a run's "writing" then
    "done" in one batch)."""
    flat = [w for ws in batches for w in ws]
    if not flat:
        return [Outcome() for _ in batches]
    read = await client.batch_get(sheet_id, [w.range for w in flat])
    now: dict[tuple[str, int, int], str] = {}
    for w, grid in zip(flat, read, strict=True):
        r = a1.parse(w.range)
        for i in range(r.row1 - r.row0 + 1):
            line = grid[i] if i < len(grid) else []
            for j in range(r.col1 - r.col0 + 1):
                now[(r.tab, r.row0 + i, r.col0 + j)] = line[j] if j < len(line) else ""
    writes: dict[tuple[str, int, int], str] = {}
    outcomes = []
    for ws in batches:
        out = Outcome()
        for w in ws:
            for tab, row, col, value, expected in _cells(w):
                key = (tab, row, col)
                have = now[key]
                if have == value:
                    continue  # already so (an earlier attempt of this write landed)
                if have != expected:
                    out.kept.append(Kept(a1.render(tab, row, col, row, col), expected, have, value))
                    continue
                now[key] = writes[key] = value
                out.updated += 1
        outcomes.append(out)
    if writes:
        await client.batch_update(sheet_id, _ranges(writes), "RAW")
    return outcomes


@dataclass
class _Queue:
    pending: list[tuple[list[Write], asyncio.Future[Outcome]]] = field(default_factory=list)
    last: float = float("-inf")
    task: asyncio.Task[None] | None = None


class SheetFeedback:
    """One per worker process: writes for the same key (tenant and spreadsheet) are merged and paced."""

    def __init__(self, min_interval_s: float = 1.1) -> None:
        self.min_interval_s = min_interval_s
        self._queues: dict[Hashable, _Queue] = {}

    async def write(self, key: Hashable, client: SheetsClient, sheet_id: str, writes: list[Write]) -> Outcome:
        loop = asyncio.get_running_loop()
        q = self._queues.setdefault(key, _Queue())
        fut: asyncio.Future[Outcome] = loop.create_future()
        q.pending.append((writes, fut))
        if q.task is None or q.task.done():
            q.task = asyncio.create_task(self._drain(q, client, sheet_id))
        return await asyncio.shield(fut)

    async def _drain(self, q: _Queue, client: SheetsClient, sheet_id: str) -> None:
        loop = asyncio.get_running_loop()
        while q.pending:
            wait = q.last + self.min_interval_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            batch = q.pending[:MAX_WRITES_PER_BATCH]
            del q.pending[: len(batch)]
            q.last = loop.time()
            try:
                outcomes = await write_guarded(client, sheet_id, [ws for ws, _ in batch])
            except Exception as e:  # every caller of the batch sees it (its activity retries)
                for _, f in batch:
                    if not f.done():
                        f.set_exception(e)
                continue
            for (_, f), o in zip(batch, outcomes, strict=True):
                if not f.done():
                    f.set_result(o)
