"""The Gemini API (``generativelanguage`` v1beta, REST) as ``google-genai`` calls it, under ``{root}/gemini/``
(real: https://generativelanguage.googleapis.com/): ``genai.Client(api_key=…,
http_options=HttpOptions(base_url=f"{root}/gemini/"))`` works unchanged.

  POST models/{model}:generateContent
  POST models/{model}:streamGenerateContent?alt=sse      the same answer as server-sent events
  POST models/{model}:countTokens
  GET  models, models/{model}

The key comes in ``x-goog-api-key`` (or ``?key=``). Requests are checked as the API documents
(https://ai.google.dev/api/generate-content, GenerationConfig): ``contents`` required, roles ``user`` and
``model``, at most 5 stop sequences, temperature in [0, 2], a response schema only with ``responseMimeType``
``application/json`` and never both ``responseSchema`` and ``responseJsonSchema``; an unknown model is 404.

Safety, as Gemini reports it (HTTP 200, not an error): a prompt containing ``forbidden-content`` is blocked
(``promptFeedback.blockReason``, no candidates); one containing ``forbidden-answer`` gets a candidate that
the safety filter stops (``finishReason: SAFETY``; streamed, after some text).

Implicit caching (on by default for Gemini 2.5 and newer, https://ai.google.dev/gemini-api/docs/caching,
page updated 2026-10-13): a request whose prompt (system instruction, then the contents in order) repeats
the start of an earlier request's prompt, with the same key and model, reads that shared prefix from the
cache when it is at least the model's minimum (2.5 Flash and 2.5 Pro: 2,048 tokens), and reports it as
``usageMetadata.cachedContentTokenCount`` (part of ``promptTokenCount``). Google gives no lifetime for
implicit caches ("a few minutes"); here an entry lives ``IMPLICIT_CACHE_TTL_S`` after its last use.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError
from .reqlog import Entry
from .structured import broken, structured_answer
from .synthesis import compose_draft, count_tokens, json_object

PREFIX = "/gemini/v1beta"
BLOCK_MARK = "forbidden-content"
STOP_MARK = "forbidden-answer"
IMPLICIT_CACHE_TTL_S = 300.0
_CACHE_ENTRIES = 32  # recent prompts kept per key and model


@dataclass(frozen=True)
class Model:
    display: str
    output_limit: int
    implicit_cache_min: int | None  # None: no implicit caching (before Gemini 2.5)
    thinking: tuple[int, int] | None  # thinkingBudget range (besides -1, dynamic); None: no thinking
    input_limit: int = 1_048_576


MODELS = {
    "gemini-2.5-flash": Model("Gemini 2.5 Flash", 65_536, 2_048, (0, 24_576)),
    "gemini-2.5-pro": Model("Gemini 2.5 Pro", 65_536, 2_048, (128, 32_768)),  # cannot turn thinking off
    "gemini-2.0-flash": Model("Gemini 2.0 Flash", 8_192, None, None),
}
_TOP_FIELDS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig",
               "cachedContent", "model"}  # fmt: skip
_CONFIG_FIELDS = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
    "thinkingConfig", "imageConfig", "mediaResolution",
}  # fmt: skip
_THINKING_FIELDS = {"includeThoughts", "thinkingBudget", "thinkingLevel"}
_MIME_TYPES = ("text/plain", "application/json", "text/x.enum")
_CATEGORIES = ("HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_HARASSMENT",
               "HARM_CATEGORY_SEXUALLY_EXPLICIT")  # fmt: skip


def goog_key(request: web.Request) -> str | None:
    return request.headers.get("x-goog-api-key") or request.query.get("key") or None


def _camel(name: str) -> str:
    """Proto JSON accepts a field's lowerCamel and its snake_case name alike."""
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _fields(obj: dict[str, Any], known: set[str], where: str) -> dict[str, Any]:
    out = {}
    for k, v in obj.items():
        name = _camel(k)
        if name not in known:
            raise EmulatorError(
                400, f"Invalid JSON payload received. Unknown name \"{k}\" at '{where}': Cannot find field."
            )
        out[name] = v
    return out


def _invalid(field: str, message: str) -> EmulatorError:
    return EmulatorError(400, f"* GenerateContentRequest.{field}: {message}\n")


def _model(name: str) -> Model:
    found = MODELS.get(name)
    if found is None:
        raise EmulatorError(
            404,
            f"models/{name} is not found for API version v1beta, or is not supported for generateContent. "
            "Call ListModels to see the list of available models and their supported methods.",
        )
    return found


def _parts_text(content: Any, field: str) -> str:
    if not isinstance(content, dict):
        raise _invalid(field, "must be an object")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise _invalid(f"{field}.parts", "contents.parts must not be empty.")
    texts = []
    for j, part in enumerate(parts):
        if not isinstance(part, dict) or not any(
            k in part for k in ("text", "inlineData", "inline_data", "fileData", "file_data", "functionCall",
                                "function_call", "functionResponse", "function_response")
        ):  # fmt: skip
            raise _invalid(
                f"{field}.parts[{j}].data", "required oneof field 'data' must have one initialized field"
            )
        if isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    return "\n".join(texts)


@dataclass
class Prompt:
    """A checked request: the messages the emulated model reads, and its generation settings."""

    model: str
    system: str
    turns: list[tuple[str, str]]  # (role, text)
    config: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        return msgs + [{"role": "assistant" if r == "model" else "user", "content": t} for r, t in self.turns]

    @property
    def text(self) -> str:
        """The prompt in order, as implicit caching sees it (system instruction first)."""
        return "\n".join(([self.system] if self.system else []) + [t for _, t in self.turns])

    @property
    def schema(self) -> dict[str, Any] | None:
        schema = self.config.get("responseJsonSchema") or self.config.get("responseSchema")
        return _json_schema(schema) if isinstance(schema, dict) else None


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``responseSchema`` (OpenAPI's subset: ``"OBJECT"``, ``nullable``) as JSON Schema, for the answer."""
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k == "type" and isinstance(v, str):
            out[k] = v.lower()
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: _json_schema(s) if isinstance(s, dict) else s for name, s in v.items()}
        elif k == "items" and isinstance(v, dict):
            out[k] = _json_schema(v)
        else:
            out[k] = v
    return out


def parse_request(body: Any, model_name: str) -> Prompt:
    """The request's rules, as the API enforces them."""
    model = _model(model_name)
    if not isinstance(body, dict):
        raise EmulatorError(400, "Invalid JSON payload received. Expected an object.")
    body = _fields(body, _TOP_FIELDS, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _invalid("contents", "contents is not specified")
    turns = []
    for i, content in enumerate(contents):
        role = content.get("role") if isinstance(content, dict) else None
        if role not in (None, "", "user", "model"):
            raise EmulatorError(400, "Please use a valid role: user, model.")
        turns.append((role or "user", _parts_text(content, f"contents[{i}]")))
    system = ""
    if body.get("systemInstruction") is not None:
        system = _parts_text(body["systemInstruction"], "system_instruction")
    raw = body.get("generationConfig") or {}
    if not isinstance(raw, dict):
        raise _invalid("generation_config", "must be an object")
    config = _fields(raw, _CONFIG_FIELDS, "generation_config")
    _check_config(config, model, model_name)
    return Prompt(model_name, system, turns, config)


def _check_config(c: dict[str, Any], model: Model, name: str) -> None:
    stops = c.get("stopSequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _invalid("generation_config.stop_sequences", "must be a list of strings")
        if len(stops) > 5:
            raise _invalid("generation_config.stop_sequences", "at most 5 stop sequences are allowed")
    temperature = c.get("temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0.0 <= temperature <= 2.0):
        raise _invalid("generation_config.temperature", "temperature must be in the range [0.0, 2.0]")
    top_p = c.get("topP")
    if top_p is not None and not (isinstance(top_p, int | float) and 0.0 <= top_p <= 1.0):
        raise _invalid("generation_config.top_p", "top_p must be in the range [0.0, 1.0]")
    count = c.get("candidateCount")
    if count is not None and not (isinstance(count, int) and 1 <= count <= 8):
        raise _invalid("generation_config.candidate_count", "candidate_count must be in the range [1, 8]")
    limit = c.get("maxOutputTokens")
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= model.output_limit):
        raise EmulatorError(
            400,
            f"The specified max_output_tokens value ({limit}) is out of range: it must be between 1 "
            f"(inclusive) and {model.output_limit + 1} (exclusive).",
        )
    mime = c.get("responseMimeType")
    if mime is not None and mime not in _MIME_TYPES:
        raise EmulatorError(
            400,
            f"* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are "
            f"{', '.join(repr(m) for m in _MIME_TYPES)}, but got: {mime}\n",
        )
    has_schema, has_json_schema = c.get("responseSchema") is not None, c.get("responseJsonSchema") is not None
    if has_schema and has_json_schema:
        raise _invalid(
            "generation_config.response_json_schema", "response_schema and response_json_schema are exclusive"
        )
    for field, present in (("response_schema", has_schema), ("response_json_schema", has_json_schema)):
        if not present:
            continue
        if not isinstance(c.get("responseSchema") or c.get("responseJsonSchema"), dict):
            raise _invalid(f"generation_config.{field}", "must be a schema object")
        if mime != "application/json" and not (field == "response_schema" and mime == "text/x.enum"):
            raise _invalid(
                "generation_config.response_mime_type",
                f"{field} requires response_mime_type 'application/json', but got: {mime or 'text/plain'}",
            )
    thinking = c.get("thinkingConfig")
    if not isinstance(thinking, dict):
        return
    budget = _fields(thinking, _THINKING_FIELDS, "generation_config.thinking_config").get("thinkingBudget")
    if budget is not None:
        lo_hi = model.thinking
        if lo_hi is None:
            raise EmulatorError(400, f"Thinking is not supported for {name}.")
        if budget != -1 and not (isinstance(budget, int) and lo_hi[0] <= budget <= lo_hi[1]):
            if budget == 0:
                raise EmulatorError(400, "Budget 0 is invalid. This model only works in thinking mode.")
            raise EmulatorError(
                400, f"The thinking budget {budget} is invalid. Please choose a value between {lo_hi[0]} "
                f"and {lo_hi[1]}."
            )  # fmt: skip


@dataclass
class Answer:
    text: str
    finish: str  # STOP, MAX_TOKENS, SAFETY
    blocked: bool = False  # the prompt itself was blocked: no candidate


def answer(ctx: Context, p: Prompt) -> Answer:
    """What the emulated model answers ``p`` with."""
    if BLOCK_MARK in p.text.lower():
        return Answer("", "", blocked=True)
    c = p.config
    stops = c.get("stopSequences")
    schema = p.schema
    if c.get("responseMimeType") == "application/json" and schema is not None:
        value = structured_answer(schema, p.messages, p.model)
        knobs = ctx.faults["gemini"].knobs
        if knobs.bad_json_count > 0:  # the model breaks its promise: the client must notice
            n = knobs.bad_json_count
            knobs.bad_json_count -= 1
            return Answer(broken(value, schema, n), "STOP")
        return Answer(json.dumps(value, ensure_ascii=False), "STOP")
    text = compose_draft(p.messages, model=p.model, max_tokens=None, stop=stops)
    finish = "STOP"
    limit = c.get("maxOutputTokens")
    if limit is not None and count_tokens(text) > limit:
        text = compose_draft(p.messages, model=p.model, max_tokens=limit, stop=stops)
        finish = "MAX_TOKENS"
    if c.get("responseMimeType") == "application/json":
        text = json_object(text)
    if STOP_MARK in p.text.lower():
        return Answer(text[: len(text) // 3], "SAFETY")
    return Answer(text, finish)


def _implicit_cache(ctx: Context, key: str, p: Prompt, prompt_tokens: int) -> int:
    """Tokens of ``p`` read from the implicit cache of ``key`` and its model (see the module docstring)."""
    minimum = MODELS[p.model].implicit_cache_min
    if minimum is None or prompt_tokens < minimum:
        return 0
    caches: dict[tuple[str, str], deque[list[Any]]] = ctx.state.setdefault("gemini_implicit_cache", {})
    entries = caches.setdefault((key, p.model), deque(maxlen=_CACHE_ENTRIES))
    now, text = time.monotonic(), p.text
    for stale in [e for e in entries if now - e[1] > IMPLICIT_CACHE_TTL_S]:
        entries.remove(stale)
    best, hit = 0, None
    for entry in entries:
        shared = _common_prefix(entry[0], text)
        if shared < minimum:  # a token is at least one character
            continue
        tokens = count_tokens(text[:shared])
        if tokens >= minimum and tokens > best:
            best, hit = tokens, entry
    if hit is not None:
        hit[1] = now  # a hit keeps the entry warm
    if not any(e[0] == text for e in entries):
        entries.append([text, now])
    return min(best, prompt_tokens)


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (binary search over slice comparisons, done in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _usage(prompt_tokens: int, cached: int, candidates: int | None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "totalTokenCount": prompt_tokens + (candidates or 0),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if candidates is not None:
        usage["candidatesTokenCount"] = candidates
    if cached:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    return usage


def _ratings(blocked: bool) -> list[dict[str, Any]]:
    return [
        {"category": c, "probability": "HIGH", "blocked": True}
        if blocked and c == "HARM_CATEGORY_DANGEROUS_CONTENT"
        else {"category": c, "probability": "NEGLIGIBLE"}
        for c in _CATEGORIES
    ]


def _response_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[:22]


def _candidate(text: str | None, finish: str | None) -> dict[str, Any]:
    cand: dict[str, Any] = {"index": 0}
    if text is not None:
        cand["content"] = {"parts": [{"text": text}], "role": "model"}
    if finish:
        cand["finishReason"] = finish
        cand["safetyRatings"] = _ratings(finish == "SAFETY")
    return cand


def generate_handler(ctx: Context, stream: bool):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        p = parse_request(body, request.match_info["model"])
        key = goog_key(request) or ""
        ans = answer(ctx, p)
        prompt_tokens = count_tokens(p.text)
        cached = _implicit_cache(ctx, key, p, prompt_tokens) if not ans.blocked else 0
        out_tokens = count_tokens(ans.text)
        base = {"modelVersion": p.model, "responseId": _response_id()}
        headers = {"x-icop-offline": "true"}
        entry.meta.update(
            model=p.model, stream=stream, finish=ans.finish or "PROMPT_BLOCKED", cached_tokens=cached,
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens},
        )  # fmt: skip
        events: list[dict[str, Any]]
        if ans.blocked:
            blocked = {
                "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": _ratings(True)},
                "usageMetadata": _usage(prompt_tokens, 0, None),
                **base,
            }
            if not stream:
                return web.json_response(blocked, headers=headers)
            events = [blocked]
        elif not stream:
            text = None if ans.finish == "SAFETY" else ans.text  # a stopped answer comes without content
            return web.json_response(
                {"candidates": [_candidate(text, ans.finish)],
                 "usageMetadata": _usage(prompt_tokens, cached, out_tokens), **base},
                headers=headers,
            )  # fmt: skip
        else:
            pieces = re.findall(r"(?:\S+\s*){1,3}|\s+", ans.text) or [""]
            usage = _usage(prompt_tokens, cached, None)
            events = [
                {"candidates": [_candidate(piece, None)], "usageMetadata": usage, **base} for piece in pieces
            ]
            last = _candidate(None if ans.finish == "SAFETY" else "", ans.finish)
            events.append(
                {"candidates": [last], "usageMetadata": _usage(prompt_tokens, cached, out_tokens), **base}
            )
        if request.query.get("alt") != "sse":  # without alt=sse the API streams one JSON array
            return web.json_response(events, headers=headers)
        resp = web.StreamResponse(
            headers={**headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        delay = ctx.faults["gemini"].knobs.chunk_ms / 1000
        for i, event in enumerate(events):
            if delay and i:
                await asyncio.sleep(delay)
            await resp.write(f"data: {json.dumps(event, ensure_ascii=False)}\r\n\r\n".encode())
        await resp.write_eof()
        return resp

    return handle


def count_tokens_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        name = request.match_info["model"]
        _model(name)
        if not isinstance(body, dict):
            raise EmulatorError(400, "Invalid JSON payload received. Expected an object.")
        body = _fields(body, {"contents", "generateContentRequest"}, "")
        if ("contents" in body) == ("generateContentRequest" in body):
            raise EmulatorError(
                400,
                "* CountTokensRequest: exactly one of contents and generate_content_request must be set\n",
            )
        inner = body.get("generateContentRequest") or {"contents": body.get("contents")}
        if isinstance(inner, dict):
            inner = {k: v for k, v in inner.items() if _camel(k) != "model"}
        p = parse_request(inner, name)
        tokens = count_tokens(p.text)
        return web.json_response(
            {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]}
        )

    return handle


def _model_info(name: str, m: Model) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": f"models/{name}",
        "version": name.removeprefix("gemini-"),
        "displayName": m.display,
        "description": f"{m.display} (emulated)",
        "inputTokenLimit": m.input_limit,
        "outputTokenLimit": m.output_limit,
        "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent"],
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }
    if m.thinking is not None:
        info["thinking"] = True
    return info


def models_handler():
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        return web.json_response({"models": [_model_info(n, m) for n, m in MODELS.items()]})

    return handle


def model_handler():
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        name = request.match_info["model"]
        found = MODELS.get(name)
        if found is None:
            raise EmulatorError(404, f"models/{name} is not found for API version v1beta.")
        return web.json_response(_model_info(name, found))

    return handle


def add_routes(app: web.Application, ctx: Context) -> None:
    def guard(handler: Any) -> Any:
        return ctx.guard("gemini", goog_key, handler)

    model = f"{PREFIX}/models/{{model}}"
    app.router.add_post(f"{model}:generateContent", guard(generate_handler(ctx, False)))
    app.router.add_post(f"{model}:streamGenerateContent", guard(generate_handler(ctx, True)))
    app.router.add_post(f"{model}:countTokens", guard(count_tokens_handler(ctx)))
    app.router.add_get(f"{PREFIX}/models", guard(models_handler()))
    app.router.add_get(model, guard(model_handler()))
