"""GPT through OpenAI's Responses API: the ``openai`` SDK and ``OpenAILLM`` against the emulator — its
request rules (with OpenAI's own messages), the answer's shape, an answer cut short, and the typed
server-sent events of a streamed answer."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.types.responses import ResponseCompletedEvent, ResponseTextDeltaEvent

from emulators.client import EmulatorAdmin
from emulators.synthesis import OFFLINE_MARK
from icop.connectors.config import llm_endpoint
from icop.connectors.errors import ProviderError
from icop.connectors.llm import ChatRequest, make_llm
from icop.settings import Settings


def client(settings: Settings) -> openai.AsyncOpenAI:
    ep = llm_endpoint(settings, "gpt")
    return openai.AsyncOpenAI(api_key=ep.api_key, base_url=ep.base_url, max_retries=0, timeout=10.0)


async def test_request_rules_are_openais(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    sdk, model = client(emu_settings), emu_settings.openai_chat_model
    hi = [{"role": "user", "content": "hi"}]
    open_schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    refused: list[tuple[dict[str, Any], type[openai.APIStatusError], str]] = [
        ({"extra_body": {"stop": ["\n"]}}, openai.BadRequestError, "Unknown parameter: 'stop'."),
        ({"input": []}, openai.BadRequestError, "Invalid 'input': empty array."),
        ({"max_output_tokens": 12}, openai.BadRequestError, "Expected a value >= 16, but got 12 instead."),
        ({"temperature": 2.5}, openai.BadRequestError, "Expected a value <= 2, but got 2.5 instead."),
        ({"input": [{"role": "tool", "content": "x"}]}, openai.BadRequestError, "Invalid 'input[0].role'"),
        ({"input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]},
         openai.BadRequestError, "Supported values are: 'output_text' and 'refusal'."),
        ({"input": [{"role": "user", "content": None}]}, openai.BadRequestError,
         "expected one of an array of objects or string, but got null instead."),
        ({"text": {"format": {"type": "json_schema", "schema": open_schema, "strict": True}}},
         openai.BadRequestError, "Missing required parameter: 'text.format.name'."),
        ({"text": {"format": {"type": "json_schema", "name": "A", "schema": open_schema, "strict": True}}},
         openai.BadRequestError, "'additionalProperties' is required to be supplied and to be false."),
        ({"text": {"format": {"type": "yaml"}}}, openai.BadRequestError, "Invalid 'text.format.type'"),
        ({"previous_response_id": "resp_gone"}, openai.BadRequestError, "'resp_gone' not found"),
        ({"model": "no-such-model"}, openai.NotFoundError, "The model `no-such-model` does not exist"),
    ]  # fmt: skip
    for change, error, words in refused:
        params = {"model": model, "input": hi, **change}
        with pytest.raises(error) as info:
            await sdk.responses.create(**params)
        assert words in info.value.message, info.value.message
        assert info.value.response.json()["error"]["type"] == "invalid_request_error"
    assert [e["status"] for e in admin.requests("gpt")] == [400] * 11 + [404]


async def test_an_answer_and_one_cut_short(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    sdk, model = client(emu_settings), emu_settings.openai_chat_model
    topic = "Write a short article. Topic: urban beekeeping"
    whole = await sdk.responses.create(
        model=model, instructions="You write for a food magazine.", input=topic, store=False
    )
    assert whole.status == "completed" and whole.incomplete_details is None and whole.model == model
    [item] = whole.output
    assert item.type == "message" and item.role == "assistant"
    assert whole.output_text.startswith(OFFLINE_MARK) and "beekeeping" in whole.output_text.lower()
    assert whole.usage is not None and whole.usage.input_tokens > 0 and whole.usage.output_tokens > 0
    assert whole.usage.total_tokens == whole.usage.input_tokens + whole.usage.output_tokens
    assert whole.usage.input_tokens_details.cached_tokens == 0
    cut = await sdk.responses.create(model=model, input=topic, max_output_tokens=16)
    assert cut.status == "incomplete" and cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert (
        cut.usage is not None
        and cut.usage.output_tokens <= 16
        and whole.output_text.startswith(cut.output_text)
    )
    # through the connector, the same end in the interface's words
    llm = make_llm(emu_settings, "gpt")
    short = await llm.complete(ChatRequest([{"role": "user", "content": topic}], max_tokens=16))
    assert (short.text, short.finish_reason) == (cut.output_text, "length")


async def test_a_streamed_answer_is_the_apis_typed_events(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    sdk, model = client(emu_settings), emu_settings.openai_chat_model
    topic = "Write a short article. Topic: urban beekeeping"
    whole = await sdk.responses.create(model=model, input=topic)
    stream = await sdk.responses.create(model=model, input=topic, stream=True)
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert len(deltas) > 5 and "".join(deltas) == whole.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert isinstance(events[-1], ResponseCompletedEvent)
    done = events[-1].response
    assert done.output_text == whole.output_text and done.usage is not None and whole.usage is not None
    assert done.usage.output_tokens == whole.usage.output_tokens
    # the connector's stream: the same text, the usage of the final event, cut short as ``length``
    llm = make_llm(emu_settings, "gpt")
    streamed = llm.stream(ChatRequest([{"role": "user", "content": topic}], max_tokens=16))
    text = "".join([d async for d in streamed])
    assert streamed.result is not None and streamed.result.text == text
    assert streamed.result.finish_reason == "length" and streamed.result.completion_tokens <= 16


async def test_a_stream_that_fails_halfway_is_a_classified_error(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    """The model fails mid-answer (a ``response.failed`` event after some text): the connector raises a
    ProviderError with OpenAI's words, after the deltas it got."""
    admin.knobs("gpt", stream_fail_count=1)
    llm = make_llm(emu_settings, "gpt")
    stream = llm.stream(ChatRequest([{"role": "user", "content": "Write a short article. Topic: tea"}]))
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for delta in stream:
            got.append(delta)
    assert got and stream.result is None
    assert (info.value.kind, info.value.message) == (
        "server_error",
        "The model failed to generate a response.",
    )
    [entry] = admin.requests("gpt")
    assert entry["meta"]["stream_failed"] is True
    again = llm.stream(ChatRequest([{"role": "user", "content": "Write a short article. Topic: tea"}]))
    assert "".join([d async for d in again]).startswith("".join(got))  # the knob's one failure is spent
