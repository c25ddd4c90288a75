"""The Researcher's HTTP client for other people's pages.

- Where it may connect: :func:`icop.events.ssrf.vet_public`, the webhook rule — https, public addresses
  only, checked for every redirect hop, and the connection goes to the vetted address. In development the
  ``ICOP_RESEARCH_FETCH_ALLOW`` pairs (the embedded emulators' pages) are let through; never in production.
- What it reads: HTML only, at most ``research_fetch_max_bytes``, within ``research_fetch_timeout_s``.
- Whether it may: ``robots.txt`` is honoured (``urllib.robotparser``) for our User-Agent.
- How often: pages are cached per tenant and URL; a fresh copy (Cache-Control max-age, or the default TTL
  when the page names none) is not fetched again, a stale one is revalidated with its ETag /
  Last-Modified, ``no-store`` is never kept.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser
from uuid import UUID

import asyncpg
import httpx

from icop.db import tenant_tx
from icop.events.ssrf import UnsafeWebhookURL, vet_public
from icop.settings import Settings

from . import repository

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 5
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*(\d+)", re.IGNORECASE)


class FetchRefused(Exception):
    """The page was not fetched (or not usable); ``outcome`` names why, ``detail`` says it in words."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(f"{outcome}: {detail}")
        self.outcome, self.detail = outcome, detail


@dataclass(frozen=True)
class CachedPage:
    url: str
    status_code: int
    content_type: str
    etag: str | None
    last_modified: str | None
    body: str | None
    expires_at: datetime


@dataclass(frozen=True)
class FetchedPage:
    url: str
    content_type: str
    body: str
    outcome: str  # fetched | cached | revalidated


class PageCache(Protocol):
    async def get(self, url: str) -> CachedPage | None: ...

    async def put(self, page: CachedPage) -> None: ...

    async def refresh(self, url: str, expires_at: datetime) -> None: ...


class MemoryPageCache:
    """One process's cache (the CLI without a tenant)."""

    def __init__(self) -> None:
        self.pages: dict[str, CachedPage] = {}

    async def get(self, url: str) -> CachedPage | None:
        return self.pages.get(url)

    async def put(self, page: CachedPage) -> None:
        self.pages[page.url] = page

    async def refresh(self, url: str, expires_at: datetime) -> None:
        if (p := self.pages.get(url)) is not None:
            self.pages[url] = CachedPage(
                p.url, p.status_code, p.content_type, p.etag, p.last_modified, p.body, expires_at
            )


class PgPageCache:
    """The tenant's cache in ``research_pages`` (row-level security: only that tenant's pages)."""

    def __init__(self, pool: asyncpg.Pool, tenant_id: str | UUID) -> None:
        self.pool, self.tenant_id = pool, UUID(str(tenant_id))

    async def get(self, url: str) -> CachedPage | None:
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            row = await repository.cached_page(conn, self.tenant_id, url)
        return CachedPage(**dict(row)) if row else None

    async def put(self, page: CachedPage) -> None:
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            await repository.store_page(
                conn, self.tenant_id, page.url, page.status_code, page.content_type, page.etag,
                page.last_modified, page.body, page.expires_at,
            )  # fmt: skip

    async def refresh(self, url: str, expires_at: datetime) -> None:
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            await repository.refresh_page(conn, self.tenant_id, url, expires_at)


def fetch_allow_list(s: Settings) -> frozenset[str]:
    """The development allow-list; empty outside development, whatever the setting says."""
    if s.env != "development":
        return frozenset()
    return frozenset(p.strip().lower() for p in s.research_fetch_allow.split(",") if p.strip())


def freshness(headers: httpx.Headers, default_ttl_s: int, now: datetime) -> datetime | None:
    """Until when a response may be reused without asking again; None: it may not be stored."""
    cc = headers.get("cache-control", "").lower()
    if "no-store" in cc or "private" in cc:
        return None
    if "no-cache" in cc:
        return now  # stored, but revalidated before every use
    if m := _MAX_AGE.search(cc):
        return now + timedelta(seconds=int(m.group(1)))
    return now + timedelta(seconds=default_ttl_s)


def without_fragment(url: str) -> str:
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


class PageFetcher:
    """Fetches pages for one article (one tenant's cache)."""

    def __init__(self, settings: Settings, cache: PageCache, http: httpx.AsyncClient) -> None:
        self.s, self.cache, self.http = settings, cache, http
        self.allowed = fetch_allow_list(settings)
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_lock = asyncio.Lock()

    async def fetch(self, url: str) -> FetchedPage:
        """The page's HTML (from the cache when it is fresh); FetchRefused when it may not or cannot be
        had."""
        url = without_fragment(url)
        now = datetime.now(UTC)
        cached = await self.cache.get(url)
        if cached is not None and cached.expires_at > now:
            return self._usable(cached, "cached")
        if not await self._robots_allow(url):
            raise FetchRefused("robots", "robots.txt disallows fetching it")
        headers = {}
        if cached is not None and cached.body is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        status, final_url, resp_headers, body = await self._get(url, headers, HTML_TYPES)
        if status == 304 and cached is not None:
            expires = freshness(resp_headers, self.s.research_cache_ttl_s, now) or now
            await self.cache.refresh(url, expires)
            return self._usable(cached, "revalidated")
        if status != 200:
            raise FetchRefused("failed", f"HTTP {status}")
        ctype = resp_headers.get("content-type", "").split(";")[0].strip().lower()
        keep_until = freshness(resp_headers, self.s.research_cache_ttl_s, now)
        if keep_until is not None:
            await self.cache.put(
                CachedPage(
                    url,
                    status,
                    ctype,
                    resp_headers.get("etag"),
                    resp_headers.get("last-modified"),
                    body,
                    keep_until,
                )  # fmt: skip
            )
        return FetchedPage(final_url, ctype, body, "fetched")

    def _usable(self, page: CachedPage, outcome: str) -> FetchedPage:
        if page.status_code != 200 or page.body is None:
            raise FetchRefused("failed", f"HTTP {page.status_code} (cached)")
        return FetchedPage(page.url, page.content_type, page.body, outcome)

    # -- robots.txt --------------------------------------------------------------------------------
    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_lock:  # one robots.txt fetch per site and article
            parser = self._robots.get(origin)
            if parser is None:
                parser = await self._load_robots(origin)
                self._robots[origin] = parser
        return parser.can_fetch(self.s.research_user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser:
        robots_url = f"{origin}/robots.txt"
        parser = RobotFileParser(robots_url)
        now = datetime.now(UTC)
        cached = await self.cache.get(robots_url)
        if cached is not None and cached.expires_at > now:
            status, text = cached.status_code, cached.body or ""
        else:
            try:
                status, _, headers, text = await self._get(robots_url, {}, ("text/plain",), lenient=True)
            except FetchRefused as e:
                if e.outcome == "refused":
                    raise
                status, text, headers = 503, "", httpx.Headers()
            robots_until = freshness(headers, self.s.research_cache_ttl_s, now)
            if robots_until is not None and status < 500:
                await self.cache.put(
                    CachedPage(robots_url, status, "text/plain", None, None, text, robots_until)
                )
        if status in (401, 403) or status >= 500:
            parser.parse(["User-agent: *", "Disallow: /"])  # unknown or forbidden rules: do not crawl
        elif status >= 400:
            parser.parse([])  # no robots.txt: everything is allowed
        else:
            parser.parse(text.splitlines())
        parser.modified()
        return parser

    # -- one GET, redirects vetted hop by hop --------------------------------------------------------
    async def _get(
        self, url: str, headers: dict[str, str], types: tuple[str, ...], *, lenient: bool = False
    ) -> tuple[int, str, httpx.Headers, str]:
        deadline = time.monotonic() + self.s.research_fetch_timeout_s
        for _ in range(MAX_REDIRECTS + 1):
            try:
                target = await vet_public(url, self.allowed)
            except UnsafeWebhookURL as e:
                raise FetchRefused("refused", str(e)) from None
            req_headers = {
                "host": target.host_header,
                "user-agent": self.s.research_user_agent,
                "accept": ", ".join(types) + ";q=1.0, */*;q=0.1",
                **headers,
            }
            ext = {"sni_hostname": target.host} if target.scheme == "https" else {}
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchRefused("failed", "timed out")
            try:
                async with asyncio.timeout(left):
                    req = self.http.build_request(
                        "GET", target.connect_url, headers=req_headers, extensions=ext
                    )
                    resp = await self.http.send(req, stream=True, follow_redirects=False)
                    try:
                        if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                            url = without_fragment(urljoin(url, resp.headers["location"]))
                            continue
                        if resp.status_code != 200:
                            return resp.status_code, url, resp.headers, ""
                        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                        if ctype not in types and not lenient:
                            raise FetchRefused("not_html", f"content type {ctype or 'missing'}")
                        body = await self._read(resp)
                    finally:
                        await resp.aclose()
            except TimeoutError:
                raise FetchRefused(
                    "failed", f"timed out after {self.s.research_fetch_timeout_s:g}s"
                ) from None
            except httpx.HTTPError as e:
                raise FetchRefused("failed", f"{type(e).__name__}") from None
            return 200, url, resp.headers, body
        raise FetchRefused("failed", f"more than {MAX_REDIRECTS} redirects")

    async def _read(self, resp: httpx.Response) -> str:
        limit = self.s.research_fetch_max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchRefused("too_large", f"{declared} bytes (limit {limit})")
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():  # decompressed: the limit holds for what is parsed
            size += len(chunk)
            if size > limit:
                raise FetchRefused("too_large", f"more than {limit} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        charset = resp.charset_encoding or "utf-8"
        try:
            return data.decode(charset, "replace")
        except LookupError:
            return data.decode("utf-8", "replace")
