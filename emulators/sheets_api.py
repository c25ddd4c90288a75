"""Google Sheets v4 ``spreadsheets.values.get``, ``.batchGet`` and ``.batchUpdate`` over an in-memory
spreadsheet state that tests seed and read back through ``/_admin/sheets/{id}`` (``PUT`` body:
``{"sheets": {tab: rows}, "owner", "shared_with", "title", "modified_time", "trashed"}``, all but
``sheets`` optional). The Drive emulator (:mod:`.drive_api`) lists the same spreadsheets by title.

Per-minute quotas as Google counts them: read requests (get, batchGet) and write requests (batchUpdate),
each at most 60 a minute per user (a Google identity; anonymous callers share one) and 300 a minute for
the project, over a sliding minute; beyond them 429 ``RESOURCE_EXHAUSTED`` (no Retry-After: Google asks
for exponential backoff). ``PUT /_admin/sheets-quota`` changes the limits (``per_user``, ``per_project``)
and answers the requests refused so far.

A spreadsheet seeded with an ``owner`` (a Google identity) is private: the values API answers only a live
access token issued by the Google OAuth emulator (:mod:`.google_oauth`) to the owner or to an identity in
its ``shared_with`` list — 401 ``UNAUTHENTICATED`` for a missing, expired or revoked token, 403
``PERMISSION_DENIED`` for anyone else, as Google does. One seeded without an owner is shared as "anyone
with the link can edit" (the SDK-level tests of the client use those)."""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, bearer_key
from .google_oauth import state_of
from .reqlog import Entry

GRID_ROWS, GRID_COLS = 1000, 26
_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass
class A1:
    sheet: str
    r0: int
    c0: int
    r1: int  # inclusive
    c1: int

    def render(self) -> str:
        title = (
            self.sheet
            if re.fullmatch(r"[A-Za-z0-9_]+", self.sheet)
            else "'" + self.sheet.replace("'", "''") + "'"
        )
        a = f"{col_letters(self.c0)}{self.r0 + 1}"
        b = f"{col_letters(self.c1)}{self.r1 + 1}"
        return f"{title}!{a}" if a == b else f"{title}!{a}:{b}"


DEFAULT_TITLE = "Untitled spreadsheet"  # what Google names a new spreadsheet


class Spreadsheet:
    """A spreadsheet's tabs and what Drive knows of it: its title, owner, sharing, times and trash."""

    def __init__(
        self,
        sheets: dict[str, list[list[Any]]] | None = None,
        owner: str | None = None,
        shared_with: list[str] | None = None,
        title: str = DEFAULT_TITLE,
        modified_time: float | None = None,
        trashed: bool = False,
    ) -> None:
        self.sheets: dict[str, list[list[Any]]] = {
            k: [list(r) for r in v] for k, v in (sheets or {"Sheet1": []}).items()
        }
        self.owner = owner.lower() if owner else None
        self.shared_with = {e.lower() for e in shared_with or []}
        self.title, self.trashed = title, trashed
        self.created_time = time.time()
        self.modified_time = self.created_time if modified_time is None else modified_time

    def visible_to(self, identity: str) -> bool:
        """Whether the identity owns the file or it was shared with it (what Drive lists for it)."""
        return self.owner is not None and (identity == self.owner or identity in self.shared_with)

    def check_access(self, identity: str | None) -> None:
        """Refuse a caller the sheet was not shared with (nothing to check for a link-shared sheet)."""
        if self.owner is None:
            return
        if identity is None:
            raise EmulatorError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
            )
        if not self.visible_to(identity):
            raise EmulatorError(403, "The caller does not have permission")

    def parse(self, rng: str) -> A1:
        bad = EmulatorError(400, f"Unable to parse range: {rng}")
        if "!" in rng:
            title, _, cells = rng.rpartition("!")
        elif rng in self.sheets or (rng.startswith("'") and rng.endswith("'")):
            title, cells = rng, ""
        else:
            title, cells = next(iter(self.sheets)), rng
        if title.startswith("'") and title.endswith("'"):
            title = title[1:-1].replace("''", "'")
        if title not in self.sheets:
            raise bad
        if not cells:
            return A1(title, 0, 0, GRID_ROWS - 1, GRID_COLS - 1)
        first, _, second = cells.partition(":")
        m1, m2 = _CELL.match(first), _CELL.match(second or first)
        if not m1 or not m2 or not (m1.group(0) and m2.group(0)):
            raise bad
        c0 = col_index(m1.group(1)) if m1.group(1) else 0
        r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
        c1 = col_index(m2.group(1)) if m2.group(1) else GRID_COLS - 1
        r1 = int(m2.group(2)) - 1 if m2.group(2) else GRID_ROWS - 1
        if min(r0, c0) < 0 or r1 < r0 or c1 < c0:
            raise bad
        return A1(title, r0, c0, r1, c1)

    def read(self, a: A1) -> list[list[Any]]:
        rows = self.sheets[a.sheet]
        out = []
        for r in range(a.r0, min(a.r1, len(rows) - 1) + 1):
            row = rows[r][a.c0 : a.c1 + 1]
            while row and row[-1] in ("", None):
                row = row[:-1]
            out.append(row)
        while out and not out[-1]:
            out.pop()
        return out

    def write(self, a: A1, values: list[list[Any]]) -> A1:
        rows = self.sheets[a.sheet]
        height = len(values)
        width = max((len(v) for v in values), default=0)
        for i, vals in enumerate(values):
            r = a.r0 + i
            while len(rows) <= r:
                rows.append([])
            row = rows[r]
            for j, v in enumerate(vals):
                c = a.c0 + j
                while len(row) <= c:
                    row.append("")
                if v is not None:  # null leaves the cell as it is
                    row[c] = v
        return A1(a.sheet, a.r0, a.c0, a.r0 + max(height, 1) - 1, a.c0 + max(width, 1) - 1)


def _formatted(v: Any) -> Any:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def spreadsheets(ctx: Context) -> dict[str, Spreadsheet]:
    """Every spreadsheet of the emulator, by id (the Drive emulator lists them too)."""
    store: dict[str, Spreadsheet] = ctx.state.setdefault("sheets", {})
    return store


@dataclass
class Quota:
    """Requests per sliding minute, per kind ("read", "write"), per user and for the whole project."""

    per_user: int = 60
    per_project: int = 300
    window_s: float = 60.0  # Google's minute; tests shorten it
    seen: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    refused: int = 0

    def take(self, kind: str, user: str) -> None:
        now = time.monotonic()
        mine = self.seen.setdefault((kind, user), deque())
        everyone = self.seen.setdefault((kind, "*project*"), deque())
        for q in (mine, everyone):
            while q and q[0] <= now - self.window_s:
                q.popleft()
        metric = "Read requests" if kind == "read" else "Write requests"
        limit = None
        if len(mine) >= self.per_user:
            limit = f"{metric} per minute per user"
        elif len(everyone) >= self.per_project:
            limit = f"{metric} per minute"
        if limit:
            self.refused += 1
            raise EmulatorError(
                429,
                f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service "
                "'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
            )
        mine.append(now)
        everyone.append(now)


def _quota(ctx: Context) -> Quota:
    q: Quota = ctx.state.setdefault("sheets_quota", Quota())
    return q


def _book(ctx: Context, sid: str, request: web.Request, kind: str) -> Spreadsheet:
    identity = state_of(ctx).identity(bearer_key(request))
    _quota(ctx).take(kind, identity or "anonymous")
    book = spreadsheets(ctx).get(sid)
    if book is None:
        raise EmulatorError(404, "Requested entity was not found.")
    book.check_access(identity)
    return book


def _render_values(book: Spreadsheet, a: A1, request: web.Request) -> dict[str, Any]:
    values = book.read(a)
    if request.query.get("valueRenderOption", "FORMATTED_VALUE") == "FORMATTED_VALUE":
        values = [[_formatted(v) for v in row] for row in values]
    major = request.query.get("majorDimension", "ROWS")
    if major == "COLUMNS":
        width = max((len(r) for r in values), default=0)
        values = [[r[c] if c < len(r) else "" for r in values] for c in range(width)]
    out: dict[str, Any] = {"range": a.render(), "majorDimension": major}
    if values:
        out["values"] = values
    return out


def _input_value(v: Any, option: str) -> Any:
    if option == "USER_ENTERED" and isinstance(v, str):
        try:
            return int(v) if re.fullmatch(r"-?\d+", v) else float(v) if re.fullmatch(r"-?\d+\.\d+", v) else v
        except ValueError:
            return v
    return v


def get_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        book = _book(ctx, request.match_info["sid"], request, "read")
        out = _render_values(book, book.parse(request.match_info["range"]), request)
        entry.meta.update(spreadsheet=request.match_info["sid"], range=out["range"])
        return web.json_response(out)

    return handle


def batch_get_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        sid = request.match_info["sid"]
        book = _book(ctx, sid, request, "read")
        ranges = request.query.getall("ranges", [])
        parsed = [book.parse(r) for r in ranges]  # a bad range refuses the whole call
        value_ranges = [_render_values(book, a, request) for a in parsed]
        entry.meta.update(spreadsheet=sid, ranges=[v["range"] for v in value_ranges])
        return web.json_response({"spreadsheetId": sid, "valueRanges": value_ranges})

    return handle


def batch_update_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        sid = request.match_info["sid"]
        book = _book(ctx, sid, request, "write")
        if not isinstance(body, dict):
            raise EmulatorError(400, "Invalid JSON payload received.")
        option = body.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            raise EmulatorError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        plans = []
        for item in body.get("data") or []:
            a = book.parse(str(item.get("range", "")))
            values = item.get("values") or []
            if item.get("majorDimension") == "COLUMNS":
                height = max((len(c) for c in values), default=0)
                values = [[c[r] if r < len(c) else None for c in values] for r in range(height)]
            plans.append((a, [[_input_value(v, option) for v in row] for row in values]))
        responses, sheets_touched = [], set()
        for a, values in plans:  # all ranges parsed first: a bad range changes nothing
            written = book.write(a, values)
            book.modified_time = time.time()
            cells = sum(len(r) for r in values)
            sheets_touched.add(a.sheet)
            resp: dict[str, Any] = {
                "spreadsheetId": sid,
                "updatedRange": written.render(),
                "updatedRows": len(values),
                "updatedColumns": max((len(r) for r in values), default=0),
                "updatedCells": cells,
            }
            if body.get("includeValuesInResponse"):
                resp["updatedData"] = {
                    "range": written.render(),
                    "majorDimension": "ROWS",
                    "values": [[_formatted(v) for v in r] for r in values],
                }
            responses.append(resp)
        entry.meta.update(spreadsheet=sid, ranges=[r["updatedRange"] for r in responses])
        return web.json_response(
            {
                "spreadsheetId": sid,
                "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "totalUpdatedSheets": len(sheets_touched),
                "responses": responses,
            }
        )

    return handle


async def admin_put(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    body = await request.json()
    sheets = body.get("sheets") if isinstance(body, dict) else None
    if not isinstance(sheets, dict) or not sheets:
        return web.json_response(
            {"error": 'body must be {"sheets": {title: [[cell, ...], ...]}}'}, status=400
        )
    owner, shared = body.get("owner"), body.get("shared_with") or []
    modified = body.get("modified_time")
    try:
        stamp = datetime.fromisoformat(str(modified).replace("Z", "+00:00")).timestamp() if modified else None
    except ValueError:
        return web.json_response({"error": "modified_time must be an ISO 8601 time"}, status=400)
    book = Spreadsheet(
        sheets,
        owner,
        [str(e) for e in shared],
        title=str(body.get("title") or DEFAULT_TITLE),
        modified_time=stamp,
        trashed=bool(body.get("trashed")),
    )
    spreadsheets(ctx)[request.match_info["sid"]] = book
    sid = request.match_info["sid"]
    return web.json_response(
        {"spreadsheetId": sid, "sheets": list(sheets), "owner": owner, "title": book.title}
    )


async def admin_quota(request: web.Request) -> web.Response:
    """PUT ``{"per_user": n, "per_project": n, "window_s": s}`` (any of them) sets the limits and their
    window (a minute unless a test shortens it); both answer them and the requests refused so far."""
    q = _quota(request.app["ctx"])
    if request.method == "PUT":
        body = await request.json()
        q.per_user = int(body.get("per_user", q.per_user))
        q.per_project = int(body.get("per_project", q.per_project))
        q.window_s = float(body.get("window_s", q.window_s))
    return web.json_response(
        {"per_user": q.per_user, "per_project": q.per_project, "window_s": q.window_s, "refused": q.refused}
    )


async def admin_get(request: web.Request) -> web.Response:
    ctx: Context = request.app["ctx"]
    book = spreadsheets(ctx).get(request.match_info["sid"])
    if book is None:
        return web.json_response({"error": "no such spreadsheet"}, status=404)
    return web.json_response(
        {"spreadsheetId": request.match_info["sid"], "title": book.title, "sheets": book.sheets}
    )


def add_routes(app: web.Application, ctx: Context) -> None:
    g = ctx.guard
    app.router.add_post(
        "/v4/spreadsheets/{sid}/values:batchUpdate",
        g("sheets", bearer_key, batch_update_handler(ctx), allow_anonymous=True),
    )
    app.router.add_get(
        "/v4/spreadsheets/{sid}/values:batchGet",
        g("sheets", bearer_key, batch_get_handler(ctx), allow_anonymous=True),
    )
    app.router.add_get(
        "/v4/spreadsheets/{sid}/values/{range:.+}",
        g("sheets", bearer_key, get_handler(ctx), allow_anonymous=True),
    )
    app.router.add_put("/_admin/sheets/{sid}", admin_put)
    app.router.add_get("/_admin/sheets/{sid}", admin_get)
    app.router.add_put("/_admin/sheets-quota", admin_quota)
    app.router.add_get("/_admin/sheets-quota", admin_quota)
