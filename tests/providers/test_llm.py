"""The LLM connectors against the emulators: GPT (``openai``, the Responses API) and Claude (``anthropic``,
see also test_anthropic.py) for call shapes, and for all three (Gemini's native shapes: test_gemini.py)
error mapping, Retry-After, rate limits, the offline fallback and per-tenant usage records."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import anthropic
import openai
import pytest

from cluster.emulators import EmulatorsComponent
from emulators.client import EmulatorAdmin
from emulators.synthesis import OFFLINE_MARK
from icop.connectors.anthropic import AnthropicLLM
from icop.connectors.config import LLM_NAMES, LlmName, llm_endpoint
from icop.connectors.errors import ProviderError
from icop.connectors.llm import ChatRequest, OfflineLLM, OpenAILLM, make_llm
from icop.connectors.placeholder import OFFLINE_MARK as PLACEHOLDER_MARK
from icop.connectors.usage import Metering, UsageRecorder
from icop.settings import Settings

from .conftest import emulator_settings, new_tenant, usage_rows

PATH = {"gpt": "/openai/v1/responses", "claude": "/anthropic/v1/messages"}
TURNS = {"gpt": "input", "claude": "messages"}  # where each API takes the conversation
SHAPED: tuple[LlmName, ...] = ("gpt", "claude")  # call shapes here; Gemini's in test_gemini.py
CONNECTOR = {"gpt": OpenAILLM, "claude": AnthropicLLM}
# where a vendor answers with its own status: Anthropic's overload is 529, Google's unknown key a 400
STATUS = {("claude", 503): 529, ("gemini", 401): 400}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def req(text: str = "Write a short article. Topic: urban beekeeping on rooftops", **kw: Any) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


@pytest.mark.parametrize("name", SHAPED)
async def test_each_provider_answers_on_its_own_base_url(
    name: LlmName, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, name)
    assert isinstance(llm, CONNECTOR[name]) and not llm.offline
    result = await llm.complete(req())
    assert result.text.startswith(OFFLINE_MARK) and "beekeeping" in result.text.lower()
    assert result.model == llm_endpoint(emu_settings, name).model
    assert result.prompt_tokens > 0 and result.completion_tokens > 0 and result.finish_reason == "stop"
    [entry] = admin.requests(name)
    assert entry["path"] == PATH[name]
    assert entry["status"] == 200 and entry["key"] == "-key"  # the key's last 4 characters only
    assert entry["body"][TURNS[name]][0]["content"].startswith("Write a short article")


@pytest.mark.parametrize("name", SHAPED)
async def test_streaming_yields_the_same_text_and_usage(
    name: LlmName, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, name)
    whole = await llm.complete(req())
    stream = llm.stream(req())
    parts = [delta async for delta in stream]
    assert len(parts) > 5, "expected many SSE chunks"
    assert "".join(parts) == whole.text
    assert stream.result is not None
    assert (stream.result.prompt_tokens, stream.result.completion_tokens) == (
        whole.prompt_tokens,
        whole.completion_tokens,
    )
    streamed = admin.requests(name)[-1]
    assert streamed["body"]["stream"] is True


async def test_answers_in_the_language_the_prompt_asks_for(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, "claude")
    ko = await llm.complete(req("주제: 제주도 여행. 한국어로 3개의 하위 주제를 제안하세요"))
    assert ko.text.startswith(OFFLINE_MARK) and len(HANGUL.findall(ko.text)) > 10
    assert len([ln for ln in ko.text.splitlines() if re.match(r"^\d+\. ", ln)]) == 3
    ko2 = await llm.complete(req("Write about Seoul street food, in Korean"))
    assert len(HANGUL.findall(ko2.text)) > 20
    en = await llm.complete(req("Write about Seoul street food"))
    assert not HANGUL.search(en.text)
    again = await llm.complete(req("주제: 제주도 여행. 한국어로 3개의 하위 주제를 제안하세요"))
    assert again.text == ko.text  # deterministic


async def test_stop_max_tokens_and_json_mode(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    one_line = await make_llm(emu_settings, "gemini").complete(
        req("label: solar panels for balconies", stop=["\n"])
    )
    assert "\n" not in one_line.text and one_line.text.startswith(OFFLINE_MARK)
    llm = make_llm(emu_settings, "gpt")
    with pytest.raises(ValueError, match="no stop sequences"):  # the Responses API has none: not dropped
        await llm.complete(req(stop=["\n"]))
    short = await llm.complete(req(max_tokens=16))
    assert short.finish_reason == "length" and short.completion_tokens <= 16
    with pytest.raises(ProviderError) as below:  # the Responses API's minimum
        await llm.complete(req(max_tokens=12))
    assert below.value.status == 400 and "Expected a value >= 16, but got 12" in below.value.message
    assert [e["status"] for e in admin.requests("gpt")] == [200, 400]  # the stop request never left
    js = await llm.complete(req("List 4 angles for topic: remote work", json_mode=True))
    import json

    data = json.loads(js.text)
    assert data["offline"] is True and len(data["items"]) == 4


def tight(emu_settings: Settings, **kw: object) -> Settings:
    """The session's emulator settings with some overrides (fewer attempts, shorter timeouts)."""
    return emulator_settings(EmulatorsComponent(emu_settings), **kw)


FAULTS = [
    # knobs, expected kind, retryable, status
    ({"error_kind": "429", "error_count": 1, "retry_after_s": 7}, "rate_limited", True, 429),
    ({"error_kind": "500", "error_count": 1}, "server_error", True, 500),
    ({"error_kind": "503", "error_count": 1}, "unavailable", True, 503),
    ({"error_kind": "timeout", "error_count": 1, "hang_s": 3}, "timeout", True, None),
    ({"error_kind": "late", "error_count": 1, "late_s": 2}, "timeout", True, None),
    ({"revoked_keys": ["emulator-key"]}, "auth", False, 401),
]


@pytest.mark.parametrize("name", LLM_NAMES)
@pytest.mark.parametrize(
    ("knobs", "kind", "retryable", "status"), FAULTS, ids=[f[1] + "-" + str(f[3]) for f in FAULTS]
)
async def test_every_error_is_classified(
    name: LlmName,
    knobs: dict[str, Any],
    kind: str,
    retryable: bool,
    status: int | None,
    emu_settings: Settings,
    admin: EmulatorAdmin,
) -> None:
    s = tight(emu_settings, provider_max_attempts=1, provider_timeout_s=1.0)
    admin.knobs(name, **knobs)
    with pytest.raises(ProviderError) as info:
        await make_llm(s, name).complete(req())
    err = info.value
    status = STATUS.get((name, status or 0), status)
    assert (err.provider, err.kind, err.retryable, err.status) == (name, kind, retryable, status)
    if status == 429:
        assert err.retry_after == 7
    if knobs.get("error_kind") == "late":  # the provider did the work; only the answer came too late
        await asyncio.sleep(1.5)
        [entry] = admin.requests(name)
        assert entry["status"] == 200 and entry["fault"] == "late"


@pytest.mark.parametrize("name", SHAPED)
async def test_request_errors_are_not_retryable(
    name: LlmName, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, name)
    with pytest.raises(ProviderError) as info:
        await llm.complete(req(model="no-such-model"))
    assert (info.value.kind, info.value.status, info.value.retryable) == ("not_found", 404, False)
    with pytest.raises(ProviderError) as info:
        await llm.complete(ChatRequest(messages=[]))
    assert (info.value.kind, info.value.status, info.value.retryable) == ("bad_request", 400, False)
    assert len(admin.requests(name)) == 2, "a non-retryable error must not be retried"


async def test_error_bodies_follow_each_service(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("*", error_kind="429", error_count=1)
    bodies = {}
    for name in ("gpt",):
        ep = llm_endpoint(emu_settings, name)
        client = openai.AsyncOpenAI(api_key=ep.api_key, base_url=ep.base_url, max_retries=0)
        with pytest.raises(openai.RateLimitError) as info:
            await client.responses.create(model=ep.model, input="hi")
        bodies[name] = info.value.response.json()  # the raw body, as the service wrote it
        assert info.value.response.headers["retry-after"] == "1"
    ep = llm_endpoint(emu_settings, "claude")
    claude = anthropic.AsyncAnthropic(api_key=ep.api_key, base_url=ep.base_url, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as limited:
        await claude.messages.create(
            model=ep.model, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
    bodies["claude"] = limited.value.response.json()
    assert limited.value.response.headers["retry-after"] == "1"
    assert bodies["claude"]["request_id"] == limited.value.response.headers["request-id"]
    assert (
        bodies["gpt"]["error"]["code"] == "rate_limit_exceeded"
        and bodies["gpt"]["error"]["type"] == "requests"
    )
    assert bodies["claude"]["type"] == "error" and bodies["claude"]["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("name", LLM_NAMES)
async def test_retries_wait_for_retry_after(
    name: LlmName, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    admin.knobs(name, error_kind="429", error_count=1, retry_after_s=1)
    t0 = time.monotonic()
    result = await make_llm(emu_settings, name).complete(req())
    assert result.text.startswith(OFFLINE_MARK)
    assert time.monotonic() - t0 >= 1.0
    first, second = admin.requests(name)
    assert (first["status"], second["status"]) == (429, 200)
    assert second["started"] - first["finished"] >= 0.95


async def test_server_errors_are_retried_with_backoff(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("gemini", error_kind="503", error_count=2, retry_after_s=0)
    result = await make_llm(emu_settings, "gemini").complete(req())
    assert result.finish_reason == "stop"
    assert [e["status"] for e in admin.requests("gemini")] == [503, 503, 200]


async def test_per_key_rate_limit_answers_like_openai(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.add_keys("gpt", "another-key")  # a second organisation's key
    admin.knobs("gpt", rate_limit={"requests": 2, "window_s": 1.5})
    once = tight(emu_settings, provider_max_attempts=1)
    llm = make_llm(once, "gpt")
    await llm.complete(req())
    await llm.complete(req())
    with pytest.raises(ProviderError) as info:
        await llm.complete(req())
    assert info.value.kind == "rate_limited" and 0 < (info.value.retry_after or 0) <= 2
    other = make_llm(tight(emu_settings, provider_max_attempts=1, openai_api_key="another-key"), "gpt")
    assert (await other.complete(req())).finish_reason == "stop"  # limits are per key
    ep = llm_endpoint(emu_settings, "gpt")
    raw = openai.AsyncOpenAI(api_key=ep.api_key, base_url=ep.base_url, max_retries=0)
    with pytest.raises(openai.RateLimitError) as sdk_err:
        await raw.responses.create(model=ep.model, input="x")
    headers = sdk_err.value.response.headers
    assert headers["x-ratelimit-remaining-requests"] == "0" and headers["x-ratelimit-limit-requests"] == "2"
    assert "Rate limit reached" in sdk_err.value.message
    t0 = time.monotonic()
    assert (
        await make_llm(emu_settings, "gpt").complete(req())
    ).finish_reason == "stop"  # retried after waiting
    assert time.monotonic() - t0 > 0.2


async def test_latency_knob(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    llm = make_llm(emu_settings, "gpt")
    admin.knobs("gpt", latency_ms=300)
    t0 = time.monotonic()
    await llm.complete(req())
    assert time.monotonic() - t0 >= 0.3
    admin.knobs("gpt", latency_ms={"dist": "uniform", "low": 50, "high": 120}, seed=1)
    t0 = time.monotonic()
    await llm.complete(req())
    assert 0.05 <= time.monotonic() - t0 < 1.0


async def test_no_key_means_the_offline_provider(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    bare = Settings(state_dir=emu_settings.state_dir)
    for name in LLM_NAMES:
        llm = make_llm(bare, name)
        assert isinstance(llm, OfflineLLM) and llm.offline
        result = await llm.complete(req("Topic: 김치 만들기. 한국어로 써 주세요"))
        assert result.offline and result.text.startswith(PLACEHOLDER_MARK) and HANGUL.search(result.text)
        assert result.model.startswith("offline-")
        stream = llm.stream(req())
        assert "".join([d async for d in stream]) == (await llm.complete(req())).text
    assert admin.requests() == [], "offline providers make no HTTP calls"


async def test_usage_is_recorded_per_tenant(emu_settings: Settings, admin: EmulatorAdmin, app_pool) -> None:
    tenants = [await new_tenant(app_pool, "usage-a"), await new_tenant(app_pool, "usage-b")]
    recorder = UsageRecorder(app_pool)
    gpt = make_llm(emu_settings, "gpt", Metering(recorder, tenants[0]))
    r1 = await gpt.complete(req())
    stream = gpt.stream(req(tenant_id=tenants[1], operation="draft"))
    _ = [d async for d in stream]
    offline = make_llm(Settings(state_dir=emu_settings.state_dir), "claude", Metering(recorder, tenants[1]))
    await offline.complete(req())
    cols = "tenant_id, kind, provider, operation, prompt_tokens, completion_tokens"
    a = await usage_rows(app_pool, tenants[0], cols)
    b = await usage_rows(app_pool, tenants[1], cols)
    assert [tuple(r) for r in a] == [
        (tenants[0], "llm", "gpt", "chat", r1.prompt_tokens, r1.completion_tokens)
    ]
    assert stream.result is not None
    assert [tuple(r)[:4] for r in b] == [
        (tenants[1], "llm", "gpt", "draft_stream"),
        (tenants[1], "llm", "offline:claude", "chat"),
    ]
    assert b[0]["completion_tokens"] == stream.result.completion_tokens > 0


async def test_a_stream_is_retried_until_it_opens(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("claude", error_kind="503", error_count=1, retry_after_s=0)
    stream = make_llm(emu_settings, "claude").stream(req())
    text = "".join([d async for d in stream])
    assert text.startswith(OFFLINE_MARK) and stream.result is not None and stream.result.text == text
    assert [e["status"] for e in admin.requests("claude")] == [529, 200]  # Anthropic's overloaded
    admin.knobs("claude", error_kind="timeout", error_count=1, hang_s=3)
    with pytest.raises(ProviderError) as info:
        _ = [
            d
            async for d in make_llm(
                tight(emu_settings, provider_max_attempts=1, provider_timeout_s=1.0), "claude"
            ).stream(req())
        ]
    assert (info.value.kind, info.value.retryable) == ("timeout", True)


async def test_gpt_caches_repeated_prompt_prefixes_as_openai_documents(
    emu_settings: Settings, admin: EmulatorAdmin, app_pool
) -> None:
    """OpenAI's automatic prompt caching, through the real SDK: a prompt of 1,024 tokens or more whose
    prefix the same organisation sent before reads that prefix from the cache, in 128-token increments;
    another organisation (API key) reads nothing; the connector records the cached part."""
    tenant = await new_tenant(app_pool, "cache")
    gpt = make_llm(emu_settings, "gpt", Metering(UsageRecorder(app_pool), tenant))
    shared = {"role": "system", "content": "beta " * 1200}  # 1,200 tokens (one per word)

    def ask(topic: str) -> ChatRequest:
        return ChatRequest(messages=[shared, {"role": "user", "content": f"{topic}: write about it"}])

    first = await gpt.complete(ask("Kimchi"))
    second = await gpt.complete(ask("Tofu"))
    # the common prefix: the system message (3 framing tokens, 1,200, 1 closing) and the user message's
    # 3 framing tokens = 1,207 tokens, read in 128-token increments: 1,152
    assert (first.cache_read_tokens, second.cache_read_tokens) == (0, 1152)
    assert second.prompt_tokens > 1207 and second.cache_write_tokens == 0
    stream = gpt.stream(ask("Kimchi"))  # the same prompt again: all of it, in whole increments
    _ = [d async for d in stream]
    again = first.prompt_tokens // 128 * 128
    assert stream.result is not None and stream.result.cache_read_tokens == again
    usage = [e["meta"]["usage"] for e in admin.requests("gpt")]
    assert [u["input_tokens_details"]["cached_tokens"] for u in usage] == [0, 1152, again]
    rows = await usage_rows(app_pool, tenant, "cache_read_tokens, cache_write_tokens")
    assert [tuple(r) for r in rows] == [(0, 0), (1152, 0), (again, 0)]

    ep = llm_endpoint(emu_settings, "gpt")
    admin.add_keys("gpt", "other-organisation-key")
    other_org = OpenAILLM("gpt", ep.base_url, "other-organisation-key", ep.model)
    assert (await other_org.complete(ask("Tofu"))).cache_read_tokens == 0
    short = ChatRequest(
        messages=[{"role": "system", "content": "beta " * 900}, {"role": "user", "content": "x"}]
    )
    assert [(await gpt.complete(short)).cache_read_tokens for _ in range(2)] == [0, 0]  # under 1,024 tokens
