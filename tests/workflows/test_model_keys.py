"""Two tenants write with their own Claude keys; Anthropic (the emulator) revokes one. That tenant's next
article is written without Claude — the refusal recorded on the article, its key paused with a reason and
a ``model_key.paused`` event, the API saying why — and its following article skips Claude without calling
it; the other tenant's Claude writer goes on writing with its own key. The platform's key is never used in
place of either.

Real parts: the gateway API (keys set and checked with the vendor, pipelines with their key choice), the
pipeline's configuration as a run reads it, the ``run_agent_graph`` activity with the graph, its writers
(the class the Serve Writer wraps) and agents calling the emulators over HTTP, the vault, PostgreSQL.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
from temporalio.testing import ActivityEnvironment

from emulators.client import EmulatorAdmin
from gateway.app import create_app
from graphs.article.agents import LlmAgents
from graphs.article.graph import local_writers
from graphs.article.writers import WRITER_MARK
from icop.connectors.llm import make_llm
from icop.db import tenant_tx
from icop.modelkeys.rules import REJECTED, SKIPPED_KIND
from icop.modelkeys.service import TenantModelKeys
from icop.runs.admission import RunLimits
from icop.settings import Settings
from icop.storage import LocalDirStore
from icop.vault import Vault
from workflows import repository
from workflows.activities.articles import ArticleActivities, LangGraphArticleGraph
from workflows.activities.planning import _config
from workflows.types import GraphInput

from ..gateway.conftest import TenantHandle, remember, sheet, sign_up

WRITERS = ["gpt", "claude", "gemini"]


def claude_key(tag: str) -> str:
    key = f"sk-ant-api03-{uuid.uuid4().hex}{tag}"
    remember(key)
    return key


def revoke(vendor: EmulatorAdmin, *keys: str) -> None:
    """Anthropic revokes ``keys`` (the emulators' key registry: refused from now on, as Anthropic does)."""
    for key in keys:
        vendor.revoke_key("claude", key)


async def own_claude_pipeline(api: httpx.AsyncClient, t: TenantHandle, key: str) -> str:
    r = await api.put("/v1/model-keys/claude", headers=t.h, json={"key": key})  # checked with Anthropic
    assert r.status_code == 201 and r.json()["state"] == "active", r.text
    body = {"name": "own claude", "sheet_id": sheet(), "model_keys": {"claude": "tenant"}}
    r = await api.post("/v1/pipelines", headers=t.h, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def article_input(pool: asyncpg.Pool, t: TenantHandle, pipeline_id: str, topic: str) -> GraphInput:
    """A new article of the pipeline, with the writers and keys its configuration gives a run."""
    tid, pid = UUID(t.tenant_id), UUID(pipeline_id)
    async with tenant_tx(pool, tid) as conn:
        config = _config(await repository.pipeline_config(conn, tid, pid), "en")
        article = await conn.fetchval(
            "INSERT INTO generated_articles (tenant_id, pipeline_id, language, mode) VALUES ($1, $2, 'en', "
            "'compare') RETURNING id",
            tid,
            pid,
        )
    assert config.own_keys == ["claude"]
    return GraphInput(
        t.tenant_id, str(article), topic, "", "en", "", "compare", WRITERS, own_keys=config.own_keys
    )


def writer_calls(vendor: EmulatorAdmin, since: int) -> list[tuple[str, str, int]]:
    """(service, key's last 4, status) of each writer request since ``since``."""
    return [
        (e["service"], e["key"], e["status"])
        for s in WRITERS
        for e in vendor.requests(s, since)
        if WRITER_MARK in str(e.get("body"))
    ]


async def test_a_revoked_claude_key_pauses_only_its_tenants_claude_writer(
    settings: Settings, app_pool: asyncpg.Pool, sheets_admin: EmulatorAdmin, tmp_path: Path
) -> None:
    vendor = sheets_admin  # the one emulator process: Anthropic's endpoint too
    app = create_app(settings, pool=app_pool)
    vault = Vault.from_spec(settings.vault_keys.get_secret_value())
    graph = LangGraphArticleGraph(
        app_pool, local_writers(settings), LlmAgents(make_llm(settings, "gpt"), structured_attempts=3),
        model_keys=TenantModelKeys(app_pool, vault),
    )  # fmt: skip
    acts = ArticleActivities(app_pool, LocalDirStore(tmp_path), graph, RunLimits.from_settings(settings))
    assert settings.openai_api_key and settings.gemini_api_key  # the platform's keys (the emulators')
    gpt, gemini = (
        settings.openai_api_key.get_secret_value()[-4:],
        settings.gemini_api_key.get_secret_value()[-4:],
    )
    key_a, key_b = claude_key("a111"), claude_key("b222")
    vendor.add_keys("claude", key_a, key_b)  # Anthropic issued them to the tenants
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw.test"
        ) as api:
            a, b = await sign_up(api), await sign_up(api)
            pipe_a, pipe_b = (
                await own_claude_pipeline(api, a, key_a),
                await own_claude_pipeline(api, b, key_b),
            )
            revoke(vendor, key_a)

            # A's next article: Claude refused with A's key; written by GPT and Gemini; A's Claude paused.
            since = vendor.last_seq()
            first = await article_input(app_pool, a, pipe_a, "Cold brew at home")
            await ActivityEnvironment().run(acts.run_agent_graph, first)
            assert sorted(writer_calls(vendor, since)) == [
                ("claude", "a111", 401), ("gemini", gemini, 200), ("gpt", gpt, 200)
            ]  # fmt: skip
            r = await api.get(f"/v1/articles/{first.article_id}", headers=a.h)
            assert sorted(d["writer"] for d in r.json()["drafts"]) == ["gemini", "gpt"]
            (failure,) = r.json()["writer_failures"]
            assert failure["writer"] == "claude" and failure["kind"] == "auth" and failure["code"] == REJECTED
            assert failure["message"].startswith("Anthropic refused your Claude key")
            assert "invalid x-api-key" in failure["params"]["message"]  # the vendor's own words
            keys = {k["provider"]: k for k in (await api.get("/v1/model-keys", headers=a.h)).json()}
            assert keys["claude"]["state"] == "paused" and keys["claude"]["pause"]["code"] == REJECTED
            assert keys["claude"]["pause"]["reason"] == failure["message"]
            assert keys["gpt"]["state"] == "not_set"  # other providers: untouched

            # While paused, A's articles skip Claude without calling it (and never on the platform's key).
            since = vendor.last_seq()
            second = await article_input(app_pool, a, pipe_a, "Pour-over coffee basics")
            await ActivityEnvironment().run(acts.run_agent_graph, second)
            assert sorted(writer_calls(vendor, since)) == [("gemini", gemini, 200), ("gpt", gpt, 200)]
            (skipped,) = (await api.get(f"/v1/articles/{second.article_id}", headers=a.h)).json()[
                "writer_failures"
            ]
            assert (skipped["kind"], skipped["code"], skipped["message"]) == (
                SKIPPED_KIND,
                REJECTED,
                failure["message"],
            )

            # B's Claude writer still writes, with B's own key.
            since = vendor.last_seq()
            theirs = await article_input(app_pool, b, pipe_b, "Cold brew at home")
            await ActivityEnvironment().run(acts.run_agent_graph, theirs)
            assert ("claude", "b222", 200) in writer_calls(vendor, since)
            r = await api.get(f"/v1/articles/{theirs.article_id}", headers=b.h)
            assert "claude" in {d["writer"] for d in r.json()["drafts"]} and r.json()["writer_failures"] == []
            assert (await api.get("/v1/model-keys/claude", headers=b.h)).json()["state"] == "active"
    finally:
        revoke(vendor)

    async with tenant_tx(app_pool, UUID(a.tenant_id)) as conn:
        events = await conn.fetch("SELECT type, payload FROM outbox WHERE tenant_id = $1", UUID(a.tenant_id))
        stored = await conn.fetchval(
            "SELECT string_agg(graph_state::text, '') FROM generated_articles WHERE tenant_id = $1",
            UUID(a.tenant_id),
        )
        saved = await conn.fetch(
            "SELECT checkpoint AS blob, metadata::text AS meta FROM graph_checkpoints UNION ALL "
            "SELECT value, channel FROM graph_checkpoint_writes"
        )
    paused = [
        (e["payload"]["provider"], e["payload"]["code"]) for e in events if e["type"] == "model_key.paused"
    ]
    assert paused == [("claude", REJECTED)]
    assert saved and stored  # the key is in none of what the graph stored
    assert not [c for c in saved if key_a.encode() in c["blob"] or key_a in c["meta"]] and key_a not in stored
    async with tenant_tx(app_pool, UUID(b.tenant_id)) as conn:
        assert not await conn.fetchval("SELECT count(*) FROM outbox WHERE type = 'model_key.paused'")
