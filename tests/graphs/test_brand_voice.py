"""Brand voice: samples embedded by the real offline model into pgvector, the closest one found first,
tenants isolated by RLS, and the writers' prompts (the emulator's request log) carrying the samples."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from cluster.eval_themes import brand_voice_set
from emulators.client import EmulatorAdmin
from graphs.article.agents import make_agents
from graphs.article.checkpoint import PgCheckpointSaver
from graphs.article.graph import article_input, local_writers, make_graph
from graphs.article.writers import STYLE_MARK
from icop.brandvoice import BrandVoice
from icop.db import tenant_tx
from icop.settings import Settings

from .conftest import body_text, new_tenant_with_article, writer_requests

COFFEE = (
    "We roast in small batches every Monday morning. Our baristas pour each cup slowly: single-origin "
    "beans, ground a minute before brewing, so the espresso tastes bright and a little sweet."
)
FINANCE = (
    "Quarterly earnings beat expectations as the bond portfolio hedged interest-rate risk; dividend "
    "yields rose and the balance sheet carries less short-term debt than a year ago."
)
TOPIC = "Cold brew coffee at home"


@pytest.fixture(scope="module")
def voice(app_pool: asyncpg.Pool) -> BrandVoice:
    return BrandVoice(app_pool)


@pytest.fixture(scope="module")
def agents(emu_settings: Settings) -> Any:
    return make_agents(emu_settings)


class CountingVoice:
    """The real BrandVoice, counting how often the graph asks it."""

    def __init__(self, inner: BrandVoice) -> None:
        self.inner, self.calls = inner, 0

    async def style_samples(
        self, tenant_id: str, article_id: str | None, topic: str, language: str
    ) -> list[str]:
        self.calls += 1
        return await self.inner.style_samples(tenant_id, article_id, topic, language)


async def test_samples_are_embedded_and_the_closest_comes_first(
    voice: BrandVoice, app_pool: asyncpg.Pool, owner_conn: asyncpg.Connection
) -> None:
    tenant, _ = await new_tenant_with_article(app_pool)
    ids = await voice.add(tenant, COFFEE, FINANCE, language="en")
    assert len(ids) == 2
    async with tenant_tx(app_pool, tenant) as conn:
        dims = await conn.fetch(
            "SELECT vector_dims(embedding) AS d, round(vector_norm(embedding)::numeric, 3) AS n "
            "FROM brand_voice_samples WHERE tenant_id = $1",
            tenant,
        )
    assert [(r["d"], float(r["n"])) for r in dims] == [(384, 1.0), (384, 1.0)]

    coffee = await voice.closest(tenant, TOPIC, "en", k=3)
    assert coffee and coffee[0].text == COFFEE
    assert all(s.text != FINANCE for s in coffee)  # beyond the max distance for a coffee topic
    money = await voice.closest(tenant, "How to read a company's balance sheet", "en", k=3)
    assert money[0].text == FINANCE
    assert [s.distance for s in money] == sorted(s.distance for s in money)
    assert await voice.closest(tenant, TOPIC, "ko") == []  # another language's articles get none

    # the embeddings have an HNSW index with cosine ops (what ``<=>`` orders by)
    indexdef = await owner_conn.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'brand_voice_samples_embedding_hnsw'"
    )
    assert "USING hnsw (embedding vector_cosine_ops)" in indexdef


async def test_korean_samples_are_found_by_the_multilingual_model(
    voice: BrandVoice, app_pool: asyncpg.Pool
) -> None:
    """Korean samples and topics go through multilingual e5 (MiniLM reads Hangul as single letters: the
    finance sample came first for every Korean topic); each row records its model, and samples of another
    model are never compared."""
    samples, queries = brand_voice_set()
    tenant, _ = await new_tenant_with_article(app_pool)
    await voice.add(tenant, *(samples[n] for n in ("coffee-ko", "finance-ko", "travel-ko")), language="ko")
    await voice.add(tenant, samples["coffee-en"], language="en")
    async with tenant_tx(app_pool, tenant) as conn:
        models = dict(await conn.fetch("SELECT language, embedding_model FROM brand_voice_samples"))
    e5_id = voice.choice.embedder("e5-small").model_id
    assert models == {"ko": e5_id, "en": "all-MiniLM-L6-v2"}
    for topic, language, finds in queries:
        if language == "ko" and finds:
            found = await voice.closest(tenant, topic, "ko", k=1)
            assert found and found[0].text == samples[finds], (topic, found)
    # a sample left on another model (not yet re-embedded) is not compared with e5 queries
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("UPDATE brand_voice_samples SET embedding_model = 'all-MiniLM-L6-v2'")
    assert await voice.closest(tenant, "집에서 만드는 콜드브루", "ko") == []


async def test_topics_near_the_same_samples_get_the_same_style_section(
    voice: BrandVoice, app_pool: asyncpg.Pool
) -> None:
    """Every sample close enough to the topic, in a fixed order: two coffee articles get the same samples
    (their writers' prompts open with the same prefix, which the vendors' prompt caches serve); the finance
    sample stays out."""
    tenant, _ = await new_tenant_with_article(app_pool)
    more = [
        "Cold brew steeps for sixteen hours in our back room: coarse grounds, cold filtered water, patience. "
        "We taste every batch before it reaches the café fridge.",
        "Our espresso grinder is dialled in each morning: a few grams of beans, a timed shot, a sip, and a "
        "tiny turn of the burrs until the coffee tastes sweet.",
    ]
    await voice.add(tenant, COFFEE, FINANCE, *more)
    cold = await voice.style_samples(str(tenant), None, TOPIC, "en")
    espresso = await voice.style_samples(
        str(tenant), None, "Choosing an espresso grinder for your café", "en"
    )
    assert cold == espresso and set(cold) == {COFFEE, *more}


async def test_another_tenant_never_sees_the_samples(voice: BrandVoice, app_pool: asyncpg.Pool) -> None:
    a, _ = await new_tenant_with_article(app_pool)
    b, _ = await new_tenant_with_article(app_pool)
    await voice.add(a, COFFEE)
    assert (await voice.closest(a, TOPIC, "en"))[0].text == COFFEE
    assert await voice.closest(b, TOPIC, "en") == []
    async with tenant_tx(app_pool, b) as conn:  # as icop_app: RLS hides A's rows even when asked by id
        assert await conn.fetchval("SELECT count(*) FROM brand_voice_samples WHERE tenant_id = $1", a) == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # and refuses writing into A
        async with tenant_tx(app_pool, b) as conn:
            await conn.execute(
                "INSERT INTO brand_voice_samples (tenant_id, text, embedding) VALUES ($1, $2, $3)",
                a,
                COFFEE,
                [0.0] * 384,
            )


async def test_pipeline_samples_reach_only_that_pipelines_articles(
    voice: BrandVoice, app_pool: asyncpg.Pool
) -> None:
    tenant, article = await new_tenant_with_article(app_pool)
    async with tenant_tx(app_pool, tenant) as conn:
        pipeline = await conn.fetchval(
            "INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id) "
            "VALUES ($1, 'p', 'sheet', $2) RETURNING id",
            tenant,
            f"sheet-{tenant}",  # a sheet id is bound to the first tenant that uses it
        )
    await voice.add(tenant, COFFEE, pipeline_id=pipeline)
    assert await voice.closest(tenant, TOPIC, "en", article_id=article) == []  # article outside it
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("UPDATE generated_articles SET pipeline_id = $2 WHERE id = $1", article, pipeline)
    assert [s.text for s in await voice.closest(tenant, TOPIC, "en", article_id=article)] == [COFFEE]


async def test_writers_get_the_tenant_samples_as_style_guidance(
    voice: BrandVoice, app_pool: asyncpg.Pool, emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    tenant, article = await new_tenant_with_article(app_pool)
    await voice.add(tenant, COFFEE, FINANCE)
    counting = CountingVoice(voice)
    graph = make_graph(
        local_writers(emu_settings), agents, voice=counting, checkpointer=PgCheckpointSaver(app_pool, tenant)
    )
    config = {"configurable": {"thread_id": f"article-{uuid.uuid4()}"}}
    inp = article_input(TOPIC, tenant_id=str(tenant), article_id=str(article))
    # stop after research, then resume: the samples come from the checkpoint, not a second query
    await graph.ainvoke(inp, config, interrupt_after=["research"])
    assert writer_requests(admin) == [] and counting.calls == 1
    out = await graph.ainvoke(None, config)
    assert counting.calls == 1
    assert out["style_samples"] == [COFFEE]

    prompts = [body_text(e) for e in writer_requests(admin)]
    assert len(prompts) == 3
    for p in prompts:
        assert STYLE_MARK in p and COFFEE in p and "do not copy" in p.lower()
        assert FINANCE not in p  # too far from a coffee topic


async def test_a_tenant_without_samples_gets_no_style_section(
    voice: BrandVoice, app_pool: asyncpg.Pool, emu_settings: Settings, agents: Any, admin: EmulatorAdmin
) -> None:
    tenant, article = await new_tenant_with_article(app_pool)
    out = await make_graph(local_writers(emu_settings), agents, voice=voice).ainvoke(
        article_input(TOPIC, tenant_id=str(tenant), article_id=str(article))
    )
    assert out["style_samples"] == []
    prompts = [body_text(e) for e in writer_requests(admin)]
    assert len(prompts) == 3 and all(STYLE_MARK not in p for p in prompts)


@pytest.mark.slow
async def test_serve_writer_receives_the_samples(
    ray_session: None, voice: BrandVoice, app_pool: asyncpg.Pool, emu_settings: Settings, agents: Any,
    admin: EmulatorAdmin,
) -> None:  # fmt: skip
    from ray import serve

    from deployments.writers import app_name, deploy_writers, writer_call

    tenant, article = await new_tenant_with_article(app_pool)
    await voice.add(tenant, COFFEE)
    prefix = f"bv-{uuid.uuid4().hex[:6]}"
    small = {"gpt": {"ray_actor_options": {"num_cpus": 0.05}}}  # the session's Ray is shared by many tests
    handles = deploy_writers(emu_settings, small, ("gpt",), prefix)
    call = writer_call(handles["gpt"])
    try:
        out = await make_graph({"gpt": call}, agents, voice=voice).ainvoke(
            article_input(TOPIC, tenant_id=str(tenant), article_id=str(article))
        )
    finally:
        await call.close()
        serve.delete(app_name("gpt", prefix))
    assert [d["writer"] for d in out["drafts"]] == ["gpt"]
    [req] = writer_requests(admin)
    assert req["service"] == "gpt" and COFFEE in body_text(req) and STYLE_MARK in body_text(req)
