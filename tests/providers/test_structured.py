"""Structured answers through OpenAI's native mechanism (the Responses API's ``text.format``), the ``openai``
SDK against the emulator: the strict
schema the connector sends, the emulator refusing what strict mode refuses (with OpenAI's own messages),
and the bounded repair loop: a broken answer repaired, or reported after the last attempt, every attempt
metered."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from emulators.client import EmulatorAdmin
from icop.connectors.errors import ProviderError
from icop.connectors.llm import (
    ChatRequest,
    ChatResult,
    Message,
    OfflineLLM,
    OpenAILLM,
    OutputSchema,
    make_llm,
)
from icop.connectors.structured import OFFLINE_PROBLEM, ask_structured, output_schema, strict_schema
from icop.connectors.usage import Metering, UsageEvent
from icop.settings import Settings

PROMPT: list[Message] = [{"role": "user", "content": "Review this. Topic: rooftop beekeeping in cities"}]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    weight: float = Field(ge=0, le=10, description="0 to 10")


class Review(BaseModel):
    """A review of one article."""

    model_config = ConfigDict(extra="forbid")
    headline: str = Field(max_length=120, description="At most 120 characters")
    parts: list[Part] = Field(min_length=1, max_length=5)
    verdict: bool


class Tight(BaseModel):
    """A limit no answer of the emulator meets: the schema cannot say it, validation checks it."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(max_length=3, description="At most 3 characters")


class Sink:
    """Collects the usage events a connector reports."""

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []

    async def record(self, tenant_id: uuid.UUID | str, event: UsageEvent) -> None:
        self.events.append(event)


def asker(llm: Any, model: type[BaseModel]) -> Any:
    async def ask(messages: list[Message]) -> ChatResult:
        result: ChatResult = await llm.complete(ChatRequest(messages=messages, schema=output_schema(model)))
        return result

    return ask


def test_the_schema_is_the_subset_every_vendor_accepts() -> None:
    s = output_schema(Review)
    assert (s.name, s.description) == ("Review", "A review of one article.")
    assert (
        s.schema["required"] == ["headline", "parts", "verdict"] and s.schema["additionalProperties"] is False
    )
    item = s.schema["properties"]["parts"]["items"]  # $ref inlined, strict all the way down
    assert item["required"] == ["name", "weight"] and item["additionalProperties"] is False
    text = json.dumps(s.schema)
    for limit in ("maximum", "minimum", "maxLength", "minItems", "maxItems", "$ref", "$defs", '"title"'):
        assert limit not in text, limit
    assert s.schema["properties"]["headline"]["description"] == "At most 120 characters"  # said in words

    class Open(BaseModel):
        counts: dict[str, int]

    class Union(BaseModel):
        value: int | str

    for model in (Open, Union):
        with pytest.raises(ValueError, match="outside the JSON Schema subset|fixed properties"):
            strict_schema(model.model_json_schema())


async def test_the_schema_is_sent_natively_and_the_answer_follows_it(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, "gpt")
    assert isinstance(llm, OpenAILLM)
    result = await llm.complete(ChatRequest(messages=PROMPT, schema=output_schema(Review)))
    review = Review.model_validate_json(result.text)
    assert review.parts and all(0 <= p.weight <= 10 for p in review.parts)
    [entry] = admin.requests("gpt")
    assert entry["path"] == "/openai/v1/responses"
    fmt = entry["body"]["text"]["format"]  # the Responses API's structured outputs
    assert fmt == {
        "type": "json_schema",
        "name": "Review",
        "schema": output_schema(Review).schema,
        "strict": True,
        "description": "A review of one article.",
    }


def _without(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    """A copy of ``schema`` with the key at ``path`` removed."""
    out = json.loads(json.dumps(schema))
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


REFUSED = [
    (
        ("additionalProperties",),
        "In context=(), 'additionalProperties' is required to be supplied and to be false.",
    ),
    (
        ("properties", "parts", "items", "additionalProperties"),
        "In context=('properties', 'parts', 'items'), 'additionalProperties' is required to be supplied and "
        "to be false.",
    ),
    (
        ("required",),
        "In context=(), 'required' is required to be supplied and to be an array including every key in "
        "properties. Missing 'headline'.",
    ),
]


@pytest.mark.parametrize(("path", "message"), REFUSED, ids=["root-open", "nested-open", "not-required"])
async def test_strict_mode_refuses_what_openai_refuses(
    path: tuple[str, ...], message: str, emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    schema = _without(output_schema(Review).schema, *path)
    llm = make_llm(emu_settings, "gpt")
    with pytest.raises(ProviderError) as info:
        await llm.complete(ChatRequest(messages=PROMPT, schema=OutputSchema("Review", schema)))
    err = info.value
    assert (err.status, err.kind, err.retryable) == (400, "bad_request", False)
    assert f"Invalid schema for response_format 'Review': {message}" in err.message
    assert len(admin.requests("gpt")) == 1  # a refused schema is not retried


async def test_a_broken_answer_is_repaired(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    admin.knobs("gpt", bad_json_count=1)
    sink = Sink()
    llm = make_llm(emu_settings, "gpt", Metering(sink, uuid.uuid4()))
    got = await ask_structured(asker(llm, Review), Review, PROMPT, max_attempts=3)
    assert got.value is not None and got.repaired and got.attempts == 2
    assert len(got.problems) == 1 and "Invalid JSON" in got.problems[0]
    first, second = admin.requests("gpt")
    assert second["body"]["input"][:1] == PROMPT
    repair = second["body"]["input"][1:]
    assert repair[0] == {"role": "assistant", "content": got.replies[0].text.strip()}
    assert (
        "does not follow the required JSON schema" in repair[1]["content"]
        and got.problems[0] in repair[1]["content"]
    )
    assert [e.operation for e in sink.events] == ["chat", "chat"]  # both attempts metered
    assert sink.events[0].completion_tokens == got.replies[0].completion_tokens > 0


async def test_an_answer_broken_every_time_is_reported_not_hidden(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    admin.knobs("gpt", bad_json_count=3)
    sink = Sink()
    llm = make_llm(emu_settings, "gpt", Metering(sink, uuid.uuid4()))
    got = await ask_structured(asker(llm, Review), Review, PROMPT, max_attempts=3)
    assert got.value is None and got.attempts == 3 and not got.offline
    assert "Invalid JSON" in got.problems[0]  # cut short
    assert "headline: Field required" in got.problems[1]  # a required field left out
    assert len(sink.events) == 3 and len(admin.requests("gpt")) == 3
    # the knob is used up: the next answer keeps the promise
    assert (await ask_structured(asker(llm, Review), Review, PROMPT, max_attempts=1)).value is not None


async def test_a_limit_the_schema_cannot_carry_is_checked_on_the_answer(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    llm = make_llm(emu_settings, "gpt")
    got = await ask_structured(asker(llm, Tight), Tight, PROMPT, max_attempts=2)
    assert got.value is None and got.attempts == 2
    assert all("label: String should have at most 3 characters" in p for p in got.problems)


async def test_the_offline_provider_is_not_asked_again(tmp_path: Path) -> None:
    llm = OfflineLLM("gpt", "gpt-4o")
    got = await ask_structured(asker(llm, Review), Review, PROMPT, max_attempts=3)
    assert got.value is None and got.offline and got.attempts == 1 and got.problems == [OFFLINE_PROBLEM]
