"""Research as the product runs it: the agents activity with the tenant's own search key from the vault,
the article's sources and research outcome in the public API, and a used-up quota reported on the
article (continue: marked unsourced; fail: a non-retryable failure with the reason)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from emulators.client import EmulatorAdmin
from gateway.app import create_app
from graphs.article.agents import make_agents
from graphs.article.graph import local_writers
from icop.db import tenant_tx
from icop.research.service import Researcher
from icop.runs.admission import RunLimits
from icop.settings import Settings
from icop.storage import make_store
from tests.gateway.conftest import TenantHandle, sheet, sign_up
from workflows.activities.articles import ArticleActivities, LangGraphArticleGraph
from workflows.types import GraphInput

from .conftest import unseen_topic


@pytest.fixture(scope="module")
async def api(
    emu_settings: Settings, settings: Settings, app_pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    # the session's sign-in throttles (loosened for the suite; emu_settings has only the defaults)
    throttles = {k: getattr(settings, k) for k in Settings.model_fields if k.startswith("auth_")}
    app = create_app(emu_settings.model_copy(update=throttles), pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


@pytest.fixture(scope="module")
def activities(emu_settings: Settings, app_pool: asyncpg.Pool) -> ArticleActivities:
    class NoVoice:
        async def style_samples(self, *args: Any) -> list[str]:
            return []

    graph = LangGraphArticleGraph(
        app_pool, local_writers(emu_settings), make_agents(emu_settings), NoVoice(),
        Researcher.from_settings(emu_settings, app_pool),
    )  # fmt: skip
    return ArticleActivities(app_pool, make_store(emu_settings), graph, RunLimits.from_settings(emu_settings))


async def new_article(pool: asyncpg.Pool, tenant_id: str) -> str:
    aid = uuid.uuid4()
    async with tenant_tx(pool, tenant_id) as conn:
        await conn.execute(
            "INSERT INTO generated_articles (id, tenant_id, language, mode) VALUES ($1, $2, 'en', 'merge')",
            aid,
            uuid.UUID(tenant_id),
        )
    return str(aid)


def graph_input(t: TenantHandle, article: str, **kw: Any) -> GraphInput:
    return GraphInput(t.tenant_id, article, unseen_topic("en"), "", "en", "", "merge", ["gpt"], **kw)


async def test_the_tenants_own_key_and_the_sources_in_the_api(
    api: httpx.AsyncClient, activities: ArticleActivities, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    t = await sign_up(api)
    own_key = f"tvly-tenant-{uuid.uuid4().hex[:8]}"
    r = await api.post(
        "/v1/credentials",
        json={"platform": "tavily", "account_id": "default", "access_token": own_key},
        headers=t.h,
    )
    assert r.status_code == 201, r.text
    article = await new_article(app_pool, t.tenant_id)
    result = await ActivityEnvironment().run(activities.run_agent_graph, graph_input(t, article))
    assert result.title

    [search] = admin.requests("tavily")
    assert search["key"] == own_key[-4:]  # the tenant's key, decrypted from the vault, not the platform's

    detail = (await api.get(f"/v1/articles/{article}", headers=t.h)).json()
    assert detail["research"]["status"] == "sourced" and detail["research"]["provider"] == "tavily"
    assert detail["research"]["reason"] is None and detail["research"]["pages_fetched"] >= 3
    sources = detail["sources"]
    assert len(sources) >= 3 and [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    assert all(s["url"].startswith("http://") and s["title"] and s["passages"] for s in sources)
    other = await sign_up(api)
    assert (await api.get(f"/v1/articles/{article}", headers=other.h)).status_code == 404


async def test_a_used_up_quota_is_reported_on_the_article(
    api: httpx.AsyncClient, activities: ArticleActivities, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    admin.knobs("tavily", quota=0)
    admin.knobs("naver", quota=0)
    t = await sign_up(api)
    article = await new_article(app_pool, t.tenant_id)
    await ActivityEnvironment().run(activities.run_agent_graph, graph_input(t, article))
    detail = (await api.get(f"/v1/articles/{article}", headers=t.h)).json()
    assert detail["sources"] == [] and detail["research"]["status"] == "unsourced"
    assert "quota is used up" in detail["research"]["reason"]

    failing = await new_article(app_pool, t.tenant_id)
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(
            activities.run_agent_graph, graph_input(t, failing, on_research_failure="fail")
        )
    assert err.value.non_retryable and err.value.type == "ResearchFailed"  # reported, not retried forever
    assert "quota is used up" in str(err.value)


async def test_pipeline_research_settings_are_checked(api: httpx.AsyncClient) -> None:
    t = await sign_up(api)
    ok = {
        "name": "research",
        "sheet_id": sheet(),
        "settings": {"search_provider": "naver", "on_research_failure": "fail"},
    }
    r = await api.post("/v1/pipelines", headers=t.h, json=ok)
    assert r.status_code == 201, r.text
    for bad in ({"search_provider": "bing"}, {"on_research_failure": "retry forever"}):
        r = await api.post(
            "/v1/pipelines", headers=t.h, json={"name": "x", "sheet_id": sheet(), "settings": bad}
        )
        assert r.status_code == 422, r.text
        assert "search_provider" in r.text or "on_research_failure" in r.text
