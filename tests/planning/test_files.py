"""Plan files read as a sheet's two tabs, and written back as the same file with a run's cells filled in."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from icop.planning import a1, files
from icop.planning.plan import FIRST_ROW, PLAN_TAB, SUBTOPIC_TAB, parse_rows, safe_cell

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.csv"


def xlsx(rows: Sequence[Sequence[object]], title: str = "ContentPlan", extra: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    if extra:  # another tab first: the plan is found by its name
        ws.title = extra
        ws = book.create_sheet(title)
    else:
        ws.title = title
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_and_xlsx_read_as_the_same_plan() -> None:
    data = EXAMPLE.read_bytes()
    grid_csv = files.read("csv", data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    grid_xlsx = files.read("xlsx", xlsx(rows, extra="Notes"))
    assert files.kind_of(data) == "csv" and files.kind_of(xlsx(rows)) == "xlsx"
    a, b = (parse_rows(g[PLAN_TAB][FIRST_ROW - 1 :]) for g in (grid_csv, grid_xlsx))
    assert a.rows == b.rows and len(a.rows) == 4
    # row 6's '=SUM(…)' is a formula in the workbook: its (uncached) value is read, never the formula
    assert [p.row_number for p in a.problems] == [p.row_number for p in b.problems] == [6, 7]
    assert grid_csv[SUBTOPIC_TAB] == [files.SUBTOPIC_HEADER]


def test_numbers_dates_and_formulas_in_xlsx_read_as_text_never_as_formulas() -> None:
    import datetime as dt

    grid = files.read("xlsx", xlsx([["topic", "notes"], [2026, dt.datetime(2026, 12, 3)], ["=1+1", 1.5]]))
    # openpyxl without a cached value gives None for a formula cell: never the formula text
    assert grid[PLAN_TAB][1:] == [["2026", "2026-12-03"], ["", "1.5"]]


def test_a_file_without_a_header_gets_one_so_its_first_topic_is_row_2() -> None:
    grid = files.read("csv", "Coffee,,en\n커피,,ko\n".encode())
    assert grid[PLAN_TAB][0] == files.PLAN_HEADER
    assert [r.row_number for r in parse_rows(grid[PLAN_TAB][1:]).rows] == [2, 3]


def test_render_fills_the_written_cells_into_the_same_kind_of_file() -> None:
    cells = {
        (PLAN_TAB, 2, 4): "done",
        (PLAN_TAB, 2, 5): "https://a.example/1",
        (PLAN_TAB, 2, 6): "1 articles written",
        (PLAN_TAB, 3, 4): safe_cell("=not a formula"),
        (SUBTOPIC_TAB, 2, 1): "2",
        (SUBTOPIC_TAB, 2, 3): "첫 번째 하위 주제",
    }
    data = b"topic,notes\nCoffee,x\nTea,y\n"
    back = list(csv.reader(io.StringIO(files.render("csv", data, cells).decode("utf-8-sig"))))
    assert back[1] == ["Coffee", "x", "", "done", "https://a.example/1", "1 articles written"]
    assert back[2] == ["Tea", "y", "", "'=not a formula", "", ""]  # every row as wide as the widest
    subs = files.render("csv", data, cells, SUBTOPIC_TAB).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(subs)))[1] == ["2", "", "첫 번째 하위 주제", "", ""]

    book = openpyxl.load_workbook(
        io.BytesIO(files.render("xlsx", xlsx([["Coffee", "x"], ["Tea", "y"]]), cells))
    )
    plan = [[c if c is not None else "" for c in r] for r in book[PLAN_TAB].iter_rows(values_only=True)]
    assert plan[0][:5] == files.PLAN_HEADER  # the header the read gave it, in the file too
    assert plan[1][:6] == ["Coffee", "x", "", "done", "https://a.example/1", "1 articles written"]
    assert book[PLAN_TAB].cell(3, 4).data_type == "s"  # text, not a formula
    assert book[SUBTOPIC_TAB].cell(2, 3).value == "첫 번째 하위 주제"


def test_values_lay_cells_over_the_file_as_the_sheets_api_answers() -> None:
    grid = files.read("csv", b"topic\nA\nB\n")
    cells = {(PLAN_TAB, 3, 4): "done", (SUBTOPIC_TAB, 2, 1): "3"}
    r = a1.parse("ContentPlan!A2:E")
    assert files.values(grid, cells, r.tab, r.row0, r.col0, r.row1, r.col1) == [["A"], ["B", "", "", "done"]]
    s = a1.parse("Subtopics!A2:A")
    assert files.values(grid, cells, s.tab, s.row0, s.col0, s.row1, s.col1) == [["3"]]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"PK\x03\x04not a zip at all", "XLSX"),
        (b"a" * (files.MAX_BYTES + 1), "limit"),
    ],
)
def test_unreadable_files_say_what_to_do(data: bytes, says: str) -> None:
    with pytest.raises(files.PlanFileError) as e:
        files.read(files.kind_of(data), data)
    assert says in str(e.value)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(files.PlanFileError, match="XLSX"):
        files.read("xlsx", out.getvalue())


def test_a1_ranges() -> None:
    assert a1.parse("ContentPlan!D7:F7") == a1.Range("ContentPlan", 7, 4, 7, 6)
    assert a1.parse("'My plan'!A2:E") == a1.Range("My plan", 2, 1, a1.MAX_ROW, 5)
    assert a1.parse("Subtopics!B3") == a1.Range("Subtopics", 3, 2, 3, 2)
    assert a1.render("My plan", 2, 1, 2, 27) == "'My plan'!A2:AA2"
    with pytest.raises(ValueError):
        a1.parse("D7")
