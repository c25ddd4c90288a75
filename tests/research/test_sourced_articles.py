"""Articles grounded in sources: a topic made up at run time (so it is in no code and no test), in English
and in Korean, goes through the whole graph — search, fetch, extract, writers, editor, formatter — and
comes out citing at least three sources, each a page the emulated web served during the run."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulators.client import EmulatorAdmin
from graphs.article.agents import CrewAgents, make_agents
from graphs.article.graph import article_input, local_writers, make_graph
from graphs.article.nodes import ResearchFailed
from graphs.article.prompts import NO_SOURCES_RULE
from graphs.article.writers import WRITER_MARK
from icop.articles.citations import cited
from icop.research.service import Researcher
from icop.settings import Settings
from tests.graphs.conftest import body_text, writer_requests

from .conftest import fetched_urls, unseen_topic

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def agents(emu_settings: Settings) -> Any:
    a = make_agents(emu_settings)
    assert isinstance(a, CrewAgents)
    return a


def graph(settings: Settings, agents: Any) -> Any:
    return make_graph(local_writers(settings), agents, researcher=Researcher(settings))


@pytest.mark.parametrize(
    ("language", "provider", "heading"), [("en", "tavily", "## Sources"), ("ko", "naver", "## 출처")]
)
async def test_an_unseen_topic_comes_out_citing_fetched_sources(
    language: str, provider: str, heading: str, emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    topic = unseen_topic(language)
    mark = admin.last_seq()
    out = await graph(emu_settings, agents).ainvoke(article_input(topic, "compare", language))

    report, sources = out["research_report"], out["sources"]
    assert report["status"] == "sourced" and report["provider"] == provider
    assert [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    numbers = {s["n"] for s in sources}
    used = [n for n in cited(out["article"]) if n in numbers]
    assert len(used) >= 3, out["article"]
    served = fetched_urls(admin, f"http://{emu_settings.bind_host}:{emu_settings.emulator_port}", mark)
    by_n = {s["n"]: s for s in sources}
    for n in used:  # every cited source was fetched during this run, and its text extracted
        src = by_n[n]
        assert src["url"] in served
        assert src["passages"] and all(len(p) > 40 for p in src["passages"])
        assert src["title"] and src["site"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", src["published"] or "")
        if language == "ko":
            assert HANGUL.search(src["title"]) and HANGUL.search(src["passages"][0])
    assert len({s["url"] for s in sources}) == len(sources)
    assert any(p["outcome"] == "duplicate" for p in report["pages"])  # the syndicated copy was dropped

    # the writers were told to cite, and were given the numbered sources
    [w] = writer_requests(admin, mark)[:1]
    text = body_text(w)
    assert WRITER_MARK in text and "[1] " in text and sources[0]["url"] in text

    md = out["markdown"]
    body = md.split("\n---\n", 1)[1]
    for n in used:
        assert f"[^{n}]" in body and f"[^{n}]: [" in body
    assert heading in body and "sourced: true" in md
    assert not re.search(r"(?<!\^)\[\d+\](?!\()", body.split(heading)[0])  # every marker became a footnote


async def test_no_source_continues_unsourced_and_says_so(
    emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    admin.knobs("tavily", quota=0)
    admin.knobs("naver", quota=0)
    out = await graph(emu_settings, agents).ainvoke(article_input(unseen_topic("en"), "merge"))
    assert out["sources"] == [] and out["research_report"]["status"] == "unsourced"
    assert "quota is used up" in (out["research_report"]["reason"] or "")
    assert all(NO_SOURCES_RULE in body_text(w) for w in writer_requests(admin))
    md = out["markdown"]
    assert "sourced: false" in md and "without sources" in md and "quota is used up" in md
    assert "[^" not in md


async def test_no_source_fails_the_article_when_the_pipeline_says_so(
    emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    admin.knobs("tavily", quota=0)
    admin.knobs("naver", quota=0)
    with pytest.raises(ResearchFailed, match="quota is used up"):
        await graph(emu_settings, agents).ainvoke(
            article_input(unseen_topic("en"), on_research_failure="fail")
        )
    assert writer_requests(admin) == []  # nothing paid for after the research failed
