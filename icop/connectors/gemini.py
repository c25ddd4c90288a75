"""Gemini through its native API with ``google-genai``: system messages become the system instruction,
assistant turns the ``model`` role, a ``ChatRequest.schema`` a JSON-schema answer (``response_json_schema``
with ``application/json``); usage carries the tokens Gemini's implicit cache served
(``cachedContentTokenCount``); safety blocks and Google's error details are classified as ProviderErrors.

Implicit caching needs nothing from us: Gemini 2.5 models discount a repeated prompt prefix by themselves
(at least 2,048 tokens), so the writers' shared prefix (instructions, research notes, brand voice) is
cached when it comes first; a message part's ``"cache": True`` breakpoint is ignored here. Explicit
``cachedContents`` would cost a create call and storage by the hour for a prefix that three writer calls,
issued at once, share for seconds: not worth it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from .errors import ErrorKind, ProviderError, RetryPolicy, call_with_retries, kind_for_status
from .llm import ChatRequest, ChatResult, ChatStream, Message, record_chat
from .tokens import count_tokens, message_text
from .usage import Metering

# finish reasons that mean a filter stopped the answer, not the model
_BLOCKED_FINISH = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
     "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}
)  # fmt: skip
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}
_ROLES = {"assistant": "model"}
_DURATION = re.compile(r"^(\d+(?:\.\d*)?)s$")


def _details(exc: genai_errors.APIError) -> list[dict[str, Any]]:
    body = exc.details if isinstance(exc.details, dict) else {}
    error = body.get("error", body)
    found = error.get("details") if isinstance(error, dict) else None
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def _of_type(details: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [d for d in details if str(d.get("@type", "")).endswith(f"google.rpc.{name}")]


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """RetryInfo's ``retryDelay`` (a protobuf Duration, ``"29s"``, ``"1.500s"``): Gemini's 429 names its
    wait in the body, not in a Retry-After header."""
    for info in _of_type(details, "RetryInfo"):
        m = _DURATION.match(str(info.get("retryDelay", "")))
        if m:
            return float(m.group(1))
    return None


def _is_daily_quota(details: list[dict[str, Any]]) -> bool:
    """A 429 for a per-day quota (``quotaId`` ``…PerDay…``): used up until the day resets, unlike the
    per-minute limits a short wait clears."""
    return any(
        "PerDay" in str(v.get("quotaId", ""))
        for failure in _of_type(details, "QuotaFailure")
        for v in failure.get("violations") or []
        if isinstance(v, dict)
    )


def classify_gemini_error(provider: str, exc: BaseException) -> ProviderError | None:
    """Map a ``google-genai`` (or its httpx transport's) exception onto a ProviderError (None: neither)."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(provider, "timeout", "the request timed out; the provider may still have acted")
    if isinstance(exc, httpx.TransportError):
        return ProviderError(provider, "connection", str(exc) or type(exc).__name__)
    if not isinstance(exc, genai_errors.APIError):
        return None
    details = _details(exc)
    reasons = {str(d.get("reason", "")) for d in _of_type(details, "ErrorInfo")}
    status = int(exc.code)
    kind: ErrorKind
    if any(r.startswith("API_KEY_") for r in reasons):  # Gemini answers a bad key with 400, not 401
        kind = "auth"
    elif status == 429 and _is_daily_quota(details):
        kind = "quota_exhausted"
    else:
        kind = kind_for_status(status)
    return ProviderError(
        provider,
        kind,
        str(exc.message or exc),
        status=status,
        retry_after=_retry_delay(details) if status == 429 else None,
    )


def _parts(content: Any) -> list[types.Part]:
    if isinstance(content, str):
        return [types.Part(text=content)]
    if isinstance(content, list):
        return [types.Part(text=str(p.get("text", ""))) for p in content if isinstance(p, dict)]
    return []


def _contents(messages: list[Message]) -> tuple[str | None, list[types.Content]]:
    """System messages → the system instruction; user → ``user``, assistant → ``model``."""
    system = [message_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    contents = [
        types.Content(role=_ROLES.get(str(m.get("role")), "user"), parts=_parts(m.get("content")))
        for m in messages
        if m.get("role") not in ("system", "developer")
    ]
    return ("\n\n".join(system) if system else None), contents


def _blocked(provider: str, resp: types.GenerateContentResponse) -> ProviderError | None:
    """Gemini reports a refusal in a 200 answer: the prompt blocked (``promptFeedback.blockReason``, no
    candidates) or the answer stopped by a filter (``finishReason`` SAFETY and the like)."""
    feedback = resp.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        why = _flagged(feedback.safety_ratings)
        extra = f" ({feedback.block_reason_message})" if feedback.block_reason_message else ""
        return ProviderError(
            provider,
            "content_policy",
            f"Gemini blocked the prompt: {feedback.block_reason.value}{why}{extra}",
            status=200,
        )
    for cand in resp.candidates or []:
        reason = cand.finish_reason.value if cand.finish_reason is not None else ""
        if reason in _BLOCKED_FINISH:
            return ProviderError(
                provider,
                "content_policy",
                f"Gemini stopped the answer: finishReason {reason}{_flagged(cand.safety_ratings)}",
                status=200,
            )
    return None


def _flagged(ratings: list[types.SafetyRating] | None) -> str:
    cats = [r.category.value for r in ratings or [] if r.blocked and r.category is not None]
    return f" ({', '.join(cats)})" if cats else ""


def _first(resp: types.GenerateContentResponse) -> types.Candidate | None:
    return resp.candidates[0] if resp.candidates else None


def _text(resp: types.GenerateContentResponse) -> str:
    cand = _first(resp)
    if cand is None or cand.content is None:
        return ""
    return "".join(p.text for p in cand.content.parts or [] if p.text and not p.thought)


def _finish(resp: types.GenerateContentResponse) -> str | None:
    cand = _first(resp)
    if cand is None or cand.finish_reason is None:
        return None
    name = cand.finish_reason.value
    return _FINISH.get(name, name.lower())


class GeminiLLM:
    """Gemini behind ``google-genai`` (``client.aio``). The SDK's own retries are off (one attempt) and its
    transport is httpx: its aiohttp path silently retries a dropped connection once after 1-10 s. Ours
    (``call_with_retries``) classify every failure and wait the 429's RetryInfo."""

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
        self.client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=base_url,
                timeout=int(timeout * 1000),  # milliseconds
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_async_client=httpx.AsyncClient(timeout=timeout),
            ),
        )
        self.policy = policy or RetryPolicy()
        self.metering = metering or Metering()

    def _args(self, req: ChatRequest) -> dict[str, Any]:
        system, contents = _contents(req.messages)
        if not contents:
            raise ProviderError(self.name, "bad_request", "Gemini needs at least one user or model message")
        config = types.GenerateContentConfig(
            system_instruction=system,
            max_output_tokens=req.max_tokens,
            temperature=req.temperature,
            stop_sequences=req.stop or None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        if req.schema is not None:
            config.response_mime_type = "application/json"
            config.response_json_schema = req.schema.schema
        elif req.json_mode:
            config.response_mime_type = "application/json"
        return {"model": req.model or self.model, "contents": contents, "config": config}

    def _classify(self, exc: BaseException) -> ProviderError | None:
        return classify_gemini_error(self.name, exc)

    def _result(
        self,
        req: ChatRequest,
        text: str,
        model: str,
        usage: types.GenerateContentResponseUsageMetadata | None,
        finish: str,
    ) -> ChatResult:
        if usage is None or usage.prompt_token_count is None:  # no usage reported: our estimate
            prompt = sum(count_tokens(message_text(m.get("content"))) for m in req.messages)
            return ChatResult(text, self.name, model, prompt, count_tokens(text), finish)
        return ChatResult(
            text,
            self.name,
            model,
            usage.prompt_token_count,
            # thinking tokens are billed as output
            (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
            finish,
            cache_read_tokens=usage.cached_content_token_count or 0,
        )

    async def complete(self, req: ChatRequest) -> ChatResult:
        args = self._args(req)

        async def call() -> types.GenerateContentResponse:
            resp = await self.client.aio.models.generate_content(**args)
            refused = _blocked(self.name, resp)
            if refused is not None:
                raise refused
            return resp

        resp = await call_with_retries(self.policy, call, self._classify, provider=self.name)
        model = resp.model_version or args["model"]
        result = self._result(req, _text(resp), model, resp.usage_metadata, _finish(resp) or "stop")
        await record_chat(self.metering, self.name, req, result, req.operation)
        return result

    def stream(self, req: ChatRequest) -> ChatStream:
        async def gen() -> AsyncIterator[str]:
            args = self._args(req)

            async def open_stream() -> tuple[AsyncIterator[types.GenerateContentResponse], Any]:
                # retried only until the first chunk has come: the request may be sent lazily
                chunks = await self.client.aio.models.generate_content_stream(**args)
                first = await anext(chunks, None)
                if first is not None and (refused := _blocked(self.name, first)) is not None:
                    raise refused
                return chunks, first

            chunks, first = await call_with_retries(
                self.policy, open_stream, self._classify, provider=self.name
            )
            parts: list[str] = []
            usage, finish, model = None, "stop", args["model"]
            try:
                chunk = first
                while chunk is not None:
                    model = chunk.model_version or model
                    usage = chunk.usage_metadata or usage
                    refused = _blocked(self.name, chunk)
                    if refused is not None:
                        raise refused
                    finish = _finish(chunk) or finish
                    delta = _text(chunk)
                    if delta:
                        parts.append(delta)
                        yield delta
                    chunk = await anext(chunks, None)
            except ProviderError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failure mid-stream is classified, not retried
                err = self._classify(exc)
                if err is None:
                    raise
                raise err from exc
            holder.result = self._result(req, "".join(parts), model, usage, finish)
            await record_chat(self.metering, self.name, req, holder.result, f"{req.operation}_stream")

        holder = ChatStream(gen())  # the generator reads ``holder`` only once iterated
        return holder
