"""Search engines and the web behind them.

- Tavily: ``POST /tavily/search`` (key as ``Authorization: Bearer`` or ``api_key`` in the body), answering
  ``{query, answer, images, results: [{title, url, content, score, raw_content, published_date?}],
  response_time, request_id}``; a used-up plan answers 432 as Tavily does.
- Naver Search: ``GET /naver/v1/search/{webkr,news,blog}.json`` (``X-Naver-Client-Id`` /
  ``X-Naver-Client-Secret``) and the NAVER API HUB form ``GET /naverhub/search/v1/{kind}``
  (``X-NCP-APIGW-API-KEY-ID`` / ``X-NCP-APIGW-API-KEY``): ``{lastBuildDate, total, start, display, items}``
  with ``<b>``-highlighted titles and descriptions, ``pubDate`` on news and ``postdate`` on blogs; errors
  as ``{errorMessage, errorCode}`` (SE01–SE06, SE99, 024 authentication, 010 quota).
- The pages: ``/web/...`` HTML with Cache-Control and ETag (304 on a matching If-None-Match),
  ``/members/...`` (disallowed by ``/robots.txt``), a PDF, and ``/redirect?to=`` (a 302 anywhere).

Every query gets results, deterministically, in its own language (``web_pages``).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import web_pages
from .core import Context, EmulatorError, bearer_key
from .reqlog import Entry

NAVER_KINDS = ("webkr", "news", "blog")
_WORDS = re.compile(r"[a-z0-9]{2,}|[\uac00-\ud7a3]{2,}")


def _words(query: str) -> set[str]:
    return set(_WORDS.findall(query.lower()))


def _root(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


# ---- Tavily ------------------------------------------------------------------------------------------
def tavily_key(request: web.Request) -> str | None:
    key = bearer_key(request)
    if key:
        return key
    return None  # a key in the body is read by the handler (the guard only sees headers)


def tavily_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        if not isinstance(body, dict):
            raise EmulatorError(400, "Invalid request body.")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise EmulatorError(400, "Query is missing or empty.")
        max_results = body.get("max_results", 5)
        if not isinstance(max_results, int) or not 0 <= max_results <= 20:
            raise EmulatorError(400, "max_results must be between 0 and 20.")
        depth = body.get("search_depth", "basic")
        if depth not in ("basic", "advanced", "fast", "ultra-fast"):
            raise EmulatorError(400, "Invalid search_depth.")
        t0 = time.monotonic()
        words = _words(query)
        docs = web_pages.documents(query)[:max_results]
        results = []
        for d in docs:
            item: dict[str, Any] = {
                "url": _root(request) + d.path,
                "title": d.title,
                "content": d.snippet(words)[:400],
                "score": round(0.92 - 0.06 * d.rank, 4),
                "raw_content": "\n\n".join(d.paragraphs) if body.get("include_raw_content") else None,
            }
            if body.get("topic") == "news":
                item["published_date"] = email.utils.format_datetime(d.published)
            results.append(item)
        answer = None
        if body.get("include_answer"):
            answer = docs[0].paragraphs[0] if docs else ""
        entry.meta.update(query=query, results=len(results))
        return web.json_response(
            {
                "query": query,
                "follow_up_questions": None,
                "answer": answer,
                "images": [],
                "results": results,
                "response_time": round(time.monotonic() - t0 + 0.35, 2),
                "request_id": str(uuid.uuid4()),
            }
        )

    return handle


# ---- Naver -------------------------------------------------------------------------------------------
def naver_key(request: web.Request) -> str | None:
    """The client secret (the id alone does not authenticate), from either header scheme."""
    if request.path.startswith("/naverhub/"):
        ident, secret = "X-NCP-APIGW-API-KEY-ID", "X-NCP-APIGW-API-KEY"
    else:
        ident, secret = "X-Naver-Client-Id", "X-Naver-Client-Secret"
    if not request.headers.get(ident):
        return None
    return request.headers.get(secret) or None


def _int_param(request: web.Request, name: str, default: int, low: int, high: int, code: str) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EmulatorError(400, f"Incorrect {name} value (invalid {name}).", code=code) from None
    if not low <= value <= high:
        raise EmulatorError(400, f"Incorrect {name} value (invalid {name}).", code=code)
    return value


def naver_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind not in NAVER_KINDS:
            raise EmulatorError(404, "Invalid search api (존재하지 않는 검색 api 입니다.)", code="SE05")
        if "query" not in request.query:
            raise EmulatorError(400, "Incorrect query request (잘못된 쿼리요청입니다.)", code="SE01")
        raw = next(
            (p[6:] for p in request.raw_path.partition("?")[2].split("&") if p.startswith("query=")), ""
        )
        try:
            unquote(raw.replace("+", " "), errors="strict")
        except UnicodeDecodeError:
            raise EmulatorError(
                400, "Malformed encoding (잘못된 형식의 인코딩입니다.)", code="SE06"
            ) from None
        query = request.query["query"]
        if not query.strip():
            raise EmulatorError(400, "Incorrect query request (잘못된 쿼리요청입니다.)", code="SE01")
        display = _int_param(request, "display", 10, 1, 100, "SE02")
        start = _int_param(request, "start", 1, 1, 1000, "SE03")
        sort = request.query.get("sort", "sim")
        if sort not in ("sim", "date"):
            raise EmulatorError(400, "Incorrect sort value (sort 값이 잘못되었습니다.)", code="SE04")
        words = _words(query)
        offset = NAVER_KINDS.index(kind)  # each index leads with different documents
        docs = web_pages.documents(query)
        ranked = [docs[(offset * 3 + i) % len(docs)] for i in range(len(docs))]
        ranked = [d for d in ranked if d.kind != "pdf"]
        if sort == "date":
            ranked.sort(key=lambda d: d.published, reverse=True)
        page = ranked[start - 1 : start - 1 + display]
        items = [_naver_item(kind, request, d, words) for d in page]
        entry.meta.update(query=query, kind=kind, results=len(items))
        return web.json_response(
            {
                "lastBuildDate": email.utils.format_datetime(_kst_now()),
                "total": len(ranked),
                "start": start,
                "display": len(items),
                "items": items,
            }
        )

    return handle


def _kst_now() -> Any:
    from datetime import datetime, timedelta, timezone

    return datetime.now(timezone(timedelta(hours=9))).replace(microsecond=0)


def _naver_item(kind: str, request: web.Request, d: web_pages.Document, words: set[str]) -> dict[str, str]:
    url = _root(request) + d.path
    item = {
        "title": web_pages.highlight(d.title, words),
        "link": url,
        "description": web_pages.highlight(d.snippet(words)[:160], words),
    }
    if kind == "news":
        from datetime import timedelta, timezone

        item["originallink"] = url
        item["pubDate"] = email.utils.format_datetime(d.published.astimezone(timezone(timedelta(hours=9))))
    elif kind == "blog":
        item["bloggername"] = d.site_name
        item["bloggerlink"] = f"{_root(request)}/web/{d.site}/"
        item["postdate"] = f"{d.published:%Y%m%d}"
    return item


# ---- the pages ---------------------------------------------------------------------------------------
_PAGE = re.compile(r"^/(web|members)/([a-z0-9.-]+)/(\d{4})/(\d{2})/(.+)-(\d+)\.html$")
_PDF = re.compile(r"^/web/([a-z0-9.-]+)/reports/(.+)-(\d+)\.pdf$")


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def page_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        path = request.path
        if m := _PDF.match(path):
            doc = web_pages.find(m.group(1), m.group(2), int(m.group(3)), "pdf")
            if doc is None:
                raise EmulatorError(404, "not found")
            data, ctype = web_pages.pdf_bytes(doc), "application/pdf"
        elif m := _PAGE.match(path):
            kind = "members" if m.group(1) == "members" else "html"
            doc = web_pages.find(m.group(2), m.group(5), int(m.group(6)), kind)
            if doc is None or f"{doc.published:%Y/%m}" != f"{m.group(3)}/{m.group(4)}":
                raise EmulatorError(404, "not found")
            data, ctype = doc.html(_root(request) + path).encode(), "text/html"
        else:
            raise EmulatorError(404, "not found")
        etag = _etag(data)
        headers = {
            "ETag": etag,
            "Cache-Control": "public, max-age=3600",
            "Last-Modified": email.utils.format_datetime(doc.published, usegmt=True),
        }
        entry.meta.update(page=path)
        if request.headers.get("If-None-Match") == etag:
            entry.meta.update(not_modified=True)
            return web.Response(status=304, headers=headers)
        charset = "utf-8" if ctype == "text/html" else None
        return web.Response(body=data, content_type=ctype, charset=charset, headers=headers)

    return handle


async def redirect_handler(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
    """``/redirect?to=URL``: a 302 to anywhere (what a hostile page can do to a fetcher)."""
    return web.Response(status=302, headers={"Location": request.query.get("to", "/")})


async def robots_handler(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
    return web.Response(text=web_pages.ROBOTS_TXT, content_type="text/plain")


def add_routes(app: web.Application, ctx: Context) -> None:
    g = ctx.guard
    app.router.add_post("/tavily/search", g("tavily", tavily_key, tavily_handler(ctx), body_key="api_key"))
    app.router.add_get("/naver/v1/search/{kind}.json", g("naver", naver_key, naver_handler(ctx)))
    app.router.add_get("/naverhub/search/v1/{kind}", g("naver", naver_key, naver_handler(ctx)))
    app.router.add_get("/robots.txt", g("web", lambda r: None, robots_handler, allow_anonymous=True))
    app.router.add_get("/redirect", g("web", lambda r: None, redirect_handler, allow_anonymous=True))
    app.router.add_get("/web/{rest:.+}", g("web", lambda r: None, page_handler(ctx), allow_anonymous=True))
    app.router.add_get(
        "/members/{rest:.+}", g("web", lambda r: None, page_handler(ctx), allow_anonymous=True)
    )
