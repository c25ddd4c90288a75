"""The writers' prompt laid out for prompt caching: what every article of a tenant shares (the writer's
instructions, then the tenant's brand voice) first, ending with a cache breakpoint; then the article's
research and sources; the task last. Through the real SDK and the OpenAI emulator, a tenant's second
article reads that prefix from GPT's prompt cache, and the writer node records it."""

from __future__ import annotations

from typing import Any

import asyncpg
from langgraph.runtime import Runtime

from emulators.client import EmulatorAdmin
from emulators.synthesis import count_tokens
from graphs.article.agents import LlmAgents
from graphs.article.nodes import ArticleNodes, NoResearch
from graphs.article.state import ArticleContext, ArticleState
from graphs.article.writers import STYLE_MARK, WRITER_MARK, ArticleWriter, WriteRequest, writer_messages
from icop.connectors.llm import make_llm, responses_input
from icop.connectors.usage import UsageRecorder
from icop.db import tenant_tx
from icop.settings import Settings

from .conftest import new_tenant_with_article

VOICE = [
    "We roast in small batches every Monday morning. Our baristas pour each cup slowly, and we say so "
    "plainly: single-origin beans, ground a minute before brewing, bright and a little sweet. " * 8,
    "No jargon, no hype. We tell you what we did, what it cost and what we would change next time, in short "
    "sentences you can read standing at the counter while the kettle heats. " * 8,
]
SOURCE = {"n": 1, "title": "Fermentation basics", "url": "https://example.org/ferment", "site": "example.org",
          "published": "2026-01-02", "passages": ["Lactic acid bacteria sour the cabbage."]}  # fmt: skip


def request(topic: str, language: str = "en", **kw: Any) -> WriteRequest:
    return WriteRequest(topic=topic, language=language, style_samples=VOICE, **kw)


def test_the_shared_prefix_comes_first_and_ends_with_the_breakpoint() -> None:
    a = writer_messages(
        "gpt", request("Kimchi at home", research_summary="Brine matters [1].", sources=[SOURCE])
    )
    b = writer_messages("gpt", request("Tofu", notes="Keep it short", language="ko"))
    assert a[0] == b[0], "the system message is the same for every article of the tenant"
    instructions, style = a[0]["content"]
    assert instructions["text"].startswith(f"{WRITER_MARK}GPT") and "cache" not in instructions
    assert (
        style["text"].startswith(STYLE_MARK) and VOICE[1].strip() in style["text"] and style["cache"] is True
    )
    user = a[1]["content"]
    assert user.startswith("Topic: Kimchi at home\nResearch brief:\nBrine matters [1].")
    assert (
        user.index("Research brief") < user.index("Sources (cite by number)") < user.index("Write an article")
    )
    assert user.rstrip().endswith("(the sources section is added for you).")  # the task, with its cite rule
    assert "Write an article in Korean" in b[1]["content"] and b[1]["content"].endswith("Keep it short")

    off = writer_messages("gpt", request("Kimchi at home", prompt_caching=False))
    assert [{k: v for k, v in p.items() if k != "cache"} for p in a[0]["content"]] == off[0]["content"]
    bare = writer_messages("claude", WriteRequest(topic="Tofu", language="en"))  # a tenant without samples
    assert bare[0]["content"] == [{"type": "text", "text": bare[0]["content"][0]["text"], "cache": True}]

    # OpenAI's Responses API gets the system message as its instructions, text parts as one string, other
    # parts in its own shapes, and no cache marks
    system, [user] = responses_input(a)
    assert system == f"{instructions['text']}\n{style['text']}" and user == a[1]
    image = {"type": "image_url", "image_url": {"url": "https://cdn.example/a.jpg"}}
    _, [mixed] = responses_input([{"role": "user", "content": [{**instructions, "cache": True}, image]}])
    assert mixed["content"] == [
        {"type": "input_text", "text": instructions["text"]},
        {"type": "input_image", "image_url": "https://cdn.example/a.jpg"},
    ]


async def test_a_tenants_next_article_reads_the_shared_prefix_from_the_cache(
    emu_settings: Settings, admin: EmulatorAdmin, app_pool: asyncpg.Pool
) -> None:
    tenant, article = await new_tenant_with_article(app_pool)
    nodes = ArticleNodes(
        LlmAgents(make_llm(emu_settings, "gpt"), structured_attempts=3),
        NoResearch(),
        usage_sink=UsageRecorder(app_pool),
    )
    node = nodes.writer("gpt", ArticleWriter.from_settings(emu_settings, "gpt").write)

    def state(topic: str) -> ArticleState:
        return ArticleState(
            topic=topic,
            language="en",
            style_samples=VOICE,
            tenant_id=str(tenant),
            article_id=str(article),
            research_summary=f"What matters about {topic}.",
        )

    run = Runtime(context=ArticleContext())  # the platform's keys
    first = (await node(state("Kimchi at home"), run))["usage"][0]
    second = (await node(state("Tofu for beginners"), run))["usage"][0]
    [body, _] = [e["body"] for e in admin.requests("gpt")]
    system = body["instructions"]  # the connector sends the parts as one string, marks dropped
    assert isinstance(system, str) and system.startswith(WRITER_MARK) and '"cache"' not in str(body)
    # the common prefix: the system message (framed by 4 tokens), the user message's 3 framing tokens and
    # "Topic:" (3 tokens); cached in 128-token increments
    common = count_tokens(system) + 4 + 3 + 3
    assert common >= 1024, "the samples make a prefix long enough to cache"
    assert (first["cache_read_tokens"], second["cache_read_tokens"]) == (0, common // 128 * 128)
    async with tenant_tx(app_pool, tenant) as conn:
        rows = await conn.fetch("SELECT operation, cache_read_tokens FROM usage_records ORDER BY id")
    assert [tuple(r) for r in rows] == [("writer:gpt", 0), ("writer:gpt", common // 128 * 128)]
