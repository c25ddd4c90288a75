"""Claude through Anthropic's own Messages API and its ``anthropic`` SDK.

What the native API gives that the OpenAI-compatible layer does not: the system prompt as the top-level
``system`` (not concatenated), prompt caching (a message part marked ``"cache": True`` ends a cached prefix:
``cache_control`` on that block), schema-true structured outputs (``output_format``, the
``structured-outputs-2025-11-13`` beta of SDK 0.73), and Anthropic's own errors (529 overloaded,
``retry-after``, the ``anthropic-ratelimit-*`` headers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

from .errors import ProviderError, RetryPolicy, call_with_retries, kind_for_status, parse_retry_after
from .llm import ChatRequest, ChatResult, ChatStream, Message, OutputSchema, record_chat
from .tokens import count_tokens
from .usage import Metering

STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-11-13"
DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires ``max_tokens``; a request that names none gets this (a long draft fits)."""
JSON_INSTRUCTION = "Answer with one JSON object and nothing else."
"""``json_mode`` has no Anthropic parameter: it is asked for in words (``schema`` is the native way)."""
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
           "refusal": "content_filter", "pause_turn": "stop"}  # fmt: skip
# JSON Schema keywords Anthropic's structured outputs refuse: moved into the description, as the SDK's own
# transform_schema does, so that the model still reads them (the caller validates the answer anyway).
_UNSUPPORTED = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
                "maxLength", "maxItems")  # fmt: skip


def classify_anthropic_error(provider: str, exc: BaseException) -> ProviderError | None:
    """Map an ``anthropic`` SDK exception onto a ProviderError (None: not an SDK error)."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError(provider, "timeout", "the request timed out; the provider may still have acted")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError(provider, "connection", str(exc))
    if isinstance(exc, anthropic.APIStatusError):
        raw = exc.body.get("error") if isinstance(exc.body, dict) else None
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        message = str(error.get("message") or exc.message)
        kind = kind_for_status(exc.status_code)
        if error.get("type") == "overloaded_error":
            kind = "unavailable"
        elif exc.status_code == 400 and "credit balance is too low" in message:
            kind = "quota_exhausted"  # prepaid credits used up: no retry helps until someone pays
        return ProviderError(
            provider,
            kind,
            message,
            status=exc.status_code,
            retry_after=parse_retry_after(dict(exc.response.headers)),
        )
    return None


def _blocks(content: Any) -> str | list[dict[str, Any]]:
    """A message's content in Anthropic's shape; a part marked ``"cache": True`` gets ``cache_control``."""
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        if isinstance(part, str):
            blocks.append({"type": "text", "text": part})
            continue
        block = {k: v for k, v in part.items() if k != "cache"}
        if part.get("cache"):
            block["cache_control"] = {"type": "ephemeral"}
        blocks.append(block)
    return blocks


def to_anthropic(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, turns): system messages become the top-level ``system``; the rest keep their role."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for m in messages:
        content = _blocks(m.get("content"))
        if m.get("role") in ("system", "developer"):
            system += [{"type": "text", "text": content}] if isinstance(content, str) else content
        else:
            turns.append({"role": m["role"], "content": content})
    return [b for b in system if b.get("type") != "text" or b.get("text")], turns


def anthropic_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as Anthropic's structured outputs accept it: every object closed
    (``additionalProperties: false``), the keywords it refuses moved into the description."""
    out: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _UNSUPPORTED or (key == "minItems" and value not in (0, 1)):
            moved[key] = value
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: anthropic_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = anthropic_schema(value)
        elif key in ("anyOf", "allOf") and isinstance(value, list):
            out[key] = [anthropic_schema(sub) for sub in value]
        else:
            out[key] = value
    kind = schema.get("type")
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema:
        out["additionalProperties"] = False
    if moved:
        hint = "{" + ", ".join(f"{k}: {v}" for k, v in moved.items()) + "}"
        out["description"] = f"{out['description']}\n\n{hint}" if out.get("description") else hint
    return out


class AnthropicLLM:
    """Claude behind the ``anthropic`` SDK. The SDK's own retries are off: ours honour ``retry-after`` and
    classify every failure."""

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
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self.policy = policy or RetryPolicy()
        self.metering = metering or Metering()

    def _params(self, req: ChatRequest) -> dict[str, Any]:
        system, turns = to_anthropic(req.messages)
        if req.json_mode and req.schema is None:
            system.append({"type": "text", "text": JSON_INSTRUCTION})
        params: dict[str, Any] = {
            "model": req.model or self.model,
            "max_tokens": req.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": turns,
        }
        if system:
            params["system"] = system
        if req.temperature is not None:
            params["temperature"] = min(req.temperature, 1.0)  # Anthropic's range is 0-1, OpenAI's 0-2
        if req.stop:
            params["stop_sequences"] = req.stop
        if req.schema is not None:
            params |= _structured(req.schema)
        return params

    def _create(self, params: dict[str, Any]) -> Any:
        """The SDK call: the beta endpoint when the request uses a beta (structured outputs)."""
        if "betas" in params:
            return self.client.beta.messages.create(**params)
        return self.client.messages.create(**params)

    def _classify(self, exc: BaseException) -> ProviderError | None:
        return classify_anthropic_error(self.name, exc)

    def _result(self, text: str, model: str, stop_reason: str | None, usage: Any) -> ChatResult:
        read = int(getattr(usage, "cache_read_input_tokens", None) or 0)
        write = int(getattr(usage, "cache_creation_input_tokens", None) or 0)
        uncached = int(getattr(usage, "input_tokens", None) or 0)
        output = getattr(usage, "output_tokens", None)
        return ChatResult(
            text,
            self.name,
            model,
            uncached + write + read,  # every input token: Anthropic reports the three apart
            int(output) if output is not None else count_tokens(text),
            _FINISH.get(stop_reason or "end_turn", stop_reason or "stop"),
            cache_read_tokens=read,
            cache_write_tokens=write,
        )

    async def complete(self, req: ChatRequest) -> ChatResult:
        params = self._params(req)

        async def call() -> Any:
            return await self._create(params)

        resp = await call_with_retries(self.policy, call, self._classify, provider=self.name)
        text = "".join(b.text for b in resp.content if getattr(b, "type", None) == "text")
        result = self._result(text, resp.model or params["model"], resp.stop_reason, resp.usage)
        await record_chat(self.metering, self.name, req, result, req.operation)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        params = {**self._params(req), "stream": True}

        async def gen() -> AsyncIterator[str]:
            async def open_stream() -> Any:  # retried only until the stream has opened
                return await self._create(params)

            stream = await call_with_retries(self.policy, open_stream, self._classify, provider=self.name)
            parts: list[str] = []
            model, stop_reason = params["model"], None
            usage: dict[str, Any] = {}
            try:
                async for event in stream:
                    if event.type == "message_start":
                        model = event.message.model or model
                        usage = event.message.usage.model_dump()
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        parts.append(event.delta.text)
                        yield event.delta.text
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason
                        # cumulative counts: the final ones replace what message_start announced
                        usage |= {k: v for k, v in event.usage.model_dump().items() if v is not None}
            except Exception as exc:  # noqa: BLE001 - a failure mid-stream is classified, not retried
                err = self._classify(exc)
                if err is None:
                    raise
                raise err from exc
            holder.result = self._result("".join(parts), model, stop_reason, _Usage(usage))
            await record_chat(self.metering, self.name, req, holder.result, f"{req.operation}_stream")

        holder = ChatStream(gen())  # the generator reads ``holder`` only once iterated
        return holder


class _Usage:
    """Usage counts gathered from stream events, read like the SDK's ``Usage``."""

    def __init__(self, counts: dict[str, Any]) -> None:
        self.input_tokens = counts.get("input_tokens")
        self.output_tokens = counts.get("output_tokens")
        self.cache_read_input_tokens = counts.get("cache_read_input_tokens")
        self.cache_creation_input_tokens = counts.get("cache_creation_input_tokens")


def _structured(schema: OutputSchema) -> dict[str, Any]:
    """The native structured output: ``output_format`` under its beta (SDK 0.73 has no GA parameter)."""
    return {
        "betas": [STRUCTURED_OUTPUTS_BETA],
        "output_format": {"type": "json_schema", "schema": anthropic_schema(schema.schema)},
    }
