"""Content plans uploaded as files — a CSV or an XLSX workbook — read as the same two tabs a sheet has.

A file is read into a grid per tab (``ContentPlan``: the header row, then one row per main topic, the
columns of :mod:`icop.planning.plan`; ``Subtopics``: its header, then what runs write). A file without a
header row gets one, so the plan's first row is always row 2, as on a sheet. What a run writes back is kept
apart as cells (``plan_cells``) and laid over the grid: :func:`render` gives the tenant the same file with
the status, result and note columns and the Subtopics rows filled in.

XLSX: the tab named ``ContentPlan`` (else the first worksheet) is the plan; cached values are read, never
formulas (``data_only``); openpyxl parses the workbook's XML through defusedxml.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

from .plan import PLAN_TAB, SUBTOPIC_TAB

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000  # data rows of the plan tab
MAX_COLS = 26  # A..Z
PLAN_HEADER = ["topic", "notes", "language", "status", "result"]
SUBTOPIC_HEADER = ["main row", "main topic", "sub-topic", "status", "article"]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MEDIA_TYPE}

Grid = dict[str, list[list[str]]]  # tab → rows (row 1 first) of cells (column A first)
Cells = Mapping[tuple[str, int, int], str]  # (tab, row, column), both 1-based → value


class PlanFileError(ValueError):
    """The file cannot be read as a plan; the message says what to do, ``code`` (``plan_file.…``) and
    ``params`` say the same for a client that words it in its user's language."""

    def __init__(self, message: str, code: str, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def kind_of(data: bytes) -> str:
    """``xlsx`` for a ZIP container (an Office Open XML workbook), else ``csv``."""
    return "xlsx" if data[:4] == b"PK\x03\x04" else "csv"


def read(kind: str, data: bytes) -> Grid:
    """The file's tabs as text grids (see the module's doc). Raises :class:`PlanFileError`."""
    if len(data) > MAX_BYTES:
        raise PlanFileError(
            f"the plan is {len(data)} bytes; the limit is {MAX_BYTES} (split it into several plans)",
            "plan_file.too_large",
            bytes=len(data),
            limit=MAX_BYTES,
        )
    plan, subtopics = _read_xlsx(data) if kind == "xlsx" else (_read_csv(data), [])
    if len(plan) > MAX_ROWS + 1:
        raise PlanFileError(
            f"the plan has {len(plan) - 1} rows; the limit is {MAX_ROWS} (split it)",
            "plan_file.too_many_rows",
            rows=len(plan) - 1,
            limit=MAX_ROWS,
        )
    if not plan or not _is_header(plan[0]):
        plan = [list(PLAN_HEADER), *plan]
    return {PLAN_TAB: plan, SUBTOPIC_TAB: subtopics or [list(SUBTOPIC_HEADER)]}


def _is_header(row: list[str]) -> bool:
    return bool(row) and row[0].strip().lower() == "topic"


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PlanFileError(
            f"the plan is not UTF-8 text (byte {e.start}); export the sheet as CSV UTF-8, or upload .xlsx",
            "plan_file.not_utf8",
            byte=e.start,
        ) from e
    if "\x00" in text:
        raise PlanFileError(
            "the plan contains NUL bytes; export the sheet as CSV UTF-8, or upload .xlsx",
            "plan_file.nul_bytes",
        )
    try:
        rows = []
        for record in csv.reader(io.StringIO(text)):
            rows.append(_trim(record[:MAX_COLS]))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error as e:
        raise PlanFileError(
            f"the CSV cannot be read ({e}); export it again as CSV UTF-8", "plan_file.csv_unreadable"
        ) from e


def _read_xlsx(data: bytes) -> tuple[list[list[str]], list[list[str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise PlanFileError(
            "the file is not a readable XLSX workbook; save it again as Excel Workbook (.xlsx)",
            "plan_file.xlsx_unreadable",
        ) from e
    try:
        names = book.sheetnames
        if not names:
            raise PlanFileError(
                "the workbook has no worksheet; put the plan on a tab named ContentPlan",
                "plan_file.no_worksheet",
            )
        plan_ws = book[PLAN_TAB] if PLAN_TAB in names else book[names[0]]
        plan = _sheet_rows(plan_ws)
        subtopics = _sheet_rows(book[SUBTOPIC_TAB]) if SUBTOPIC_TAB in names else []
        return plan, subtopics
    finally:
        book.close()


def _sheet_rows(ws: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    for values in ws.iter_rows(max_col=MAX_COLS, values_only=True):
        rows.append([_text(v) for v in values])
        if len(rows) > MAX_ROWS + 1:
            break
    while rows and not any(rows[-1]):
        rows.pop()
    return [_trim(r) for r in rows]


def _trim(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _text(v: object) -> str:
    """A cell's value as the Sheets API's formatted value would show it, near enough for a plan."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    return str(v)


def values(grid: Grid, cells: Cells, tab: str, row0: int, col0: int, row1: int, col1: int) -> list[list[str]]:
    """The grid's values in a range with the written cells laid over them, as ``values.get`` answers:
    trailing empty cells and rows left out."""
    base = grid.get(tab, [])
    last = max([len(base), *(r for (t, r, _) in cells if t == tab)], default=0)
    out: list[list[str]] = []
    for r in range(row0, min(row1, last) + 1):
        src = base[r - 1] if r - 1 < len(base) else []
        row = []
        for c in range(col0, col1 + 1):
            v = cells.get((tab, r, c))
            row.append(v if v is not None else (src[c - 1] if c - 1 < len(src) else ""))
        out.append(_trim(row))
    while out and not out[-1]:
        out.pop()
    return out


def filled(grid: Grid, cells: Cells, tab: str) -> list[list[str]]:
    """A whole tab with the written cells laid over it."""
    return values(grid, cells, tab, 1, 1, 1_000_000, MAX_COLS)


def render(kind: str, data: bytes, cells: Cells, tab: str = PLAN_TAB) -> bytes:
    """The uploaded file with the run's cells written into it: CSV (one tab: ``tab``), or the XLSX
    workbook with both tabs (a Subtopics worksheet added when it had none)."""
    grid = read(kind, data)
    if kind != "xlsx":
        rows = filled(grid, cells, tab)
        width = max((len(r) for r in rows), default=0)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(r + [""] * (width - len(r)) for r in rows)
        return out.getvalue().encode("utf-8-sig")
    return _render_xlsx(data, grid, cells)


def _render_xlsx(data: bytes, grid: Grid, cells: Cells) -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    plan_ws = book[PLAN_TAB] if PLAN_TAB in book.sheetnames else book.worksheets[0]
    first = [_text(c.value) for c in next(plan_ws.iter_rows(max_row=1, max_col=MAX_COLS), ())]
    if not _is_header(first):  # read() gave the plan a header row: give the file the same one
        plan_ws.insert_rows(1)
        _put(plan_ws, [((1, i + 1), h) for i, h in enumerate(PLAN_HEADER)])
    if SUBTOPIC_TAB in book.sheetnames:
        sub_ws = book[SUBTOPIC_TAB]
    else:
        sub_ws = book.create_sheet(SUBTOPIC_TAB)
        _put(sub_ws, [((1, i + 1), h) for i, h in enumerate(SUBTOPIC_HEADER)])
    sheets = {PLAN_TAB: plan_ws, SUBTOPIC_TAB: sub_ws}
    for (tab, r, c), v in cells.items():
        if tab in sheets:
            _put(sheets[tab], [((r, c), v)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _put(ws: Any, items: Iterable[tuple[tuple[int, int], str]]) -> None:
    """Text cells only: openpyxl would take a string starting with '=' for a formula, and the values we
    write are already made safe (``plan.safe_cell``); the data type is set to string regardless."""
    for (r, c), v in items:
        cell = ws.cell(row=r, column=c)
        cell.value = v
        cell.data_type = "s"
