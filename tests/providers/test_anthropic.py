"""Claude through the Anthropic Messages API: the ``anthropic`` SDK and ``AnthropicLLM`` against the native
emulator — its request rules, SSE events, structured outputs, prompt caching and the LLM key registry."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from cluster.emulators import EmulatorsComponent
from emulators.client import EmulatorAdmin
from icop.connectors.anthropic import AnthropicLLM
from icop.connectors.config import LLM_NAMES, llm_endpoint
from icop.connectors.errors import ProviderError
from icop.connectors.llm import ChatRequest, OutputSchema, make_llm
from icop.connectors.usage import Metering, UsageEvent
from icop.settings import Settings

from .conftest import emulator_settings

SCORES = OutputSchema(
    "scores",
    {
        "type": "object",
        "properties": {
            "relevance": {"type": "integer", "minimum": 1, "maximum": 5},
            "verdict": {"type": "string", "enum": ["keep", "rewrite"]},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["relevance", "verdict", "notes"],
        "additionalProperties": False,
    },
)
# a shared prefix well past claude-sonnet-4-5's minimum cacheable length (1,024 tokens)
NOTES = " ".join(
    f"Research note {i}: rooftop hives need shade, water and a calm neighbour." for i in range(120)
)


def client(settings: Settings, key: str | None = None) -> anthropic.AsyncAnthropic:
    ep = llm_endpoint(settings, "claude")
    return anthropic.AsyncAnthropic(
        api_key=key or ep.api_key, base_url=ep.base_url, max_retries=0, timeout=10.0
    )


def cached(user: str) -> ChatRequest:
    """A writer-like request: the shared notes in the system prompt, a breakpoint after them."""
    system = [{"type": "text", "text": f"You are a writer.\n{NOTES}", "cache": True}]
    return ChatRequest(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])


class Sink:
    def __init__(self) -> None:
        self.events: list[UsageEvent] = []

    async def record(self, tenant_id: Any, event: UsageEvent) -> None:
        self.events.append(event)


async def test_request_rules_are_anthropics(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    sdk, model = client(emu_settings), emu_settings.anthropic_chat_model
    hi = [{"role": "user", "content": "hi"}]
    five = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    refused: list[tuple[dict[str, Any], type[anthropic.APIStatusError], str]] = [
        ({"messages": [{"role": "system", "content": "Be brief."}, *hi]}, anthropic.BadRequestError,
         "top-level `system` parameter"),
        ({"messages": [], "max_tokens": 5}, anthropic.BadRequestError, "at least one message"),
        ({"max_tokens": 0}, anthropic.BadRequestError, "max_tokens"),
        ({"max_tokens": 100_000}, anthropic.BadRequestError, "maximum allowed number of output tokens"),
        ({"model": "claude-nonexistent-9"}, anthropic.NotFoundError, "model: claude-nonexistent-9"),
        ({"messages": [{"role": "user", "content": five}]}, anthropic.BadRequestError,
         "A maximum of 4 blocks with cache_control"),
        ({"system": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "2h"}}]},
         anthropic.BadRequestError, "ttl"),
        ({"tools": [{"name": "score", "description": "no schema"}]}, anthropic.BadRequestError,
         "input_schema"),
        ({"tools": [{"name": "a", "input_schema": {"type": "object"}}], "tool_choice": {"type": "some"}},
         anthropic.BadRequestError, "tool_choice"),
        ({"stop_sequences": ["\n"]}, anthropic.BadRequestError, "non-whitespace"),
    ]  # fmt: skip
    for change, error, words in refused:
        params = {"model": model, "max_tokens": 50, "messages": hi, **change}
        with pytest.raises(error) as info:
            await sdk.messages.create(**params)
        assert words in info.value.message, info.value.message
        body = info.value.response.json()
        assert body["type"] == "error" and body["request_id"] == info.value.response.headers["request-id"]
    url = f"{llm_endpoint(emu_settings, 'claude').base_url}/v1/messages"
    body = {"model": model, "max_tokens": 5, "messages": hi}
    async with httpx.AsyncClient(trust_env=False) as h:
        no_version = await h.post(url, json=body, headers={"x-api-key": "emulator-key"})
        no_key = await h.post(url, json=body, headers={"anthropic-version": "2023-06-01"})
    assert no_version.status_code == 400 and "anthropic-version" in no_version.json()["error"]["message"]
    assert no_key.status_code == 401 and no_key.json()["error"]["type"] == "authentication_error"
    # through the connector: a refused request is a bad request, never retried
    llm = make_llm(emu_settings, "claude")
    with pytest.raises(ProviderError) as err:
        await llm.complete(ChatRequest([{"role": "user", "content": "hi"}], stop=["  "]))
    assert (err.value.kind, err.value.status, err.value.retryable) == ("bad_request", 400, False)
    admin.knobs("claude", quota=0)
    with pytest.raises(ProviderError) as err:
        await llm.complete(ChatRequest(hi))
    assert (err.value.kind, err.value.status) == ("quota_exhausted", 400)  # credits used up


async def test_answers_headers_and_sse_events(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    sdk, model = client(emu_settings), emu_settings.anthropic_chat_model
    raw = await sdk.messages.with_raw_response.create(
        model=model, max_tokens=400, messages=[{"role": "user", "content": "Topic: tea"}]
    )
    msg = raw.parse()
    [block] = msg.content
    assert isinstance(block, anthropic.types.TextBlock) and msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0
    assert raw.headers["request-id"].startswith("req_")
    for kind in ("requests", "input-tokens", "output-tokens"):
        assert int(raw.headers[f"anthropic-ratelimit-{kind}-remaining"]) < int(
            raw.headers[f"anthropic-ratelimit-{kind}-limit"]
        )
    counted = await sdk.messages.count_tokens(
        model=model, messages=[{"role": "user", "content": "Topic: tea"}]
    )
    assert counted.input_tokens == msg.usage.input_tokens
    # the event sequence on the wire (the SDK drops the pings)
    url = f"{llm_endpoint(emu_settings, 'claude').base_url}/v1/messages"
    body = {
        "model": model,
        "max_tokens": 400,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-api-key": "emulator-key", "anthropic-version": "2023-06-01"}
    async with (
        httpx.AsyncClient(trust_env=False) as h,
        h.stream("POST", url, json=body, headers=headers) as r,
    ):
        names = [ln.removeprefix("event: ") async for ln in r.aiter_lines() if ln.startswith("event: ")]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"} and len(names) > 10
    async with await sdk.messages.create(
        model=model, max_tokens=400, stream=True, messages=[{"role": "user", "content": "Topic: tea"}]
    ) as stream:
        events = [e async for e in stream]
    deltas = [e.delta for e in events if isinstance(e, anthropic.types.RawContentBlockDeltaEvent)]
    assert "".join(d.text for d in deltas if isinstance(d, anthropic.types.TextDelta)) == block.text
    final = events[-2]
    assert isinstance(final, anthropic.types.RawMessageDeltaEvent)
    assert final.usage.output_tokens == msg.usage.output_tokens
    # the connector's stream gives the same text and counts as its plain call
    llm = make_llm(emu_settings, "claude")
    whole = await llm.complete(ChatRequest([{"role": "user", "content": "Topic: tea"}], max_tokens=400))
    streamed = llm.stream(ChatRequest([{"role": "user", "content": "Topic: tea"}], max_tokens=400))
    assert "".join([d async for d in streamed]) == whole.text and streamed.result is not None
    assert (streamed.result.prompt_tokens, streamed.result.completion_tokens) == (
        whole.prompt_tokens,
        whole.completion_tokens,
    )
    short = await llm.complete(ChatRequest([{"role": "user", "content": "Topic: tea"}], max_tokens=10))
    assert short.finish_reason == "length" and short.completion_tokens <= 10
    admin.knobs("claude", rate_limit={"requests": 1, "window_s": 30})
    await sdk.messages.create(model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.RateLimitError) as limited:
        await sdk.messages.create(model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    answered = limited.value.response.headers
    assert answered["anthropic-ratelimit-requests-remaining"] == "0" and int(answered["retry-after"]) >= 1


async def test_structured_output_follows_the_schema_or_breaks_on_the_knob(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, "claude")
    ask = ChatRequest([{"role": "user", "content": "Score this draft about cold brew."}], schema=SCORES)
    good = await llm.complete(ask)
    value = json.loads(good.text)
    jsonschema.validate(value, SCORES.schema)  # the bounds moved into the description were followed
    sent = admin.requests("claude")[-1]["body"]["output_format"]
    assert sent["type"] == "json_schema" and "minimum" not in sent["schema"]["properties"]["relevance"]
    admin.knobs("claude", bad_json_count=2)
    for _ in range(2):
        bad = await llm.complete(ask)
        with pytest.raises((ValueError, jsonschema.ValidationError)):
            jsonschema.validate(json.loads(bad.text), SCORES.schema)
    assert [e["meta"].get("broken") for e in admin.requests("claude")[-2:]] == [True, True]
    assert json.loads((await llm.complete(ask)).text) == value  # the knob is spent
    # forced tool use: the tool's input follows its input_schema
    sdk = client(emu_settings)
    tool: Any = {"name": "record_scores", "description": "Record the scores", "input_schema": SCORES.schema}
    msg = await sdk.messages.create(
        model=emu_settings.anthropic_chat_model, max_tokens=300, tools=[tool],
        tool_choice={"type": "tool", "name": "record_scores"},
        messages=[{"role": "user", "content": "Score this draft about cold brew."}],
    )  # fmt: skip
    [use] = msg.content
    assert isinstance(use, anthropic.types.ToolUseBlock) and msg.stop_reason == "tool_use"
    assert use.name == "record_scores" and isinstance(use.input, dict)
    jsonschema.validate(use.input, SCORES.schema)


async def test_prompt_caching_is_counted_as_anthropic_documents(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    sink = Sink()
    llm = make_llm(emu_settings, "claude", Metering(sink, "tenant-a"))
    first = await llm.complete(cached("Write about rooftop hives."))
    assert first.cache_read_tokens == 0 and first.cache_write_tokens > 1024
    second = await llm.complete(cached("Write about hive shade."))  # same prefix, another question
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert second.prompt_tokens - second.cache_read_tokens < 30  # only the new question is uncached
    assert [(e.cache_read_tokens, e.cache_write_tokens) for e in sink.events] == [
        (0, first.cache_write_tokens),
        (first.cache_write_tokens, 0),
    ]
    usage = admin.requests("claude")[-1]["meta"]["usage"]
    assert usage["cache_read_input_tokens"] == second.cache_read_tokens
    assert usage["input_tokens"] == second.prompt_tokens - second.cache_read_tokens
    short = ChatRequest(
        [{"role": "user", "content": [{"type": "text", "text": "Tea notes.", "cache": True}]}]
    )
    for _ in range(2):  # below the minimum cacheable length: nothing cached, and no error
        r = await llm.complete(short)
        assert (r.cache_read_tokens, r.cache_write_tokens) == (0, 0)
    admin.add_keys("claude", "other-organisation")
    other = make_llm(
        emulator_settings(EmulatorsComponent(emu_settings), anthropic_api_key="other-organisation"), "claude"
    )
    elsewhere = await other.complete(cached("Write about rooftop hives."))
    assert (elsewhere.cache_read_tokens, elsewhere.cache_write_tokens) == (0, first.cache_write_tokens)
    # an hour-long entry is reported apart
    hour = anthropic.types.CacheControlEphemeralParam(type="ephemeral", ttl="1h")
    msg = await client(emu_settings).messages.create(
        model=emu_settings.anthropic_chat_model, max_tokens=50,
        system=[{"type": "text", "text": f"Hour-long notes.\n{NOTES}", "cache_control": hour}],
        messages=[{"role": "user", "content": "Write about bees."}],
    )  # fmt: skip
    assert msg.usage.cache_creation is not None
    assert (
        msg.usage.cache_creation.ephemeral_1h_input_tokens
        == (msg.usage.cache_creation_input_tokens or 0)
        > 1024
    )
    assert msg.usage.cache_creation.ephemeral_5m_input_tokens == 0


async def test_llm_services_know_their_keys(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    overrides = {"gpt": "openai_api_key", "claude": "anthropic_api_key", "gemini": "gemini_api_key"}
    for name in LLM_NAMES:
        settings = emulator_settings(
            EmulatorsComponent(emu_settings), provider_max_attempts=1, **{overrides[name]: "tenant-key"}
        )
        llm = make_llm(settings, name)
        with pytest.raises(ProviderError) as unknown:
            await llm.complete(ChatRequest([{"role": "user", "content": "hi"}]))
        assert (unknown.value.kind, unknown.value.status) == ("auth", 400 if name == "gemini" else 401)
        admin.add_keys(name, "tenant-key")
        assert (await llm.complete(ChatRequest([{"role": "user", "content": "hi"}]))).text
        assert admin.revoke_key(name, "tenant-key")
        with pytest.raises(ProviderError) as revoked:
            await llm.complete(ChatRequest([{"role": "user", "content": "hi"}]))
        assert revoked.value.kind == "auth" and not revoked.value.retryable
    with pytest.raises(anthropic.AuthenticationError) as sdk_error:
        await client(emu_settings, "tenant-key").messages.create(
            model=emu_settings.anthropic_chat_model, max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    body = sdk_error.value.body
    assert isinstance(body, dict)
    assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
    assert isinstance(make_llm(emu_settings, "claude"), AnthropicLLM)  # the stack's own key still works
    assert (
        await make_llm(emu_settings, "claude").complete(ChatRequest([{"role": "user", "content": "hi"}]))
    ).text
