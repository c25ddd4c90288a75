"""Gemini through its native API: ``google-genai`` against the Gemini emulator (request rules, errors in
Google's shape, streaming, structured answers, safety blocks, implicit caching), and CrewAI's native
Gemini provider."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from emulators.client import EmulatorAdmin
from emulators.synthesis import OFFLINE_MARK
from icop.connectors.config import llm_endpoint
from icop.connectors.errors import ProviderError, RetryPolicy
from icop.connectors.gemini import GeminiLLM
from icop.connectors.llm import ChatRequest, OutputSchema, make_llm
from icop.connectors.usage import Metering, UsageEvent
from icop.settings import Settings

GENERATE = "/gemini/v1beta/models/gemini-2.5-flash:generateContent"
TURNS = [
    {"role": "system", "content": "You are a careful writer."},
    {"role": "user", "content": "Write a short article. Topic: urban beekeeping on rooftops"},
    {"role": "assistant", "content": "Which city?"},
    {"role": "user", "content": "Seoul."},
]
SCORES = OutputSchema(
    "scores",
    {
        "type": "object",
        "properties": {
            "relevance": {"type": "number", "minimum": 0, "maximum": 10},
            "verdict": {"type": "string", "enum": ["keep", "rewrite"]},
            "notes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        },
        "required": ["relevance", "verdict", "notes"],
        "additionalProperties": False,
    },
)


class Events:
    """A usage sink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []

    async def record(self, tenant_id: UUID | str, event: UsageEvent) -> None:
        self.events.append(event)


def sdk(settings: Settings, key: str | None = None) -> genai.Client:
    ep = llm_endpoint(settings, "gemini")
    return genai.Client(
        api_key=key or ep.api_key, http_options=types.HttpOptions(base_url=ep.base_url, retry_options=None)
    )


def gemini(settings: Settings, key: str | None = None, **kw: Any) -> GeminiLLM:
    ep = llm_endpoint(settings, "gemini")
    return GeminiLLM("gemini", ep.base_url, key or str(ep.api_key), ep.model, timeout=10, **kw)


async def test_native_call_shapes_and_streaming(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    llm = make_llm(emu_settings, "gemini")
    assert isinstance(llm, GeminiLLM)
    whole = await llm.complete(ChatRequest(TURNS))
    assert whole.text.startswith(OFFLINE_MARK) and whole.model == "gemini-2.5-flash"
    assert whole.prompt_tokens > 0 and whole.completion_tokens > 0 and whole.finish_reason == "stop"
    [entry] = admin.requests("gemini")
    assert entry["path"] == GENERATE and entry["key"] == "-key"
    body = entry["body"]
    assert body["systemInstruction"]["parts"] == [{"text": "You are a careful writer."}]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    stream = llm.stream(ChatRequest(TURNS))
    parts = [delta async for delta in stream]
    assert len(parts) > 5 and "".join(parts) == whole.text and stream.result is not None
    assert (stream.result.prompt_tokens, stream.result.completion_tokens) == (
        whole.prompt_tokens,
        whole.completion_tokens,
    )
    assert admin.requests("gemini")[-1]["path"].endswith(":streamGenerateContent?alt=sse")
    short = await llm.complete(ChatRequest(TURNS, max_tokens=12))
    assert short.finish_reason == "length" and short.completion_tokens <= 12


async def test_request_rules_come_back_as_sdk_errors_and_our_kinds(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    keep = sdk(emu_settings)  # a Client closes its session when collected: hold it
    client = keep.aio.models
    user: list[types.ContentUnion] = [types.Content(role="user", parts=[types.Part(text="hi")])]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"contents": [types.Content(role="assistant", parts=[types.Part(text="hi")])]}, "valid role"),
        ({"config": types.GenerateContentConfig(temperature=2.5)}, "temperature"),
        ({"config": types.GenerateContentConfig(stop_sequences=list("abcdef"))}, "at most 5"),
        ({"config": types.GenerateContentConfig(response_json_schema=SCORES.schema)}, "application/json"),
        ({"config": types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=SCORES.schema,
            response_schema={"type": "OBJECT"})}, "exclusive"),
    ]  # fmt: skip
    for kw, says in refused:
        with pytest.raises(genai_errors.ClientError) as sdk_err:
            await client.generate_content(**{"model": "gemini-2.5-flash", "contents": user, **kw})
        assert (sdk_err.value.code, sdk_err.value.status) == (400, "INVALID_ARGUMENT")
        assert says in str(sdk_err.value.message)
    with pytest.raises(genai_errors.ClientError) as sdk_err:
        await client.generate_content(model="gemini-9-ultra", contents=user)
    assert (sdk_err.value.code, sdk_err.value.status) == (404, "NOT_FOUND")
    ep = llm_endpoint(emu_settings, "gemini")
    url = f"{ep.base_url}v1beta/models/gemini-2.5-flash:generateContent"
    async with httpx.AsyncClient(trust_env=False) as raw:  # the SDK refuses empty contents before sending
        empty = await raw.post(url, headers={"x-goog-api-key": str(ep.api_key)}, json={"contents": []})
        anonymous = await raw.post(url, json={})
    assert empty.status_code == 400 and "contents is not specified" in empty.json()["error"]["message"]
    assert anonymous.json()["error"]["status"] == "PERMISSION_DENIED"
    admin.reset()
    llm = make_llm(emu_settings, "gemini")
    for req, kind, status in [
        (ChatRequest(TURNS, temperature=2.5), "bad_request", 400),
        (ChatRequest(TURNS, model="gemini-9-ultra"), "not_found", 404),
        (ChatRequest([{"role": "system", "content": "only a system prompt"}]), "bad_request", None),
    ]:
        with pytest.raises(ProviderError) as info:
            await llm.complete(req)
        assert (info.value.kind, info.value.status, info.value.retryable) == (kind, status, False)
    assert len(admin.requests("gemini")) == 2, "not retried; nothing sent without contents"


async def test_errors_in_googles_shape(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    keep = sdk(emu_settings)
    client = keep.aio.models
    admin.knobs("gemini", error_kind="429", error_count=1, retry_after_s=7)
    with pytest.raises(genai_errors.ClientError) as sdk_err:
        await client.generate_content(model="gemini-2.5-flash", contents="hi")
    error = sdk_err.value.details["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in error["details"]
    assert "retry-after" not in sdk_err.value.response.headers  # the wait is in the body only
    admin.knobs("gemini", revoked_keys=["emulator-key"])
    with pytest.raises(genai_errors.ClientError) as sdk_err:
        await client.generate_content(model="gemini-2.5-flash", contents="hi")
    error = sdk_err.value.details["error"]
    assert (sdk_err.value.code, error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    admin.knobs("gemini", revoked_keys=[], quota=0)  # the requests-per-day quota is used up
    llm = gemini(emu_settings)
    with pytest.raises(ProviderError) as info:
        await llm.complete(ChatRequest(TURNS))
    assert (info.value.kind, info.value.retryable, info.value.status) == ("quota_exhausted", False, 429)
    admin.reset()
    admin.knobs("gemini", rate_limit={"requests": 1, "window_s": 5})  # requests per minute
    admin.add_keys("gemini", "one-attempt-key")
    once = gemini(emu_settings, key="one-attempt-key", policy=RetryPolicy(max_attempts=1))
    await once.complete(ChatRequest(TURNS))
    with pytest.raises(ProviderError) as info:
        await once.complete(ChatRequest(TURNS))
    assert info.value.kind == "rate_limited" and 0 < (info.value.retry_after or 0) <= 5
    assert [e["status"] for e in admin.requests("gemini")] == [200, 429]


async def test_structured_answers_and_broken_ones(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    llm = make_llm(emu_settings, "gemini")
    req = ChatRequest([{"role": "user", "content": "Score this draft about rooftop bees."}], schema=SCORES)
    value = json.loads((await llm.complete(req)).text)
    assert set(value) == {"relevance", "verdict", "notes"} and 0 <= value["relevance"] <= 10
    assert value["verdict"] in ("keep", "rewrite") and 1 <= len(value["notes"]) <= 3
    config = admin.requests("gemini")[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json" and config["responseJsonSchema"] == SCORES.schema
    admin.knobs("gemini", bad_json_count=2)
    missing = json.loads((await llm.complete(req)).text)  # JSON, but a required field is missing
    assert not set(SCORES.schema["required"]) <= set(missing)
    with pytest.raises(json.JSONDecodeError):  # cut short
        json.loads((await llm.complete(req)).text)
    assert json.loads((await llm.complete(req)).text) == value  # the knob is spent


async def test_safety_blocks_are_reported_with_their_reason(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, "gemini")
    with pytest.raises(ProviderError) as info:
        await llm.complete(ChatRequest([{"role": "user", "content": "Write about forbidden-content"}]))
    assert info.value.kind == "content_policy" and not info.value.retryable
    assert "blocked the prompt: SAFETY" in info.value.message
    with pytest.raises(ProviderError) as info:
        await llm.complete(ChatRequest([{"role": "user", "content": "Write about forbidden-answer"}]))
    assert info.value.kind == "content_policy" and "finishReason SAFETY" in info.value.message
    assert len(admin.requests("gemini")) == 2, "a refusal is not retried"
    stream = llm.stream(ChatRequest([{"role": "user", "content": "Write an article on forbidden-answer"}]))
    seen: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for delta in stream:
            seen.append(delta)
    assert seen and info.value.kind == "content_policy" and "finishReason SAFETY" in info.value.message


async def test_implicit_caching_counts_a_repeated_long_prefix(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    notes = " ".join(f"Research note {i}: rooftop hives need shade, water and wind." for i in range(200))
    events = Events()
    llm = gemini(emu_settings, metering=Metering(events, "tenant"))

    async def write(llm: GeminiLLM, shared: str, writer: str) -> tuple[int, int]:
        msgs = [{"role": "system", "content": shared}, {"role": "user", "content": f"Draft as {writer}."}]
        r = await llm.complete(ChatRequest(msgs))
        return r.prompt_tokens, r.cache_read_tokens

    first, second = await write(llm, notes, "gpt"), await write(llm, notes, "claude")
    assert first[0] > 2048 and first[1] == 0
    assert 2048 <= second[1] < second[0]  # the shared notes, not the writer's own line
    assert [e.cache_read_tokens for e in events.events] == [0, second[1]]
    admin.add_keys("gemini", "another-key")
    assert (await write(gemini(emu_settings, key="another-key"), notes, "gemini"))[1] == 0  # per key
    short = "Shared brand voice: warm, concrete, no jargon."
    await write(llm, short, "gpt")
    assert (await write(llm, short, "claude"))[1] == 0  # under Gemini 2.5's 2,048-token minimum
    keep = sdk(emu_settings)
    raw = await keep.aio.models.generate_content(model="gemini-2.5-flash", contents=f"{notes}\nDraft as you.")
    usage = raw.usage_metadata
    assert usage is not None and (usage.cached_content_token_count or 0) >= 2048


async def test_a_crewai_agent_on_gemini_calls_generate_content(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    from graphs.article.agents import CrewAgents, make_agents

    agents = make_agents(emu_settings, "gemini")
    assert isinstance(agents, CrewAgents) and type(agents.llm).__name__ == "GeminiCompletion"
    reply = await agents.run("editor", "Score these drafts. Topic: rooftop bees")
    assert reply.provider == "gemini" and reply.text.startswith(OFFLINE_MARK) and reply.prompt_tokens > 0
    [entry] = admin.requests("gemini")
    assert entry["path"] == GENERATE and entry["status"] == 200
    assert entry["body"]["systemInstruction"]["parts"][0]["text"].startswith("You are")
