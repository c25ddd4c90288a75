"""The graph with no provider keys at all: the in-process offline provider writes, the roles run as
plain connector calls (CrewAI needs an HTTP endpoint), and the article still comes out whole."""

from __future__ import annotations

from pathlib import Path

from graphs.article.agents import LlmAgents, make_agents
from graphs.article.graph import article_input, local_writers, make_graph
from graphs.article.nodes import AllWritersFailed, made_offline
from graphs.article.writers import WriteRequest, WriteResult
from icop.settings import Settings

NO_KEYS = {"openai_api_key": None, "anthropic_api_key": None, "gemini_api_key": None}


async def test_offline_graph_runs_end_to_end(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, **NO_KEYS)
    agents = make_agents(settings)
    assert isinstance(agents, LlmAgents)
    out = await make_graph(local_writers(settings), agents).ainvoke(
        article_input("Urban gardening", "merge", image_urls=["https://cdn.example/x.jpg"])
    )
    assert len(out["drafts"]) == 3 and out["writer_failures"] == []
    assert out["markdown"].startswith("---\n") and "](https://cdn.example/x.jpg)" in out["markdown"]
    assert {u["provider"] for u in out["usage"] if u["agent"].startswith("writer:")} == {
        "gpt",
        "claude",
        "gemini",
    }
    assert all(u["offline"] for u in out["usage"]) and made_offline(out)  # marked: never published
    # no model can give a structured answer: each rule-based value that stood in is recorded, asked once
    assert [(r["node"], r["outcome"], r.get("reason"), r["attempts"]) for r in out["structured"]] == [
        ("merger", "fallback", "offline", 1),
        ("seo", "fallback", "offline", 1),
        ("visual_director", "fallback", "offline", 1),
    ]
    assert out["merge_plan"]["sections"] and out["seo"]["title"] and len(out["image_prompts"]) == 3


async def test_in_process_writer_callables_and_all_failing(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, **NO_KEYS)

    async def broken(req: WriteRequest) -> WriteResult:
        raise ConnectionError("provider unreachable")

    g = make_graph({"a": broken, "b": broken}, make_agents(settings))
    try:
        await g.ainvoke(article_input("Cold brew"))
    except AllWritersFailed as exc:
        assert [f["kind"] for f in exc.failures] == ["ConnectionError", "ConnectionError"]
        assert "provider unreachable" in str(exc)
    else:
        raise AssertionError("expected AllWritersFailed")
