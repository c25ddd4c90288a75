"""The search providers against their emulators: Tavily through its official SDK, Naver Search over HTTP
(and its NAVER API HUB successor, by settings only); failures are retried, quotas are not."""

from __future__ import annotations

import re

from emulators.client import EmulatorAdmin
from icop.connectors.errors import RetryPolicy
from icop.research.providers import NaverEndpoint, NaverSearch, TavilySearch
from icop.research.service import Researcher, ResearchRequest
from icop.settings import Settings

from .conftest import unseen_topic

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def tavily(s: Settings, attempts: int = 3) -> TavilySearch:
    assert s.tavily_api_key is not None
    return TavilySearch(s.tavily_api_key.get_secret_value(), s.tavily_base_url,
                        retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.05))  # fmt: skip


def naver(s: Settings, endpoint: NaverEndpoint | None = None, attempts: int = 3) -> NaverSearch:
    ep = endpoint or NaverEndpoint(s.naver_search_base_url)
    return NaverSearch("emulator-naver-id", "emulator-key", ep,
                       retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.05))  # fmt: skip


async def test_tavily_answers_any_query_in_its_language(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    topic = unseen_topic("en")
    out = await tavily(emu_settings).search(topic, 6)
    assert len(out.hits) == 6 and out.calls[0]["ok"] and out.calls[0]["results"] == 6
    assert all(
        h.url.startswith(f"http://{emu_settings.bind_host}:{emu_settings.emulator_port}/") for h in out.hits
    )
    word = topic.split()[1]
    assert all(word in h.title.lower() or word in h.snippet.lower() for h in out.hits)
    [req] = admin.requests("tavily")
    assert req["method"] == "POST" and req["path"] == "/tavily/search" and req["key"] == "emulator-key"[-4:]
    assert req["body"]["query"] == topic and req["body"]["max_results"] == 6  # the SDK's request body
    again = await tavily(emu_settings).search(topic, 6)
    assert [h.url for h in again.hits] == [h.url for h in out.hits]  # deterministic


async def test_naver_searches_web_news_and_blogs_in_korean(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    topic = unseen_topic("ko")
    out = await naver(emu_settings).search(topic, 5)
    assert {c["index"] for c in out.calls} == {"webkr", "news", "blog"} and all(c["ok"] for c in out.calls)
    assert out.hits and all(HANGUL.search(h.title) for h in out.hits)
    assert all("<b>" not in h.title and "</b>" not in h.snippet for h in out.hits)  # highlighting removed
    assert len({h.url for h in out.hits}) == len(out.hits)  # merged without repeats
    assert any(h.published and re.fullmatch(r"\d{4}-\d{2}-\d{2}", h.published) for h in out.hits)
    reqs = admin.requests("naver")
    assert sorted(r["path"].split("?")[0] for r in reqs) == [
        "/naver/v1/search/blog.json", "/naver/v1/search/news.json", "/naver/v1/search/webkr.json",
    ]  # fmt: skip


async def test_naver_api_hub_is_a_change_of_settings(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    root = f"http://{emu_settings.bind_host}:{emu_settings.emulator_port}"
    hub = NaverEndpoint(
        f"{root}/naverhub/search/v1", "/{kind}", "X-NCP-APIGW-API-KEY-ID", "X-NCP-APIGW-API-KEY"
    )
    out = await naver(emu_settings, hub).search("제주 감귤 수확", 3)
    assert out.hits and all(c["ok"] for c in out.calls)
    assert {r["path"].split("?")[0] for r in admin.requests("naver")} == {
        "/naverhub/search/v1/webkr", "/naverhub/search/v1/news", "/naverhub/search/v1/blog",
    }  # fmt: skip
    # the old header names are refused there, as the real gateway would
    wrong = NaverEndpoint(f"{root}/naverhub/search/v1", "/{kind}")
    refused = await naver(emu_settings, wrong, attempts=3).search("제주", 3)
    assert not refused.hits and {c["error_kind"] for c in refused.calls} == {"auth"}
    assert all("024" in (c["error"] or "") for c in refused.calls)


async def test_transient_failures_are_retried(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("tavily", error_count=2, error_kind="500")
    out = await tavily(emu_settings).search("winter cycling", 3)
    assert out.hits and out.calls[0]["ok"]
    assert [r["status"] for r in admin.requests("tavily")] == [500, 500, 200]


async def test_quota_exhaustion_is_not_retried_and_is_reported(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    admin.knobs("tavily", quota=0)
    admin.knobs("naver", quota=0)
    result = await Researcher(emu_settings).research(ResearchRequest(unseen_topic("en"), "en"))
    assert not result.sourced and result.sources == []
    reason = result.report["reason"] or ""
    assert "Tavily search quota is used up" in reason and "add your own Tavily key" in reason
    assert {(c["provider"], c["error_kind"]) for c in result.report["searches"]} == {
        ("tavily", "quota_exhausted"), ("naver", "quota_exhausted"),
    }  # fmt: skip
    # one request each: Tavily's 432 and Naver's 429/010 end the attempt at once
    assert [r["status"] for r in admin.requests("tavily")] == [432]
    naver_reqs = admin.requests("naver")
    assert len(naver_reqs) == 3 and {r["status"] for r in naver_reqs} == {429}
    assert admin.requests("web") == []  # nothing to fetch


async def test_a_provider_failing_30_percent_of_calls_still_yields_sourced_articles(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    admin.knobs("tavily", error_rate=0.3, error_kind="500", seed=11)
    researcher = Researcher(emu_settings.model_copy(update={"provider_max_attempts": 3}))
    results = [await researcher.research(ResearchRequest(unseen_topic("en"), "en")) for _ in range(8)]
    assert all(r.sourced and len(r.sources) >= 3 for r in results)
    statuses = [r["status"] for r in admin.requests("tavily")]
    assert statuses.count(500) >= 1  # failures happened, and were retried (or Naver stepped in)
    assert statuses.count(200) == sum(r.report["provider"] == "tavily" for r in results)
