"""The page fetcher: the webhook SSRF rule in production (same URL list), the development allow-list as
the only way to loopback, robots.txt, content types, size and time limits, and the per-tenant cache that
keeps a retry from fetching again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from emulators.client import EmulatorAdmin
from emulators.web_pages import documents
from icop.db import tenant_tx
from icop.research.fetch import FetchRefused, MemoryPageCache, PageCache, PageFetcher, PgPageCache
from icop.settings import Settings
from tests.events.test_ssrf import UNSAFE_TARGETS

from .conftest import new_tenant, page_gets


def root(s: Settings) -> str:
    return f"http://{s.bind_host}:{s.emulator_port}"


def page_url(s: Settings, query: str, rank: int = 0) -> str:
    return root(s) + documents(query)[rank].path


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c


def fetcher(s: Settings, http: httpx.AsyncClient, cache: PageCache | None = None) -> PageFetcher:
    return PageFetcher(s, cache or MemoryPageCache(), http)


@pytest.mark.parametrize("url", UNSAFE_TARGETS)
async def test_production_refuses_what_webhooks_refuse(
    url: str, emu_settings: Settings, http: httpx.AsyncClient
) -> None:
    prod = emu_settings.model_copy(update={"env": "production"})
    with pytest.raises(FetchRefused) as refused:
        await fetcher(prod, http).fetch(url)
    assert refused.value.outcome == "refused"


async def test_production_ignores_the_development_allow_list(
    emu_settings: Settings, admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    assert emu_settings.research_fetch_allow  # the emulators' pages are allowed in development ...
    prod = emu_settings.model_copy(update={"env": "production"})
    with pytest.raises(FetchRefused, match="only https"):
        await fetcher(prod, http).fetch(page_url(prod, "winter cycling"))
    assert admin.requests("web") == []  # ... and in production nothing was sent
    with pytest.raises(ValueError, match="ICOP_RESEARCH_FETCH_ALLOW"):  # nor can it be configured there
        Settings(env="production", jwt_secret="x" * 40, vault_keys="k1:" + "QUFB" * 11,
                 database_url="postgresql://a@b/c", research_fetch_allow="127.0.0.1:1")  # fmt: skip


async def test_development_reaches_only_the_allow_listed_loopback(
    emu_settings: Settings, admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    f = fetcher(emu_settings, http)
    page = await f.fetch(page_url(emu_settings, "winter cycling"))
    assert page.outcome == "fetched" and "<article>" in page.body
    other_port = f"http://{emu_settings.bind_host}:{emu_settings.social_emulator_port}/v1.0/me"
    with pytest.raises(FetchRefused) as refused:  # another loopback service: not an open door
        await f.fetch(other_port)
    assert refused.value.outcome == "refused"
    # a redirect is vetted hop by hop: the allow-listed page may not bounce the fetcher to the metadata IP
    with pytest.raises(FetchRefused) as bounced:
        await f.fetch(f"{root(emu_settings)}/redirect?to=http://169.254.169.254/latest/meta-data/")
    assert bounced.value.outcome == "refused"


async def test_robots_content_type_size_and_time_limits(
    emu_settings: Settings, admin: EmulatorAdmin, http: httpx.AsyncClient
) -> None:
    cache = MemoryPageCache()
    f = fetcher(emu_settings, http, cache)
    docs = documents("balcony tomatoes")
    members = next(d for d in docs if d.kind == "members")
    pdf = next(d for d in docs if d.kind == "pdf")
    with pytest.raises(FetchRefused) as robots:
        await f.fetch(root(emu_settings) + members.path)
    assert robots.value.outcome == "robots"
    assert [e["path"] for e in admin.requests("web")] == ["/robots.txt"]  # the page itself never asked for
    with pytest.raises(FetchRefused) as pdf_refused:
        await f.fetch(root(emu_settings) + pdf.path)
    assert pdf_refused.value.outcome == "not_html"

    small = fetcher(emu_settings.model_copy(update={"research_fetch_max_bytes": 500}), http)
    with pytest.raises(FetchRefused) as large:
        await small.fetch(page_url(emu_settings, "balcony tomatoes", 1))
    assert large.value.outcome == "too_large"

    admin.knobs("web", latency_ms=1500)  # robots.txt is cached by now: only the page is slow
    quick = fetcher(emu_settings.model_copy(update={"research_fetch_timeout_s": 0.4}), http, cache)
    with pytest.raises(FetchRefused, match="timed out"):
        await quick.fetch(page_url(emu_settings, "balcony tomatoes", 2))


async def test_pages_are_cached_per_tenant_and_revalidated_with_their_etag(
    emu_settings: Settings, admin: EmulatorAdmin, http: httpx.AsyncClient, app_pool: asyncpg.Pool
) -> None:
    a, b = await new_tenant(app_pool), await new_tenant(app_pool)
    url = page_url(emu_settings, "night markets in small towns", 1)
    first = await fetcher(emu_settings, http, PgPageCache(app_pool, a)).fetch(url)
    again = await fetcher(emu_settings, http, PgPageCache(app_pool, a)).fetch(url)  # a retry, a new fetcher
    assert (first.outcome, again.outcome) == ("fetched", "cached") and again.body == first.body
    assert len([e for e in page_gets(admin) if e["path"] != "/robots.txt"]) == 1

    other = await fetcher(emu_settings, http, PgPageCache(app_pool, b)).fetch(url)
    assert other.outcome == "fetched" and len(page_gets(admin)) == 2  # another tenant's cache is its own

    async with tenant_tx(app_pool, a) as conn:  # the page's max-age has passed
        await conn.execute("UPDATE research_pages SET expires_at = now() - interval '1 minute'")
    mark = admin.last_seq()
    stale = await fetcher(emu_settings, http, PgPageCache(app_pool, a)).fetch(url)
    assert stale.outcome == "revalidated" and stale.body == first.body
    [conditional] = page_gets(admin, mark)
    assert conditional["status"] == 304

    async with tenant_tx(app_pool, b) as conn:
        rows = await conn.fetch("SELECT tenant_id FROM research_pages")
    assert {r["tenant_id"] for r in rows} == {b}  # row-level security: b sees only its own pages
