"""LLM connectors: GPT with the ``openai`` SDK, Claude with Anthropic's own SDK (:mod:`.anthropic`),
Gemini through its native API (:mod:`.gemini`), and the offline provider used when a provider has no key
(it answers with a labelled placeholder, see :mod:`.placeholder`)."""

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


def openai_messages(messages: list[Message]) -> list[Message]:
    """The messages as OpenAI-shaped chat APIs take them: a message made only of text parts becomes one
    string (its parts joined as ``tokens.message_text`` joins them); cache marks are dropped, as these APIs
    cache repeated prompt prefixes on their own and refuse unknown fields."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            if all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                content = message_text(content)
            else:
                content = [{k: v for k, v in p.items() if k != "cache"} for p in content]
            m = {**m, "content": content}
        out.append(m)
    return out


def cached_tokens(usage: Any) -> int:
    """Of an OpenAI usage block's prompt tokens, those read from the prompt cache
    (``prompt_tokens_details.cached_tokens``; absent: none)."""
    details = getattr(usage, "prompt_tokens_details", None)
    return int(getattr(details, "cached_tokens", None) or 0)


class OpenAICompatibleLLM:
    """One provider behind the ``openai`` SDK. The SDK's own retries are off: ours honour Retry-After
    and classify every failure."""

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
        params: dict[str, Any] = {"model": req.model or self.model, "messages": openai_messages(req.messages)}
        if req.max_tokens is not None:
            params["max_tokens"] = req.max_tokens
        if req.temperature is not None:
            params["temperature"] = req.temperature
        if req.stop:
            params["stop"] = req.stop
        if req.schema is not None:  # OpenAI's structured outputs: the answer is decoded under the schema
            json_schema: dict[str, Any] = {
                "name": req.schema.name,
                "schema": req.schema.schema,
                "strict": True,
            }
            if req.schema.description:
                json_schema["description"] = req.schema.description
            params["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        elif req.json_mode:
            params["response_format"] = {"type": "json_object"}
        return params

    def _classify(self, exc: BaseException) -> ProviderError | None:
        return classify_openai_error(self.name, exc)

    async def complete(self, req: ChatRequest) -> ChatResult:
        params = self._params(req)

        async def call() -> Any:
            return await self.client.chat.completions.create(**params)

        resp = await call_with_retries(self.policy, call, self._classify, provider=self.name)
        choice = resp.choices[0]
        usage = resp.usage
        text = choice.message.content or ""
        result = ChatResult(
            text,
            self.name,
            resp.model or params["model"],
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else count_tokens(text),
            choice.finish_reason or "stop",
            cache_read_tokens=cached_tokens(usage),
        )
        await record_chat(self.metering, self.name, req, result, req.operation)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        params = {**self._params(req), "stream": True, "stream_options": {"include_usage": True}}

        async def gen() -> AsyncIterator[str]:
            async def open_stream() -> Any:  # retried only until the stream has opened
                return await self.client.chat.completions.create(**params)

            stream = await call_with_retries(self.policy, open_stream, self._classify, provider=self.name)
            parts: list[str] = []
            usage, finish, model = None, "stop", params["model"]
            try:
                async for chunk in stream:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for choice in chunk.choices:
                        if choice.delta and choice.delta.content:
                            parts.append(choice.delta.content)
                            yield choice.delta.content
                        if choice.finish_reason:
                            finish = choice.finish_reason
            except Exception as exc:  # noqa: BLE001 - a failure mid-stream is classified, not retried
                err = self._classify(exc)
                if err is None:
                    raise
                raise err from exc
            text = "".join(parts)
            holder.result = ChatResult(
                text,
                self.name,
                model,
                usage.prompt_tokens
                if usage
                else sum(count_tokens(message_text(m.get("content"))) for m in req.messages),
                usage.completion_tokens if usage else count_tokens(text),
                finish,
                cache_read_tokens=cached_tokens(usage),
            )
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
    connector: Callable[..., LLM] = OpenAICompatibleLLM
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
