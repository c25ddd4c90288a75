"""GPT through OpenAI's Responses API (``POST {root}/openai/v1/responses``), the API the ``openai`` SDK
recommends for text generation (its README: "The primary API for interacting with OpenAI models is the
Responses API"). Chat Completions is not served: nothing of ours calls it.

Requests are checked as the API reference documents (platform.openai.com/docs/api-reference/responses,
read 2026-12-04): a model; ``input`` a string or a non-empty list of messages (role ``user``,
``assistant``, ``system`` or ``developer``; content a string or parts: ``input_text`` in the prompt's
messages, ``output_text`` / ``refusal`` in the assistant's); ``instructions`` a string (the system message
before the input); ``max_output_tokens`` from 16; ``temperature`` in [0, 2]; ``text.format`` ``text``,
``json_object`` or ``json_schema`` (a strict schema checked as OpenAI checks it:
``openai_api.checked_schema``); no parameter the API does not know (``stop`` included: the Responses API
has no stop sequences). Nothing is stored, so a ``previous_response_id`` is never found.

Answers: drafts and structured values (``openai_api.answer_text``) as one ``message`` output item; an
answer cut at ``max_output_tokens`` is ``status: "incomplete"`` with ``incomplete_details.reason``. Usage:
``input_tokens`` (``input_tokens_details.cached_tokens``: OpenAI's automatic prompt caching,
``prompt_cache``), ``output_tokens``, ``total_tokens``. ``stream: true`` sends the API's typed server-sent
events, ``response.created`` to ``response.completed`` (or ``response.incomplete``).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, bearer_key, now
from .openai_api import PROVIDERS, answer_text, checked_schema, model_not_found, prompt_tokens_of
from .prompt_cache import PrefixCache, openai_cached_tokens
from .reqlog import Entry
from .synthesis import count_tokens

KNOWN = frozenset(
    "model input instructions max_output_tokens temperature top_p text stream stream_options store metadata "
    "previous_response_id include tools tool_choice parallel_tool_calls reasoning truncation user "
    "safety_identifier prompt_cache_key prompt_cache_retention service_tier background max_tool_calls "
    "top_logprobs prompt conversation".split()
)
_PART_TYPES = {"input": ("input_text",), "output": ("output_text", "refusal")}
MIN_OUTPUT_TOKENS = 16


def _invalid(param: str, message: str, code: str = "invalid_value") -> EmulatorError:
    return EmulatorError(400, f"Invalid '{param}': {message}", code, param)


def _part_text(part: Any, param: str, role: str) -> str:
    allowed = _PART_TYPES["output" if role == "assistant" else "input"]
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in allowed:
        supported = " and ".join(f"'{t}'" for t in allowed)
        raise _invalid(f"{param}.type", f"Invalid value: '{kind}'. Supported values are: {supported}.")
    text = part.get("refusal") if kind == "refusal" else part.get("text")
    if not isinstance(text, str):
        raise EmulatorError(400, f"Missing required parameter: '{param}.text'.", "missing_required_parameter")
    return text


def _message(item: Any, at: int) -> dict[str, str]:
    """One ``input`` item as a chat message (role, text)."""
    param = f"input[{at}]"
    if not isinstance(item, dict):
        raise _invalid(param, "expected an object, but got a string instead.", "invalid_type")
    if item.get("type", "message") != "message":
        raise _invalid(
            f"{param}.type", f"Invalid value: '{item.get('type')}'. Supported values are: 'message'."
        )
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise _invalid(
            f"{param}.role",
            f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', and 'user'.",
        )
    content = item.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "\n".join(_part_text(p, f"{param}.content[{i}]", str(role)) for i, p in enumerate(content))
    else:
        got = "null" if content is None else type(content).__name__
        raise _invalid(
            f"{param}.content",
            f"expected one of an array of objects or string, but got {got} instead.",
            "invalid_type",
        )
    return {"role": "system" if role == "developer" else str(role), "content": text}


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    """The prompt as chat messages: ``instructions`` first (as the model sees them), then ``input``."""
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _invalid("instructions", "expected a string.", "invalid_type")
    head = [{"role": "system", "content": instructions}] if instructions else []
    raw = body.get("input")
    if raw is None:
        raise EmulatorError(
            400, "Missing required parameter: 'input'.", "missing_required_parameter", "input"
        )
    if isinstance(raw, str):
        return [*head, {"role": "user", "content": raw}]
    if not isinstance(raw, list):
        raise _invalid("input", "expected one of a string or array of objects.", "invalid_type")
    if not raw:
        raise _invalid(
            "input",
            "empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "empty_array",
        )
    return [*head, *(_message(item, i) for i, item in enumerate(raw))]


def _format(body: dict[str, Any]) -> dict[str, Any]:
    text = body.get("text") or {}
    fmt = text.get("format") if isinstance(text, dict) else None
    fmt = fmt or {"type": "text"}
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        kind = fmt.get("type") if isinstance(fmt, dict) else fmt
        raise _invalid(
            "text.format.type",
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
        )
    return fmt


def _check_numbers(body: dict[str, Any]) -> int | None:
    cap = body.get("max_output_tokens")
    if cap is not None:
        if not isinstance(cap, int) or isinstance(cap, bool):
            raise _invalid("max_output_tokens", "expected an integer.", "invalid_type")
        if cap < MIN_OUTPUT_TOKENS:
            raise _invalid(
                "max_output_tokens",
                f"integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, but got {cap} "
                "instead.",
                "integer_below_min_value",
            )
    temperature = body.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, int | float) or isinstance(temperature, bool):
            raise _invalid("temperature", "expected a decimal.", "invalid_type")
        if temperature < 0:
            raise _invalid(
                "temperature",
                f"decimal below minimum value. Expected a value >= 0, but got {temperature} instead.",
                "decimal_below_min_value",
            )
        if temperature > 2:
            raise _invalid(
                "temperature",
                f"decimal above maximum value. Expected a value <= 2, but got {temperature} instead.",
                "decimal_above_max_value",
            )
    return cap


def _output(text: str, status: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def _response(
    rid: str,
    body: dict[str, Any],
    model: str,
    fmt: dict[str, Any],
    status: str,
    output: list[Any],
    usage: Any,
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": now(),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": body.get("metadata") or {},
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": bool(body.get("store", True)),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
    }


def responses_handler(ctx: Context, service: str):
    pattern = PROVIDERS[service][1]

    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        if not isinstance(body, dict):
            raise EmulatorError(400, "We could not parse the JSON body of your request.")
        for key in body:
            if key not in KNOWN:
                raise EmulatorError(400, f"Unknown parameter: '{key}'.", "unknown_parameter", key)
        model = str(body.get("model") or "")
        if not model:
            raise EmulatorError(
                400, "Missing required parameter: 'model'.", "missing_required_parameter", "model"
            )
        messages = _messages(body)
        fmt = _format(body)
        cap = _check_numbers(body)
        if body.get("previous_response_id"):
            rid = body["previous_response_id"]
            raise EmulatorError(
                400, f"Previous response with id '{rid}' not found.", "previous_response_not_found",
                "previous_response_id",
            )  # fmt: skip
        if not pattern.match(model):
            raise model_not_found(service, model)
        schema = checked_schema(fmt, "text.format") if fmt["type"] == "json_schema" else None
        knobs = ctx.faults[service].knobs
        text, cut = answer_text(
            messages, model, knobs, schema=schema, json_mode=fmt["type"] == "json_object", max_tokens=cap
        )
        input_tokens, output_tokens = prompt_tokens_of(messages), count_tokens(text)
        cache = ctx.state.setdefault("openai_prompt_cache", PrefixCache())
        preamble = [model, body.get("tools"), body.get("tool_choice"), fmt]
        cached = openai_cached_tokens(
            cache, bearer_key(request) or "", preamble, messages, arrived=entry.started
        )
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        }
        entry.meta.update(model=model, stream=bool(body.get("stream")), usage=usage)
        status = "incomplete" if cut else "completed"
        rid = f"resp_{uuid.uuid4().hex}"
        headers = {"x-request-id": f"req_{uuid.uuid4().hex}", "x-icop-offline": "true"}
        whole = _response(rid, body, model, fmt, status, [_output(text, status)], usage)
        if not body.get("stream"):
            return web.json_response(whole, headers=headers)
        fail = knobs.stream_fail_count > 0
        if fail:
            knobs.stream_fail_count -= 1
        entry.meta.update(stream_failed=fail)
        return await _stream(request, headers, whole, text, knobs.chunk_ms / 1000, fail=fail)

    return handle


async def _stream(
    request: web.Request,
    headers: dict[str, str],
    whole: dict[str, Any],
    text: str,
    delay_s: float,
    *,
    fail: bool = False,
) -> web.StreamResponse:
    """``whole`` as the Responses API streams it: typed events, each with its sequence number. ``fail``:
    the stream ends halfway in a ``response.failed`` event, as when the model fails mid-answer."""
    resp = web.StreamResponse(
        headers={**headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    seq = 0

    async def send(kind: str, **fields: Any) -> None:
        nonlocal seq
        event = {"type": kind, "sequence_number": seq, **fields}
        seq += 1
        await resp.write(f"event: {kind}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode())

    started = {**whole, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    await send("response.created", response=started)
    await send("response.in_progress", response=started)
    [item] = whole["output"]
    where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
    await send(
        "response.output_item.added", output_index=0, item={**item, "status": "in_progress", "content": []}
    )
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    await send("response.content_part.added", **where, part=empty)
    pieces = re.findall(r"\S+\s*|\s+", text)
    for at, piece in enumerate(pieces):
        if fail and at == len(pieces) // 2:
            error = {"code": "server_error", "message": "The model failed to generate a response."}
            failed = {**started, "status": "failed", "error": error}
            await send("response.failed", response=failed)
            await resp.write_eof()
            return resp
        if delay_s:
            await asyncio.sleep(delay_s)
        await send("response.output_text.delta", **where, delta=piece, logprobs=[])
    await send("response.output_text.done", **where, text=text, logprobs=[])
    await send("response.content_part.done", **where, part=item["content"][0])
    await send("response.output_item.done", output_index=0, item=item)
    await send(
        "response.completed" if whole["status"] == "completed" else "response.incomplete", response=whole
    )
    await resp.write_eof()
    return resp


def add_routes(app: web.Application, ctx: Context) -> None:
    for service, (prefix, _) in PROVIDERS.items():
        app.router.add_post(
            f"{prefix}/responses", ctx.guard(service, bearer_key, responses_handler(ctx, service))
        )
