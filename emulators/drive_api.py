"""Google Drive v3 ``files.list`` (``GET /drive/v3/files``) over the Sheets emulator's spreadsheets, as the
caller's Google identity sees them: the files it owns or that were shared with it. Spreadsheets seeded
without an owner (shared by link) are in nobody's Drive and never listed.

The caller is the identity of a live access token issued by the Google OAuth emulator, as for the Sheets
values API: 401 ``UNAUTHENTICATED`` for a missing, expired or revoked token. The token's grant must
include a Drive scope that can list files (``drive``, ``drive.readonly``, ``drive.metadata`` or
``drive.metadata.readonly``), else 403 ``insufficientPermissions`` ("Request had insufficient
authentication scopes."); a grant with only a narrower Drive scope (``drive.file``, …) lists nothing, as
the emulator records no files opened with the app.

Parameters as Drive documents them:

* ``q`` — terms ``mimeType``, ``name`` (``=``, ``!=``, ``contains``), ``trashed`` (``=``, ``!=``),
  ``modifiedTime`` and ``createdTime`` (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` an RFC 3339 time),
  ``'e-mail' in owners|writers|readers``, ``sharedWithMe``, joined by ``and``, ``or``, ``not`` and
  parentheses; anything else is 400 ``Invalid Value`` (location ``q``). Trashed files are listed unless
  the query leaves them out (``trashed = false``), as Drive does.
* ``orderBy`` — comma-separated keys, each optionally ``desc``: ``name``, ``name_natural``,
  ``modifiedTime``, ``createdTime``, ``recency`` (ordered), ``folder``, ``starred``, … (accepted, no
  effect); default ``name``.
* ``pageSize`` — 1 to 1000, default 100; ``pageToken`` / ``nextPageToken`` — opaque, tied to the query,
  the order and the caller (a token from another listing is 400 ``Invalid Value``).
* ``fields`` — a field mask: ``nextPageToken,files(id,name,modifiedTime)``, ``files/name``, ``*``;
  without it each file has ``kind``, ``id``, ``name`` and ``mimeType``. An unknown top-level field is 400
  ``Invalid field selection``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, NoReturn

from aiohttp import web

from .core import Context, EmulatorError, bearer_key
from .google_oauth import state_of
from .reqlog import Entry
from .sheets_api import Spreadsheet, spreadsheets

SPREADSHEET = "application/vnd.google-apps.spreadsheet"
_SCOPE = "https://www.googleapis.com/auth/"
LIST_SCOPES = {
    f"{_SCOPE}{s}" for s in ("drive", "drive.readonly", "drive.metadata", "drive.metadata.readonly")
}
NARROW_SCOPES = {
    f"{_SCOPE}{s}"
    for s in ("drive.file", "drive.appdata", "drive.photos.readonly", "drive.meet.readonly", "drive.scripts")
}
MAX_PAGE = 1000
FILE_LIST_FIELDS = ("kind", "nextPageToken", "incompleteSearch", "files")
DEFAULT_FILE_FIELDS = ("kind", "id", "name", "mimeType")
ORDER_KEYS = {"name", "name_natural", "modifiedTime", "createdTime", "recency"}
IGNORED_ORDER_KEYS = {"folder", "starred", "quotaBytesUsed", "modifiedByMeTime", "sharedWithMeTime",
                      "viewedByMeTime"}  # fmt: skip


def _invalid(param: str, message: str = "Invalid Value") -> EmulatorError:
    return EmulatorError(400, message, code="invalid" if message == "Invalid Value" else "invalidParameter",
                         param=param)  # fmt: skip


def rfc3339(stamp: float) -> str:
    millis = int(stamp * 1000) % 1000
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def file_resource(sid: str, book: Spreadsheet, identity: str) -> dict[str, Any]:
    """The spreadsheet as a Drive ``File`` (the fields the emulator knows)."""
    assert book.owner is not None
    owner = {
        "kind": "drive#user",
        "displayName": book.owner.split("@")[0],
        "emailAddress": book.owner,
        "me": book.owner == identity,
        "permissionId": str(int(hashlib.sha256(book.owner.encode()).hexdigest()[:15], 16)),
    }
    return {
        "kind": "drive#file",
        "id": sid,
        "name": book.title,
        "mimeType": SPREADSHEET,
        "trashed": book.trashed,
        "createdTime": rfc3339(book.created_time),
        "modifiedTime": rfc3339(book.modified_time),
        "owners": [owner],
        "ownedByMe": book.owner == identity,
        "shared": bool(book.shared_with),
        "webViewLink": f"https://docs.google.com/spreadsheets/d/{sid}/edit?usp=drivesdk",
    }


# ---- q: Drive's search query language (the part the emulator needs) ---------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>|\(|\))|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _tokens(q: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        m = _TOKEN.match(q, pos)
        if not m:
            raise _invalid("q")
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        out.append((kind, text))
    return out


class _Query:
    """A recursive-descent parser of ``q`` into a predicate over (file resource, book)."""

    def __init__(self, q: str, identity: str) -> None:
        self.toks, self.i, self.identity = _tokens(q), 0, identity

    def parse(self) -> Any:
        if not self.toks:
            return lambda f: True
        pred = self._or()
        if self.i != len(self.toks):
            raise _invalid("q")
        return pred

    def _peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("", "")

    def _take(self, kind: str | None = None) -> str:
        k, text = self._peek()
        if not k or (kind and k != kind):
            raise _invalid("q")
        self.i += 1
        return text

    def _keyword(self, word: str) -> bool:
        k, text = self._peek()
        if k == "word" and text.lower() == word:
            self.i += 1
            return True
        return False

    def _or(self) -> Any:
        left = self._and()
        while self._keyword("or"):
            right, prev = self._and(), left
            left = lambda f, a=prev, b=right: a(f) or b(f)  # noqa: E731 - a small closure per term
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._keyword("and"):
            right, prev = self._not(), left
            left = lambda f, a=prev, b=right: a(f) and b(f)  # noqa: E731 - a small closure per term
        return left

    def _not(self) -> Any:
        if self._keyword("not"):
            inner = self._not()
            return lambda f: not inner(f)
        if self._peek() == ("op", "("):
            self.i += 1
            inner = self._or()
            if self._take("op") != ")":
                self._fail()
            return inner
        return self._term()

    def _fail(self) -> NoReturn:
        raise _invalid("q")

    def _term(self) -> Any:
        kind, text = self._peek()
        if kind == "str":  # 'someone@example.com' in owners
            value = self._take().lower()
            if not self._keyword("in"):
                self._fail()
            role = self._take("word")
            if role == "owners":
                return lambda f: f["owners"][0]["emailAddress"] == value
            if role in ("writers", "readers"):
                return lambda f: value == f["owners"][0]["emailAddress"] or value in f["_shared_with"]
            self._fail()
        field = self._take("word")
        if field == "sharedWithMe":
            return lambda f: not f["ownedByMe"]
        if self._peek()[0] == "op":
            op = self._take("op")
        else:
            op = "contains" if self._keyword("contains") else ""
        if field in ("mimeType", "name"):
            value = self._take("str")
            if op == "=":
                return lambda f: f[field] == value
            if op == "!=":
                return lambda f: f[field] != value
            if op == "contains" and field == "name":
                return lambda f: value.lower() in f["name"].lower()
            if op == "contains":  # mimeType contains 'spreadsheet'
                return lambda f: value in f["mimeType"]
        elif field == "trashed":
            word = self._take("word").lower()
            if word not in ("true", "false") or op not in ("=", "!="):
                self._fail()
            wanted = (word == "true") == (op == "=")
            return lambda f: f["trashed"] == wanted
        elif field in ("modifiedTime", "createdTime"):
            raw = self._take("str")
            try:
                when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                self._fail()
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            compare = {"=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__",
                       ">=": "__ge__"}.get(op)  # fmt: skip
            if compare is None:
                self._fail()
            return lambda f: getattr(datetime.fromisoformat(f[field].replace("Z", "+00:00")), compare)(when)
        self._fail()


# ---- fields: Drive's field masks --------------------------------------------------------------------


def _parse_fields(spec: str) -> dict[str, Any]:
    """``a,b(c,d),e/f`` → ``{"a": True, "b": {"c": True, "d": True}, "e": {"f": True}}``."""
    pos = 0

    def items() -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while True:
            m = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*(?:/[A-Za-z_*][A-Za-z0-9_]*)*)\s*").match(spec, pos)
            if not m:
                raise _invalid("fields", f"Invalid field selection {spec[pos:] or spec}")
            pos = m.end()
            path = m.group(1).split("/")
            sub: Any = True
            if pos < len(spec) and spec[pos] == "(":
                pos += 1
                sub = items()
                if pos >= len(spec) or spec[pos] != ")":
                    raise _invalid("fields", f"Invalid field selection {spec}")
                pos += 1
            for name in reversed(path[1:]):
                sub = {name: sub}
            out[path[0]] = _merge(out.get(path[0]), sub)
            while pos < len(spec) and spec[pos] == " ":
                pos += 1
            if pos < len(spec) and spec[pos] == ",":
                pos += 1
                continue
            return out

    tree = items()
    if pos != len(spec):
        raise _invalid("fields", f"Invalid field selection {spec}")
    return tree


def _merge(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if a is True or b is True:
        return True
    return {**a, **{k: _merge(a.get(k), v) for k, v in b.items()}}


def _select(value: Any, mask: Any) -> Any:
    if mask is True or "*" in mask and mask["*"] is True:
        return value
    if isinstance(value, list):
        return [_select(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _select(value[k], sub) for k, sub in mask.items() if k in value}


# ---- page tokens ------------------------------------------------------------------------------------


def _listing_key(identity: str, q: str, order: str) -> str:
    return hashlib.sha256(f"{identity}\n{q}\n{order}".encode()).hexdigest()[:16]


def _page_token(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(token: str, key: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise _invalid("pageToken") from None
    if data.get("k") != key or offset < 0:
        raise _invalid("pageToken")
    return offset


def _order(spec: str) -> list[tuple[str, bool]]:
    keys = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, direction = part.partition(" ")
        direction = direction.strip().lower()
        if direction not in ("", "desc", "asc") or name not in ORDER_KEYS | IGNORED_ORDER_KEYS:
            raise _invalid("orderBy")
        if name in ORDER_KEYS:
            key = "modifiedTime" if name == "recency" else name.removesuffix("_natural")
            keys.append((key, direction == "desc"))
    return keys or [("name", False)]


def list_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        grant = state_of(ctx).grant(bearer_key(request))
        if grant is None:
            raise EmulatorError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.",
                code="authError",
                param="Authorization",
            )
        scopes = set(grant.scopes)
        if not scopes & (LIST_SCOPES | NARROW_SCOPES):
            raise EmulatorError(403, "Request had insufficient authentication scopes.")
        query = request.query
        try:
            size = int(query.get("pageSize", "100"))
        except ValueError:
            raise _invalid("pageSize") from None
        if not 1 <= size <= MAX_PAGE:
            raise _invalid(
                "pageSize", f"Invalid value '{size}'. Values must be within the range: [1, {MAX_PAGE}]"
            )
        q, order_spec = query.get("q", ""), query.get("orderBy", "")
        predicate = _Query(q, grant.email).parse()
        order = _order(order_spec)
        mask = _parse_fields(query["fields"]) if "fields" in query else None
        if mask is not None and not set(mask) <= set(FILE_LIST_FIELDS) | {"*"}:
            raise _invalid("fields", f"Invalid field selection {query['fields']}")

        found: list[dict[str, Any]] = []
        if scopes & LIST_SCOPES:
            for sid, book in spreadsheets(ctx).items():
                if book.visible_to(grant.email):
                    f = file_resource(sid, book, grant.email)
                    if predicate({**f, "_shared_with": book.shared_with}):
                        found.append(f)
        found.sort(key=lambda f: f["id"])
        for name, desc in reversed(order):  # stable sorts, last key first

            def sort_key(f: dict[str, Any], n: str = name) -> str:
                return str(f[n]).lower() if n == "name" else str(f[n])

            found.sort(key=sort_key, reverse=desc)

        key = _listing_key(grant.email, q, order_spec)
        start = _offset(query["pageToken"], key) if query.get("pageToken") else 0
        page = found[start : start + size]
        out: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        if start + size < len(found):
            out["nextPageToken"] = _page_token(start + size, key)
        if mask is None:
            out["files"] = [{k: f[k] for k in DEFAULT_FILE_FIELDS} for f in page]
        else:
            out["files"] = page
            out = _select(out, mask)
        entry.meta.update(identity=grant.email, files=len(page))
        return web.json_response(out)

    return handle


def add_routes(app: web.Application, ctx: Context) -> None:
    app.router.add_get("/drive/v3/files", ctx.guard("drive", bearer_key, list_handler(ctx)))
