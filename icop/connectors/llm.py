"""LLM connectors: GPT through the ``openai`` SDK's Responses API, Claude with Anthropic's own SDK
(:mod:`.anthropic`), Gemini through its native API (:mod:`.gemini`), and the offline provider used when a
provider has no key (it answers with a labelled placeholder, see :mod:`.placeholder`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import openai

from icop.modelkeys.secret import ModelKey
from icop.settings import Settings

from .config import LlmName, llm_endpoint, retry_policy
from .errors import (
    ErrorKind,
    ProviderError,
    RetryPolicy,
    call_with_retries,
    kind_for_status,
    parse_retry_after,
)
from .placeholder import placeholder_text
from .tokens import count_tokens, message_text
from .usage import Metering, UsageEvent

Message = dict[str, Any]
"""``{"role": "system"|"user"|"assistant", "content": str | list[part]}``; a part is
``{"type": "text", "text": str}``, and ``"cache": True`` on a part marks the end of a prefix worth caching
(a cache breakpoint): the connector maps it onto its vendor's mechanism (Anthropic ``cache_control``; OpenAI
and Gemini cache repeated prefixes on their own) or ignores it."""


@dataclass(frozen=True)
class OutputSchema:
    """A structured answer: a JSON Schema (the subset all three vendors accept: object, array, string,
    number, integer, boolean, enum, required, additionalProperties false) and its name."""

    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class ChatRequest:
    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] | None = None
    json_mode: bool = False
    model: str | None = None  # None: the provider's configured model
    tenant_id: UUID | str | None = None  # who pays (usage_records)
    article_id: UUID | None = None
    operation: str = "chat"
    schema: OutputSchema | None = None
    """Ask for a JSON answer following this schema through the vendor's native mechanism; the result's
    ``text`` is then the JSON the model produced (the caller validates it: a model may still break it)."""


@dataclass(frozen=True)
class ChatResult:
    text: str
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    offline: bool = False
    cache_read_tokens: int = 0
    """Of ``prompt_tokens`` (all input tokens), those read from the vendor's prompt cache."""
    cache_write_tokens: int = 0
    """Of ``prompt_tokens``, those written to the vendor's prompt cache (Anthropic bills them apart)."""


@dataclass
class ChatStream:
    """Deltas as they arrive; ``result`` is set once the stream has ended."""

    _gen: AsyncIterator[str]
    result: ChatResult | None = field(default=None)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._gen


class LLM(Protocol):
    name: str
    model: str
    offline: bool

    async def complete(self, req: ChatRequest) -> ChatResult: ...

    def stream(self, req: ChatRequest) -> ChatStream: ...


async def record_chat(
    metering: Metering, provider: str, req: ChatRequest, result: ChatResult, operation: str
) -> None:
    """One chat call's usage (cache reads and writes included) to ``metering``, billed to the request's
    tenant: every connector records through here."""
    await metering.record(
        UsageEvent(
            "llm",
            provider,
            result.model,
            operation,
            result.prompt_tokens,
            result.completion_tokens,
            article_id=req.article_id,
            cache_read_tokens=result.cache_read_tokens,
            cache_write_tokens=result.cache_write_tokens,
        ),
        req.tenant_id,
    )


def classify_openai_error(provider: str, exc: BaseException) -> ProviderError | None:
    """Map an ``openai`` SDK exception onto a ProviderError (None: not an SDK error)."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(provider, "timeout", "the request timed out; the provider may still have acted")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(provider, "connection", str(exc))
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = getattr(exc, "code", None)
        kinds: dict[object, ErrorKind] = {
            "content_policy_violation": "content_policy",
            "insufficient_quota": "quota_exhausted",  # billing: no retry helps until credits are added
        }
        kind = kinds.get(code) or kind_for_status(status)
        return ProviderError(
            provider,
            kind,
            str(exc.message),
            status=status,
            retry_after=parse_retry_after(dict(exc.response.headers)),
        )
    return None


def _responses_content(content: Any) -> Any:
    """A message's content as the Responses API takes it: text parts joined into one string (as
    ``tokens.message_text`` joins them); otherwise each part in its Responses shape (``input_text``,
    ``input_image``), cache marks dropped (OpenAI caches repeated prompt prefixes on its own)."""
    if not isinstance(content, list):
        return content
    if all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return message_text(content)
    parts = []
    for p in content:
        p = {k: v for k, v in p.items() if k != "cache"}
        if p.get("type") == "text":
            p = {"type": "input_text", "text": p["text"]}
        elif p.get("type") == "image_url":
            url = p["image_url"]["url"] if isinstance(p.get("image_url"), dict) else p.get("image_url")
            p = {"type": "input_image", "image_url": url}
        parts.append(p)
    return parts


def responses_input(messages: list[Message]) -> tuple[str | None, list[Message]]:
    """``(instructions, input)`` for the Responses API: the leading system messages become the
    instructions (the system prompt, first in what the model reads), the rest the input's messages."""
    at = 0
    while at < len(messages) and messages[at].get("role") == "system":
        at += 1
    instructions = "\n\n".join(str(_responses_content(m.get("content"))) for m in messages[:at]) or None
    turns = [{"role": m["role"], "content": _responses_content(m.get("content"))} for m in messages[at:]]
    return instructions, turns


def cached_tokens(usage: Any) -> int:
    """Of a Responses usage block's input tokens, those read from the prompt cache
    (``input_tokens_details.cached_tokens``; absent: none)."""
    details = getattr(usage, "input_tokens_details", None)
    return int(getattr(details, "cached_tokens", None) or 0)


def _finish_reason(response: Any) -> str:
    """A Responses answer's end, in the interface's words: ``stop``, or why it is incomplete
    (``max_output_tokens`` → ``length``, ``content_filter``)."""
    if getattr(response, "status", None) != "incomplete":
        return "stop"
    reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
    return "length" if reason == "max_output_tokens" else str(reason or "incomplete")


class OpenAILLM:
    """GPT through OpenAI's Responses API (the ``openai`` SDK's recommended API for text), structured
    outputs as ``text.format`` json_schema in strict mode. The SDK's own retries are off: ours honour
    Retry-After and classify every failure. The Responses API has no stop sequences: a request with
    ``stop`` is refused here rather than answered without them."""

    offline = False

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        metering: Metering | None = None,
    ) -> None:
        self.name, self.model = name, model
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self.policy = policy or RetryPolicy()
        self.metering = metering or Metering()

    def _params(self, req: ChatRequest) -> dict[str, Any]:
        if req.stop:
            raise ValueError(
                "OpenAI's Responses API has no stop sequences: cut the answer where it should end"
            )
        instructions, turns = responses_input(req.messages)
        params: dict[str, Any] = {"model": req.model or self.model, "input": turns, "store": False}
        if instructions is not None:
            params["instructions"] = instructions
        if req.max_tokens is not None:
            params["max_output_tokens"] = req.max_tokens
        if req.temperature is not None:
            params["temperature"] = req.temperature
        if req.schema is not None:  # structured outputs: the answer is decoded under the schema
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "name": req.schema.name,
                "schema": req.schema.schema,
                "strict": True,
            }
            if req.schema.description:
                fmt["description"] = req.schema.description
            params["text"] = {"format": fmt}
        elif req.json_mode:
            params["text"] = {"format": {"type": "json_object"}}
        return params

    def _classify(self, exc: BaseException) -> ProviderError | None:
        return classify_openai_error(self.name, exc)

    def _result(self, req: ChatRequest, response: Any, text: str, model: str) -> ChatResult:
        usage = getattr(response, "usage", None)
        return ChatResult(
            text,
            self.name,
            getattr(response, "model", None) or model,
            usage.input_tokens
            if usage
            else sum(count_tokens(message_text(m.get("content"))) for m in req.messages),
            usage.output_tokens if usage else count_tokens(text),
            _finish_reason(response),
            cache_read_tokens=cached_tokens(usage),
        )

    async def complete(self, req: ChatRequest) -> ChatResult:
        params = self._params(req)

        async def call() -> Any:
            return await self.client.responses.create(**params)

        resp = await call_with_retries(self.policy, call, self._classify, provider=self.name)
        result = self._result(req, resp, resp.output_text or "", params["model"])
        await record_chat(self.metering, self.name, req, result, req.operation)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        params = {**self._params(req), "stream": True}

        async def gen() -> AsyncIterator[str]:
            async def open_stream() -> Any:  # retried only until the stream has opened
                return await self.client.responses.create(**params)

            stream = await call_with_retries(self.policy, open_stream, self._classify, provider=self.name)
            parts: list[str] = []
            final: Any = None
            try:
                async for event in stream:
                    if event.type == "response.output_text.delta" and event.delta:
                        parts.append(event.delta)
                        yield event.delta
                    elif event.type in ("response.completed", "response.incomplete"):
                        final = event.response
                    elif event.type in ("response.failed", "error"):
                        failure = getattr(getattr(event, "response", None), "error", None) or event
                        raise ProviderError(
                            self.name, "server_error", str(getattr(failure, "message", None) or event.type)
                        )
            except Exception as exc:  # noqa: BLE001 - a failure mid-stream is classified, not retried
                err = self._classify(exc)
                if err is None:
                    raise
                raise err from exc
            holder.result = self._result(req, final, "".join(parts), params["model"])
            await record_chat(self.metering, self.name, req, holder.result, f"{req.operation}_stream")

        holder = ChatStream(gen())  # the generator reads ``holder`` only once iterated
        return holder


class OfflineLLM:
    """The offline text provider: a labelled placeholder for each request (no model, no network)."""

    offline = True

    def __init__(self, name: str, model: str, metering: Metering | None = None) -> None:
        self.name, self.model = name, f"offline-{model}"
        self.metering = metering or Metering()

    async def complete(self, req: ChatRequest) -> ChatResult:
        text = placeholder_text(req.messages, max_tokens=req.max_tokens, stop=req.stop)
        prompt_tokens = sum(count_tokens(message_text(m.get("content"))) for m in req.messages)
        result = ChatResult(
            text, self.name, self.model, prompt_tokens, count_tokens(text), "stop", offline=True
        )
        await record_chat(self.metering, f"offline:{self.name}", req, result, req.operation)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        async def gen() -> AsyncIterator[str]:
            result = await self.complete(req)
            for i in range(0, len(result.text), 16):
                yield result.text[i : i + 16]
            holder.result = result

        holder = ChatStream(gen())  # the generator reads ``holder`` only once iterated
        return holder


def make_llm(
    settings: Settings, name: LlmName, metering: Metering | None = None, *, api_key: ModelKey | None = None
) -> LLM:
    """The provider's SDK client when a key is configured, else its offline provider. ``api_key``: a
    tenant's own key instead of the platform's (never the offline provider: a tenant key is always used)."""
    ep = llm_endpoint(settings, name)
    key = api_key.reveal() if api_key is not None else ep.api_key
    if not key:
        return OfflineLLM(name, ep.model, metering)
    connector: Callable[..., LLM] = OpenAILLM
    if name == "claude":
        from .anthropic import AnthropicLLM  # it builds on this module's types

        connector = AnthropicLLM
    elif name == "gemini":
        from .gemini import GeminiLLM  # likewise

        connector = GeminiLLM
    return connector(
        name,
        ep.base_url,
        key,
        ep.model,
        timeout=settings.provider_timeout_s,
        policy=retry_policy(settings),
        metering=metering,
    )
