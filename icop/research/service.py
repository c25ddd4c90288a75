"""The Researcher's work before any model is asked: search, fetch the top results, extract their main
text, drop near-duplicates, and number what is left as the article's sources.

Which provider: the pipeline's choice, else ``ICOP_RESEARCH_SEARCH_PROVIDER``; ``auto`` means Naver for
Korean articles and Tavily for the rest, and falls back to the other provider when the first has no key or
fails. Which key: the tenant's own (vault) where it stored one, else the platform's.

An article whose research yields no source is not an exception here: the result says ``unsourced`` and
why, and the caller applies the pipeline's policy (continue, marked as such, or fail the article).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
import httpx

from icop.connectors.errors import RetryPolicy
from icop.connectors.http import tls_context
from icop.settings import Settings
from icop.vault import Vault

from .extract import NEAR_DUPLICATE, ExtractedPage, extract_page, passages, shingles, similarity
from .fetch import FetchRefused, MemoryPageCache, PageCache, PageFetcher, PgPageCache
from .keys import SearchKeys, search_keys
from .providers import NaverEndpoint, NaverSearch, SearchProvider, TavilySearch
from .types import (
    FailurePolicy,
    PageFetch,
    ProviderChoice,
    ProviderName,
    ResearchReport,
    SearchCall,
    SearchHit,
    Source,
)

PROVIDER_TITLES = {"tavily": "Tavily", "naver": "Naver"}


@dataclass(frozen=True)
class ResearchRequest:
    topic: str
    language: str
    tenant_id: str | None = None
    provider: ProviderChoice | None = None  # None: the platform's ICOP_RESEARCH_SEARCH_PROVIDER


@dataclass
class ResearchResult:
    sources: list[Source]
    report: ResearchReport

    @property
    def sourced(self) -> bool:
        return self.report["status"] == "sourced"


@dataclass
class _Run:
    searches: list[SearchCall] = field(default_factory=list)
    pages: list[PageFetch] = field(default_factory=list)


def provider_order(choice: ProviderChoice, language: str, keys: SearchKeys) -> list[ProviderName]:
    """The providers to try, first choice first: an explicit choice is the only one; ``auto`` prefers
    Naver for Korean and Tavily otherwise, then the other one. Providers without a key are left out."""
    if choice in ("tavily", "naver"):
        order: list[ProviderName] = [choice]
    else:
        order = ["naver", "tavily"] if language == "ko" else ["tavily", "naver"]
    have = {"tavily": keys.tavily is not None, "naver": keys.naver is not None}
    return [p for p in order if have[p]]


class Researcher:
    """Built once per process; ``research`` runs per article (its own HTTP client and cache view)."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool | None = None,
        vault: Vault | None = None,
        *,
        memory_cache: PageCache | None = None,
    ) -> None:
        self.s, self.pool, self.vault = settings, pool, vault
        self.memory_cache = memory_cache or MemoryPageCache()

    @property
    def failure_policy(self) -> FailurePolicy:
        """The platform's default when a pipeline names none."""
        return self.s.research_on_search_failure

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool | None = None) -> Researcher:
        vault = Vault.from_spec(settings.vault_keys.get_secret_value()) if pool is not None else None
        return cls(settings, pool, vault)

    def _retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.s.provider_max_attempts, max_retry_after_s=self.s.provider_max_retry_after_s
        )

    def _provider(self, name: ProviderName, keys: SearchKeys) -> SearchProvider:
        s = self.s
        if name == "tavily":
            assert keys.tavily is not None
            return TavilySearch(keys.tavily, s.tavily_base_url, depth=s.tavily_search_depth,
                                timeout_s=s.provider_timeout_s, retry=self._retry())  # fmt: skip
        assert keys.naver is not None
        endpoint = NaverEndpoint(
            s.naver_search_base_url,
            s.naver_search_path,
            s.naver_client_id_header,
            s.naver_client_secret_header,
        )
        kinds = tuple(k.strip() for k in s.naver_search_kinds.split(",") if k.strip())
        return NaverSearch(
            *keys.naver, endpoint, kinds=kinds, timeout_s=s.provider_timeout_s, retry=self._retry()
        )

    def _cache(self, tenant_id: str | None) -> PageCache:
        if self.pool is not None and tenant_id:
            return PgPageCache(self.pool, tenant_id)
        return self.memory_cache

    async def research(self, req: ResearchRequest) -> ResearchResult:
        run = _Run()
        keys = await search_keys(self.s, self.pool, self.vault, req.tenant_id)
        choice = req.provider or self.s.research_search_provider
        order = provider_order(choice, req.language, keys)
        if not order:
            wanted = choice if choice != "auto" else ("naver" if req.language == "ko" else "tavily")
            return self._unsourced(
                run, None,
                f"no search key is configured for {PROVIDER_TITLES[wanted]}: add one under Credentials "
                f"(platform '{wanted}') or set the platform's ICOP_{wanted.upper()}_* settings",
            )  # fmt: skip
        hits: list[SearchHit] = []
        used: str | None = None
        for name in order:
            outcome = await self._provider(name, keys).search(req.topic, self.s.research_max_results)
            run.searches.extend(outcome.calls)
            if outcome.hits:
                hits, used = outcome.hits, name
                break
        if not hits:
            return self._unsourced(run, order[0], self._search_failure(req.topic, run.searches))
        sources = await self._sources(req, hits, run)
        if not sources:
            return self._unsourced(run, used, self._fetch_failure(run.pages))
        report = ResearchReport(status="sourced", provider=used, reason=None, searches=run.searches,
                                pages=run.pages)  # fmt: skip
        return ResearchResult(sources, report)

    async def _sources(self, req: ResearchRequest, hits: list[SearchHit], run: _Run) -> list[Source]:
        candidates = hits[: self.s.research_fetch_pages]
        gate = asyncio.Semaphore(max(1, self.s.research_fetch_concurrency))
        async with httpx.AsyncClient(
            trust_env=False, timeout=self.s.research_fetch_timeout_s, verify=tls_context()
        ) as http:
            fetcher = PageFetcher(self.s, self._cache(req.tenant_id), http)

            async def one(hit: SearchHit) -> tuple[ExtractedPage | None, PageFetch]:
                async with gate:
                    try:
                        page = await fetcher.fetch(hit.url)
                    except FetchRefused as e:
                        return None, PageFetch(url=hit.url, outcome=e.outcome, detail=e.detail[:300])
                extracted = await asyncio.to_thread(extract_page, page.body, page.url)
                if extracted is None:
                    return None, PageFetch(url=hit.url, outcome="empty", detail="no main text found")
                return extracted, PageFetch(url=hit.url, outcome=page.outcome, detail="")

            done = await asyncio.gather(*(one(h) for h in candidates))
        sources: list[Source] = []
        kept: list[set[str]] = []
        for hit, (page, record) in zip(candidates, done, strict=True):
            if page is not None:
                grams = shingles(page.text)
                twin = next((i for i, g in enumerate(kept) if similarity(grams, g) >= NEAR_DUPLICATE), None)
                if twin is not None:
                    record = PageFetch(url=hit.url, outcome="duplicate", detail=f"same text as [{twin + 1}]")
                elif len(sources) < self.s.research_max_sources:
                    kept.append(grams)
                    sources.append(
                        Source(
                            n=len(sources) + 1,
                            url=hit.url,
                            title=page.title or hit.title,
                            site=page.site,
                            published=page.published or hit.published,
                            passages=passages(page, req.topic),
                            provider=hit.provider,
                        )  # fmt: skip
                    )
            run.pages.append(record)
        return sources

    def _unsourced(self, run: _Run, provider: str | None, reason: str) -> ResearchResult:
        report = ResearchReport(status="unsourced", provider=provider, reason=reason, searches=run.searches,
                                pages=run.pages)  # fmt: skip
        return ResearchResult([], report)

    @staticmethod
    def _search_failure(topic: str, calls: list[SearchCall]) -> str:
        failed = [c for c in calls if not c["ok"]]
        if not failed:
            return f"the web search for {topic!r} returned no results"
        quota = [c for c in failed if c["error_kind"] == "quota_exhausted"]
        if quota:
            c = quota[0]
            who = PROVIDER_TITLES.get(c["provider"], c["provider"])
            return (
                f"the {who} search quota is used up ({c['error']}); articles are written unsourced until it "
                f"resets — raise the plan's limit or add your own {who} key under Credentials"
            )
        auth = [c for c in failed if c["error_kind"] == "auth"]
        if auth:
            who = PROVIDER_TITLES.get(auth[0]["provider"], auth[0]["provider"])
            return f"the {who} search key was refused ({auth[0]['error']}); check the key under Credentials"
        c = failed[-1]
        who = PROVIDER_TITLES.get(c["provider"], c["provider"])
        return f"the {who} search failed after retries ({c['error_kind']}: {c['error']})"

    @staticmethod
    def _fetch_failure(pages: list[PageFetch]) -> str:
        counts: dict[str, int] = {}
        for p in pages:
            counts[p["outcome"]] = counts.get(p["outcome"], 0) + 1
        why = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
        return f"none of the {len(pages)} search results could be fetched and extracted ({why})"
