"""Search providers behind one small protocol: Tavily (global web search, through its official SDK) and
the Naver Search API (web documents, news and blogs; what Korean readers search).

A provider answers one query with hits and the record of its calls; a call that failed after its
retries is recorded (with its error kind), never raised, so that the Researcher can fall back and say
why an article has no sources. Quota exhaustion is not retried: waiting minutes for a daily quota to
reset is not something a request should do.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from icop.connectors.errors import (
    ProviderError,
    RetryPolicy,
    call_with_retries,
    kind_for_status,
    parse_retry_after,
)
from icop.connectors.http import tls_context

from .types import SearchCall, SearchHit

_TAG = re.compile(r"<[^>]+>")


@dataclass
class SearchOutcome:
    hits: list[SearchHit] = field(default_factory=list)
    calls: list[SearchCall] = field(default_factory=list)


class SearchProvider(Protocol):
    name: str

    async def search(self, query: str, k: int) -> SearchOutcome: ...


def plain(text: str) -> str:
    """Search-engine markup (``<b>`` highlighting, entities) removed."""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub("", text or ""))).strip()


def _call(provider: str, query: str, index: str, hits: int, err: ProviderError | None) -> SearchCall:
    return SearchCall(
        provider=provider,
        query=query,
        index=index,
        ok=err is None,
        results=hits,
        error=err.message[:300] if err else None,
        error_kind=err.kind if err else None,
    )


# ---- Tavily ------------------------------------------------------------------------------------------
def classify_tavily(exc: BaseException) -> ProviderError | None:
    """The SDK's exceptions as ProviderError. It raises ForbiddenError for 403 and for 432/433 (the key's
    or plan's credits used up): either way no retry helps, and the message says which."""
    from tavily import errors as te

    if isinstance(exc, te.UsageLimitExceededError):
        return ProviderError("tavily", "rate_limited", str(exc) or "rate limit exceeded", status=429)
    if isinstance(exc, te.ForbiddenError):
        return ProviderError("tavily", "quota_exhausted", str(exc) or "usage limit exceeded", status=432)
    if isinstance(exc, te.InvalidAPIKeyError | te.MissingAPIKeyError):
        return ProviderError("tavily", "auth", str(exc) or "invalid API key", status=401)
    if isinstance(exc, te.BadRequestError):
        return ProviderError("tavily", "bad_request", str(exc) or "bad request", status=400)
    if isinstance(exc, te.TimeoutError | httpx.TimeoutException):
        return ProviderError("tavily", "timeout", str(exc) or "timed out")
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return ProviderError(
            "tavily",
            kind_for_status(status),
            f"HTTP {status}",
            status=status,
            retry_after=parse_retry_after(exc.response.headers),
        )
    if isinstance(exc, httpx.TransportError):
        return ProviderError("tavily", "connection", f"{type(exc).__name__}: {exc}"[:300])
    return None


class TavilySearch:
    """``POST {base}/search`` through ``tavily-python``'s async client, on our own httpx client (no proxy
    variables from the environment, our timeout)."""

    name = "tavily"

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        depth: str = "basic",
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.api_key, self.base_url, self.depth = api_key, base_url.rstrip("/"), depth
        self.timeout_s, self.retry = timeout_s, retry or RetryPolicy()

    async def search(self, query: str, k: int) -> SearchOutcome:
        from tavily import AsyncTavilyClient

        async with httpx.AsyncClient(
            base_url=self.base_url, trust_env=False, timeout=self.timeout_s, verify=tls_context()
        ) as http:
            client = AsyncTavilyClient(api_key=self.api_key, client=http)

            async def once() -> dict[str, Any]:
                return dict(
                    await client.search(
                        query,
                        search_depth=self.depth,
                        max_results=k,
                        include_answer=False,
                        timeout=self.timeout_s,
                    )
                )

            try:
                data = await call_with_retries(self.retry, once, classify_tavily, provider=self.name)
            except ProviderError as e:
                return SearchOutcome([], [_call(self.name, query, "web", 0, e)])
        hits = []
        for r in data.get("results") or []:
            if not isinstance(r, dict) or not isinstance(r.get("url"), str):
                continue
            published = _iso_date(r.get("published_date"))
            hits.append(
                SearchHit(
                    plain(str(r.get("title") or "")),
                    r["url"],
                    plain(str(r.get("content") or "")),
                    self.name,
                    published,
                )  # fmt: skip
            )
        return SearchOutcome(hits, [_call(self.name, query, "web", len(hits), None)])


# ---- Naver -------------------------------------------------------------------------------------------
def classify_naver(response: httpx.Response) -> ProviderError:
    """Naver's documented errors: ``{errorMessage, errorCode}``; 429 with code 010 is the application's
    daily quota (not retried), any other 429 a rate limit."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("errorCode") or "") if isinstance(body, dict) else ""
    message = str(body.get("errorMessage") or "") if isinstance(body, dict) else ""
    message = f"{message} ({code})" if code else message or f"HTTP {response.status_code}"
    status = response.status_code
    kind = "quota_exhausted" if status == 429 and code == "010" else kind_for_status(status)
    return ProviderError(
        "naver", kind, message, status=status, retry_after=parse_retry_after(response.headers)
    )


def _iso_date(value: Any) -> str | None:
    """An ISO date from what providers send: RFC 2822 (Naver news, Tavily), YYYYMMDD (Naver blogs), ISO."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip()
    if re.fullmatch(r"\d{8}", v):
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    if re.match(r"\d{4}-\d{2}-\d{2}", v):
        return v[:10]
    try:
        return email.utils.parsedate_to_datetime(v).date().isoformat()
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class NaverEndpoint:
    """Where and how to call it: the Developers Center or its successor, the NAVER API HUB."""

    base_url: str
    path: str = "/{kind}.json"
    id_header: str = "X-Naver-Client-Id"
    secret_header: str = "X-Naver-Client-Secret"


class NaverSearch:
    """``GET {base}{path}?query=&display=&start=1&sort=sim`` for each configured index (webkr, news,
    blog), merged by rank."""

    name = "naver"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoint: NaverEndpoint,
        *,
        kinds: tuple[str, ...] = ("webkr", "news", "blog"),
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client_id, self.client_secret, self.endpoint = client_id, client_secret, endpoint
        self.kinds, self.timeout_s, self.retry = kinds, timeout_s, retry or RetryPolicy()

    async def search(self, query: str, k: int) -> SearchOutcome:
        ep = self.endpoint
        headers = {ep.id_header: self.client_id, ep.secret_header: self.client_secret}
        async with httpx.AsyncClient(
            trust_env=False, timeout=self.timeout_s, headers=headers, verify=tls_context()
        ) as http:
            results = await asyncio.gather(*(self._one(http, query, kind, k) for kind in self.kinds))
        outcome = SearchOutcome()
        seen: set[str] = set()
        lists = [hits for hits, _ in results]
        for rank in range(max((len(h) for h in lists), default=0)):  # interleave the indexes by rank
            for hits in lists:
                if rank < len(hits) and hits[rank].url not in seen:
                    seen.add(hits[rank].url)
                    outcome.hits.append(hits[rank])
        outcome.calls = [call for _, call in results]
        return outcome

    async def _one(
        self, http: httpx.AsyncClient, query: str, kind: str, k: int
    ) -> tuple[list[SearchHit], SearchCall]:
        url = self.endpoint.base_url.rstrip("/") + self.endpoint.path.format(kind=kind)
        params = {"query": query, "display": str(max(1, min(k, 100))), "start": "1", "sort": "sim"}

        async def once() -> dict[str, Any]:
            r = await http.get(url, params=params)
            if r.status_code != 200:
                raise classify_naver(r)
            return dict(r.json())

        def classify(exc: BaseException) -> ProviderError | None:
            if isinstance(exc, httpx.TimeoutException):
                return ProviderError("naver", "timeout", f"{type(exc).__name__}")
            if isinstance(exc, httpx.TransportError):
                return ProviderError("naver", "connection", f"{type(exc).__name__}: {exc}"[:300])
            if isinstance(exc, ValueError):  # a 200 whose body is not JSON
                return ProviderError("naver", "server_error", "the response was not JSON")
            return None

        try:
            data = await call_with_retries(self.retry, once, classify, provider=self.name)
        except ProviderError as e:
            return [], _call(self.name, query, kind, 0, e)
        hits = []
        for item in data.get("items") or []:
            if not isinstance(item, dict) or not isinstance(item.get("link"), str):
                continue
            # news: ``originallink`` is the publisher's page, ``link`` may be Naver's copy of it
            link = item.get("originallink") if isinstance(item.get("originallink"), str) else item["link"]
            published = _iso_date(item.get("pubDate") or item.get("postdate"))
            hits.append(
                SearchHit(
                    plain(str(item.get("title") or "")),
                    link or item["link"],
                    plain(str(item.get("description") or "")),
                    self.name,
                    published,
                )  # fmt: skip
            )
        return hits, _call(self.name, query, kind, len(hits), None)
