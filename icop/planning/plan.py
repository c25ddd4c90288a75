"""The content plan: one main topic per row of ``ContentPlan!A2:E`` (or a CSV with the same columns).

| col | header   | written by | meaning                                                                      |
|-----|----------|------------|------------------------------------------------------------------------------|
| A   | topic    | the tenant | the main topic (required, at most 200 characters)                            |
| B   | notes    | the tenant | audience, angle or notes for the writers (optional, ≤ 2,000)                 |
| C   | language | the tenant | article language, ISO 639-1 (`en`, `ko`, …); blank: the pipeline's default   |
| D   | status   | ICOP       | `pending` (or blank) → `planning` → `writing` → `done`, or `error: <reason>` |
| E   | result   | ICOP       | the first article's URL, or the number of articles                           |

Sub-topics are written to a second tab, ``Subtopics!A2:E``: main row, main topic, sub-topic, status,
article URL. A row whose status is blank, ``pending`` or ``retry`` is pending; any other status is left
alone, so a back-fill can be re-run safely.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

PLAN_TAB = "ContentPlan"
PLAN_RANGE = f"{PLAN_TAB}!A2:E"
FIRST_ROW = 2
SUBTOPIC_TAB = "Subtopics"
MAX_TOPIC = 200
MAX_NOTES = 2000
PENDING_STATUSES = {"", "pending", "retry"}
# Languages the writers and the text rules support; the plan refuses anything else by name.
LANGUAGES = {
    "en": "English", "ko": "Korean", "ja": "Japanese", "zh": "Chinese", "es": "Spanish", "fr": "French",
    "de": "German", "pt": "Portuguese", "it": "Italian", "vi": "Vietnamese", "id": "Indonesian", "th": "Thai",
}  # fmt: skip
# A cell starting with one of these would become a formula in a spreadsheet (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PlanRow:
    row_number: int  # the sheet row (2 for the first data row)
    topic: str
    notes: str
    language: str
    status: str


# A row whose sub-topics could not be planned (its reason says why).
ROW_PLANNING_FAILED = "row.planning_failed"


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    column: str
    reason: str  # says what is wrong and what to do (English)
    code: str = "row.invalid"  # the same, stable, for a client's own wording (``row.formula``, …)
    params: dict[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"row {self.row_number}, column {self.column}: {self.reason}"


@dataclass
class ParsedPlan:
    rows: list[PlanRow]
    problems: list[RowProblem]

    @property
    def pending(self) -> list[PlanRow]:
        return [r for r in self.rows if r.status.strip().lower() in PENDING_STATUSES]


def _cell(values: list[str], i: int) -> str:
    return str(values[i]).strip() if i < len(values) and values[i] is not None else ""


def check_cell(row: int, column: str, value: str, limit: int) -> RowProblem | None:
    if value.startswith(FORMULA_PREFIXES):
        return RowProblem(
            row,
            column,
            f"starts with {value[0]!r}, which a spreadsheet would run as a formula; "
            "remove the leading character or put the text in quotes",
            "row.formula",
            {"char": value[0]},
        )
    if len(value) > limit:
        return RowProblem(
            row,
            column,
            f"is {len(value)} characters long; the limit is {limit}",
            "row.too_long",
            {"length": len(value), "limit": limit},
        )
    return None


def parse_rows(
    values: list[list[str]], default_language: str = "en", first_row: int = FIRST_ROW
) -> ParsedPlan:
    """Validate raw sheet values (as ``values.get`` returns them). Bad rows are reported and skipped."""
    rows: list[PlanRow] = []
    problems: list[RowProblem] = []
    for offset, raw in enumerate(values):
        n = first_row + offset
        topic, notes, lang, status = (_cell(raw, i) for i in range(4))
        if not any((topic, notes, lang)):
            continue  # a blank line in the plan is not an error
        found: list[RowProblem | None] = []
        if not topic:
            empty = "the topic is empty; write a main topic or delete the row"
            found.append(RowProblem(n, "A", empty, "row.empty_topic"))
        else:
            found.append(check_cell(n, "A", topic, MAX_TOPIC))
        found.append(check_cell(n, "B", notes, MAX_NOTES))
        language = (lang or default_language).lower()
        if language not in LANGUAGES:
            known = ", ".join(sorted(LANGUAGES))
            found.append(
                RowProblem(
                    n,
                    "C",
                    f"unknown language {lang!r}; use one of {known}",
                    "row.unknown_language",
                    {"language": lang, "languages": known},
                )  # fmt: skip
            )
        real = [p for p in found if p]
        if real:
            problems.extend(real)
            continue
        rows.append(PlanRow(n, topic, notes, language, status))
    return ParsedPlan(rows, problems)


def parse_csv(text: str, default_language: str = "en") -> ParsedPlan:
    """The same plan from a CSV file (header row optional: a first row whose A cell is 'topic' is skipped)."""
    records = list(csv.reader(io.StringIO(text)))
    if records and records[0] and records[0][0].strip().lower() == "topic":
        records = records[1:]
    return parse_rows(records, default_language)


def safe_cell(value: str) -> str:
    """A value we write back never becomes a formula (we also write with valueInputOption=RAW)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


@dataclass(frozen=True)
class CellUpdate:
    range: str
    values: list[list[str]]


def status_updates(updates: dict[int, tuple[str, str]]) -> list[CellUpdate]:
    """Row status and result (columns D:E) for several rows: one range per row, for one batchUpdate."""
    return [
        CellUpdate(f"{PLAN_TAB}!D{row}:E{row}", [[safe_cell(status), safe_cell(result)]])
        for row, (status, result) in sorted(updates.items())
    ]


def subtopic_updates(start_row: int, items: list[tuple[int, str, str, str, str]]) -> list[CellUpdate]:
    """Sub-topic rows (main row, main topic, sub-topic, status, URL) from ``start_row`` of the Subtopics
    tab."""
    if not items:
        return []
    end = start_row + len(items) - 1
    values = [[str(r), safe_cell(t), safe_cell(s), safe_cell(st), safe_cell(u)] for r, t, s, st, u in items]
    return [CellUpdate(f"{SUBTOPIC_TAB}!A{start_row}:E{end}", values)]


@dataclass(frozen=True)
class PreviewRow:
    """A plan row as the tenant wrote it, with what is wrong with it (nothing for a row that will run)."""

    row_number: int
    topic: str
    notes: str
    language: str
    status: str
    problems: list[RowProblem]


def preview(
    values: list[list[str]], default_language: str = "en", first_row: int = FIRST_ROW, limit: int = 20
) -> tuple[ParsedPlan, list[PreviewRow]]:
    """The whole plan validated, and its first ``limit`` non-blank rows as they are, each with its problems:
    what a tenant checks before creating a pipeline."""
    plan = parse_rows(values, default_language, first_row)
    by_row: dict[int, list[RowProblem]] = {}
    for p in plan.problems:
        by_row.setdefault(p.row_number, []).append(p)
    shown: list[PreviewRow] = []
    for offset, raw in enumerate(values):
        if len(shown) >= limit:
            break
        topic, notes, lang, status = (_cell(raw, i) for i in range(4))
        if not any((topic, notes, lang)):
            continue
        n = first_row + offset
        shown.append(PreviewRow(n, topic, notes, lang, status, by_row.get(n, [])))
    return plan, shown
