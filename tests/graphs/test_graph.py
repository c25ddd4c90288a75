"""The article graph against the emulators: real SDK calls over HTTP, CrewAI agents on the GPT
endpoint, the three writers on their own providers."""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

import httpx
import pytest

from cluster.emulators import EmulatorsComponent
from emulators.client import EmulatorAdmin
from gateway.app import create_app
from graphs.article.agents import CrewAgents, make_agents
from graphs.article.graph import article_input, local_writers, make_graph
from graphs.article.nodes import AllWritersFailed, made_offline
from graphs.article.prompts import EDITOR_CRITERIA, IMAGE_PROMPTS, SEO_META_MAX
from icop.connectors.config import LlmName
from icop.connectors.usage import UsageRecorder
from icop.db import tenant_tx
from icop.research.service import Researcher
from icop.settings import Settings
from tests.gateway.conftest import sign_up
from workflows.repository import save_graph_result

from .conftest import agent_requests, emulator_settings, new_tenant_with_article, writer_requests

IMAGES = ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def agents(emu_settings: Settings) -> Any:
    a = make_agents(emu_settings)
    assert isinstance(a, CrewAgents)  # keys are configured: the CrewAI agents, not the fallback
    return a


def graph(settings: Settings, agents: Any, **kw: Any) -> Any:
    kw.setdefault("researcher", Researcher(settings))
    return make_graph(local_writers(settings), agents, **kw)


def assert_common_products(out: dict[str, Any], writers: set[str]) -> None:
    urls = {s["url"] for s in out["sources"]}
    assert out["research"] and all(n["source_url"] in urls for n in out["research"])
    assert out["research_summary"]
    assert {d["writer"] for d in out["drafts"]} == writers and all(d["text"] for d in out["drafts"])
    assert out["article"]
    seo = out["seo"]
    assert seo["title"] and seo["slug"] and seo["keywords"] and seo["hashtags"]
    assert len(seo["meta_description"]) <= SEO_META_MAX
    assert len(out["image_prompts"]) == IMAGE_PROMPTS
    assert out["image_urls"] == IMAGES
    md = out["markdown"]
    assert md.startswith("---\ntitle: ") and f'slug: "{seo["slug"]}"' in md
    for url in IMAGES:
        assert f"]({url})" in md
    for n in out["research"]:
        assert n["source_url"] in md  # sources carried to the front matter and the sources section


async def test_writers_run_in_parallel(emu_settings: Settings, agents: Any, admin: EmulatorAdmin) -> None:
    latency = {"gpt": 600, "claude": 900, "gemini": 1200}
    for service, ms in latency.items():
        admin.knobs(service, latency_ms=ms)
    out = await graph(emu_settings, agents).ainvoke(
        article_input("Cold brew coffee at home", image_urls=IMAGES)
    )
    reqs = writer_requests(admin)
    assert sorted(r["service"] for r in reqs) == ["claude", "gemini", "gpt"]
    assert all(r["status"] == 200 for r in reqs)
    slowest = max(r["finished"] - r["started"] for r in reqs)
    stage = max(r["finished"] for r in reqs) - min(r["started"] for r in reqs)
    assert slowest >= 1.2  # the knob took effect
    assert stage <= 1.2 * slowest, f"writer stage {stage:.2f}s vs slowest writer {slowest:.2f}s"
    # the graph's own view agrees: the writer nodes overlapped
    d = out["drafts"]
    assert max(x["finished"] for x in d) - min(x["started"] for x in d) <= 1.2 * slowest + 0.3


async def test_claude_agents_run_on_crewais_anthropic_provider(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    claude = make_agents(emu_settings, "claude")
    assert isinstance(claude, CrewAgents) and type(claude.llm).__name__ == "AnthropicCompletion"
    reply = await claude.run("seo", "Topic: cold brew coffee. Suggest 3 keywords.")
    assert reply.provider == "claude" and reply.text.startswith("[offline]")
    calls = admin.requests("claude")  # CrewAI may count the prompt's tokens first (messages/count_tokens)
    assert all(e["status"] == 200 and e["path"].startswith("/anthropic/v1/messages") for e in calls)
    [entry] = [e for e in calls if e["path"] == "/anthropic/v1/messages"]  # the native API
    assert "You are SEOAgent." in str(entry["body"]["system"])  # CrewAI's role prompt as the system
    assert admin.requests("gpt") == []


async def test_compare_branch_keeps_every_product(
    emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    out = await graph(emu_settings, agents).ainvoke(
        article_input("Remote work and team productivity", "compare", image_urls=IMAGES)
    )
    assert_common_products(out, {"gpt", "claude", "gemini"})
    assert set(out["scores"]) == {"gpt", "claude", "gemini"}
    for s in out["scores"].values():
        assert set(s) == {*EDITOR_CRITERIA, "total"} and all(0 <= v <= 10 for v in s.values())
    assert out["score_source"] == "editor" and set(out["score_reasons"]) == {"gpt", "claude", "gemini"}
    # every structured answer (scores, SEO fields, image prompts) came valid at once
    assert [(r["node"], r["outcome"], r["attempts"]) for r in out["structured"]] == [
        ("editor", "valid", 1),
        ("seo", "valid", 1),
        ("visual_director", "valid", 1),
    ]
    best = max(out["scores"], key=lambda w: out["scores"][w]["total"])
    assert out["chosen_writer"] == best
    assert len(agent_requests(admin, "Editor")) == 2  # score, then edit the chosen draft
    assert agent_requests(admin, "Merger") == []
    agents_used = [u["agent"] for u in out["usage"]]
    for a in (
        "researcher",
        "editor",
        "seo",
        "visual_director",
        "writer:gpt",
        "writer:claude",
        "writer:gemini",
    ):
        assert a in agents_used
    assert all(u["prompt_tokens"] > 0 and u["completion_tokens"] > 0 for u in out["usage"])
    assert not made_offline(out)  # emulated or real, every text came from a provider's API


async def test_a_writer_without_a_key_marks_the_article_offline(
    emulators: EmulatorsComponent, agents: Any, admin: EmulatorAdmin
) -> None:
    """Claude has no key (development): its draft is offline template text, and the article says so."""
    no_claude = emulator_settings(emulators, anthropic_api_key=None)
    out = await graph(no_claude, agents).ainvoke(article_input("Tea ceremonies", "merge", image_urls=IMAGES))
    assert {d["writer"] for d in out["drafts"]} == {"gpt", "claude", "gemini"}
    assert [u["agent"] for u in out["usage"] if u["offline"]] == ["writer:claude"]
    assert made_offline(out)


async def test_merge_branch(emu_settings: Settings, agents: Any, admin: EmulatorAdmin) -> None:
    out = await graph(emu_settings, agents).ainvoke(
        article_input("Home solar panels: costs and savings", "merge", image_urls=IMAGES)
    )
    assert_common_products(out, {"gpt", "claude", "gemini"})
    assert "scores" not in out and out["chosen_writer"] is None
    merger = agent_requests(admin, "Merger")
    assert len(merger) == 2 and agent_requests(admin, "Editor") == []  # the plan, then the article from it
    assert merger[0]["body"]["text"]["format"]["name"] == "MergePlan"
    assert "text" not in merger[1]["body"]  # the article is prose, not JSON
    for request in merger:
        text = request["body"]["input"][-1]["content"]
        assert all(f"### Draft {w}" in text for w in ("gpt", "claude", "gemini"))  # every draft went in
    plan = out["merge_plan"]
    assert len(plan["sections"]) >= 2 and all(s["heading"] in text for s in plan["sections"])
    assert [(r["node"], r["outcome"]) for r in out["structured"]][:2] == [
        ("merger", "valid"),
        ("seo", "valid"),
    ]


async def test_one_writer_failing_does_not_sink_the_article(
    emulators: Any, agents: Any, admin: EmulatorAdmin
) -> None:
    settings = emulator_settings(emulators, provider_max_attempts=2)
    admin.knobs("claude", error_rate=1.0, error_kind="500")
    out = await graph(settings, agents).ainvoke(
        article_input("Urban gardening for beginners", image_urls=IMAGES)
    )
    assert_common_products(out, {"gpt", "gemini"})
    assert [f["writer"] for f in out["writer_failures"]] == ["claude"]
    assert out["writer_failures"][0]["kind"] == "server_error"
    assert len(admin.requests("claude")) == 2  # its retries ran first
    assert set(out["scores"]) == {"gpt", "gemini"}


async def test_all_writers_failing_is_a_clear_error(
    emulators: Any, agents: Any, admin: EmulatorAdmin
) -> None:
    settings = emulator_settings(emulators, provider_max_attempts=1, openai_base_url="http://127.0.0.1:9/v1")
    for service in ("claude", "gemini"):
        admin.knobs(service, error_rate=1.0, error_kind="503")
    with pytest.raises(AllWritersFailed) as info:
        await graph(settings, agents).ainvoke(article_input("Cold brew coffee", image_urls=IMAGES))
    assert {f["writer"] for f in info.value.failures} == {"gpt", "claude", "gemini"}
    assert "all writers failed" in str(info.value) and "claude: unavailable" in str(info.value)
    assert agent_requests(admin, "SEOAgent") == []


async def test_korean_topic_gives_korean_article_and_english_prompts(
    emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    out = await graph(emu_settings, agents).ainvoke(
        article_input("서울의 카페 문화", "compare", "ko", image_urls=IMAGES)
    )
    assert_common_products(out, {"gpt", "claude", "gemini"})

    def korean_share(text: str) -> float:
        h, latin = len(HANGUL.findall(text)), len(re.findall(r"[A-Za-z]", text))
        return h / max(1, h + latin)

    assert korean_share(out["article"]) > 0.8
    assert all(korean_share(d["text"]) > 0.8 for d in out["drafts"])
    assert HANGUL.search(out["seo"]["meta_description"])
    assert all(p and not HANGUL.search(p) and re.search(r"[A-Za-z]{3,}", p) for p in out["image_prompts"])
    assert out["research_report"]["provider"] == "naver"  # Korean articles search Naver
    assert all(HANGUL.search(s["title"]) for s in out["sources"])
    assert len(agent_requests(admin, "VisualDirectorAgent")) == 2  # prompts, then their translation
    assert 'lang: "ko"' in out["markdown"]


async def test_usage_recorded_per_tenant_and_article(
    emu_settings: Settings, agents: Any, admin: EmulatorAdmin, app_pool: Any
) -> None:
    tenant, article = await new_tenant_with_article(app_pool)
    out = await graph(emu_settings, agents, usage_sink=UsageRecorder(app_pool)).ainvoke(
        article_input(
            "Cold brew coffee", "merge", image_urls=IMAGES, tenant_id=str(tenant), article_id=str(article)
        )
    )
    async with tenant_tx(app_pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT operation, provider, prompt_tokens, completion_tokens, article_id"
            " FROM usage_records ORDER BY id"
        )
    assert len(rows) == len(out["usage"])
    assert {r["operation"] for r in rows} == {u["agent"] for u in out["usage"]}
    assert all(
        r["article_id"] == article and r["prompt_tokens"] > 0 and r["completion_tokens"] > 0 for r in rows
    )
    by_op = {r["operation"]: r for r in rows}
    assert by_op["writer:claude"]["provider"] == "claude"
    # the recorded tokens are the provider's own counts (the emulator's usage block)
    logged = {r["service"]: r["meta"]["usage"] for r in writer_requests(admin)}
    assert by_op["writer:gemini"]["completion_tokens"] == logged["gemini"]["completion_tokens"]


# The agents' providers whose native structured outputs the graph is run against: each through CrewAI's
# native provider for its vendor, against that vendor's emulated API.
AGENT_PROVIDERS = ["gpt", "claude", "gemini"]


def structured_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema a logged request asked its answer to follow, in its vendor's own field: OpenAI
    ``text.format`` (Responses API), Anthropic ``output_format`` / ``output_config.format`` or a forced tool,
    Gemini ``generationConfig.responseJsonSchema`` / ``responseSchema``."""
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return dict(fmt["schema"])
    for anthropic in (body.get("output_format"), (body.get("output_config") or {}).get("format")):
        if isinstance(anthropic, dict) and anthropic.get("type") == "json_schema":
            return dict(anthropic["schema"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        return next(dict(t["input_schema"]) for t in body.get("tools", []) if t["name"] == choice["name"])
    config = body.get("generationConfig") or body.get("generation_config") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    return dict(schema) if isinstance(schema, dict) else None


def structured_name(schema: dict[str, Any]) -> str:
    """Which of the graph's answers a schema asks for, told by its fields (not every vendor takes a name)."""
    fields = set(schema.get("properties") or {})
    if {"title", "meta_description"} <= fields:
        return "SeoFields"
    if "prompts" in fields:
        return "ImagePrompts"
    if fields and fields <= {"gpt", "claude", "gemini"}:
        return "EditorScores"
    return "other"


def last_turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """A logged request's turns as (role, text): OpenAI's ``input``, Anthropic's ``messages``, Gemini's
    ``contents``."""
    if "contents" in body:
        return [
            (
                "assistant" if t.get("role") == "model" else "user",
                "".join(p.get("text", "") for p in t["parts"]),
            )
            for t in body["contents"]
        ]
    turns = []
    for m in body.get("input") or body.get("messages") or []:
        content = m.get("content")
        text = content if isinstance(content, str) else "".join(str(b.get("text", "")) for b in content or [])
        turns.append((m["role"], text))
    return turns


@pytest.mark.parametrize("provider", AGENT_PROVIDERS)
async def test_structured_outputs_validated_repaired_or_reported(
    provider: LlmName,
    emu_settings: Settings,
    admin: EmulatorAdmin,
    app_pool: Any,
    settings: Settings,
) -> None:
    """Every structured answer is asked for natively and validated: the Editor's answers all break (a
    field left out, then cut short), so its scores fall back to the rubric, recorded with the attempts and
    shown in the API's article; the SEO agent's first answer breaks and the repair turn fixes it (no
    fallback); the image prompts are valid at once. Every attempt is paid for and recorded."""
    attempts = emu_settings.structured_max_attempts
    agents = make_agents(emu_settings, provider)
    app = create_app(settings, pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as api:
        user = await sign_up(api)
        tenant = UUID(user.tenant_id)
        async with tenant_tx(app_pool, tenant) as conn:
            article = await conn.fetchval(
                "INSERT INTO generated_articles (tenant_id, language, mode) VALUES ($1, 'en', 'compare') "
                "RETURNING id",
                tenant,
            )
        admin.knobs(provider, bad_json_count=attempts + 1)
        out = await graph(emu_settings, agents, usage_sink=UsageRecorder(app_pool)).ainvoke(
            article_input(
                "Rooftop beekeeping in cities",
                image_urls=IMAGES,
                tenant_id=str(tenant),
                article_id=str(article),
            )
        )
        records = out["structured"]
        assert [(r["node"], r["schema"], r["outcome"], r["attempts"]) for r in records[:3]] == [
            ("editor", "EditorScores", "fallback", attempts),
            ("seo", "SeoFields", "repaired", 2),
            ("visual_director", "ImagePrompts", "valid", 1),
        ]
        assert all(r["outcome"] == "valid" for r in records[3:])  # a translation, if any
        editor, seo = records[0], records[1]
        assert editor["reason"] == "invalid_answer" and len(editor["problems"]) == attempts
        # broken: a field left out, or (where the mechanism lets a reply be cut short) no JSON at all
        assert all("Field required" in p or "Invalid JSON" in p for p in editor["problems"])
        assert seo["problems"] and "reason" not in seo
        assert out["score_source"] == "rubric" and out["score_reasons"] == {}
        assert_common_products(out, {"gpt", "claude", "gemini"})

        # asked natively, the repair turn carrying the broken answer and what was wrong with it
        asked = [  # the answers asked for (CrewAI's Anthropic provider counts each prompt's tokens first)
            e
            for e in admin.requests(provider)
            if structured_schema(e.get("body") or {}) and "count" not in e["path"].lower()
        ]
        names = [structured_name(structured_schema(e["body"]) or {}) for e in asked]
        assert names[: attempts + 3] == [
            *["EditorScores"] * attempts,
            "SeoFields",
            "SeoFields",
            "ImagePrompts",
        ]
        repair = last_turns(asked[attempts + 1]["body"])
        assert repair[-2][0] == "assistant" and repair[-1][0] == "user"
        assert seo["problems"][0] in repair[-1][1]

        # every attempt is paid for: in the state's usage and in the tenant's usage records
        agents_used = [u["agent"] for u in out["usage"]]
        assert agents_used.count("editor") == attempts + 1 and agents_used.count("seo") == 2  # + the edit
        async with tenant_tx(app_pool, tenant) as conn:
            ops = [r["operation"] for r in await conn.fetch("SELECT operation FROM usage_records")]
        assert ops.count("editor") == attempts + 1 and ops.count("seo") == 2

        # the fallback is on the article the API shows
        async with tenant_tx(app_pool, tenant) as conn:
            stored = json.loads(json.dumps(out))  # as the activity stores it: JSON
            await save_graph_result(conn, tenant, article, out["seo"]["title"], out["seo"], stored)
        r = await api.get(f"/v1/articles/{article}", headers=user.h)
        assert r.status_code == 200, r.text
        shown = r.json()
        assert shown["editor"]["score_source"] == "rubric"
        [fallback] = shown["fallbacks"]
        assert (fallback["node"], fallback["reason"], fallback["attempts"]) == (
            "editor",
            "invalid_answer",
            attempts,
        )
        assert "rubric" in fallback["message"] and fallback["problem"] == editor["problems"][-1]
