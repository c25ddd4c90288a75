"""OpenAI chat completions (plain and SSE streaming) as GPT, and ``/v1/images/generations`` in the
``dall-e-3`` shape. (Claude and Gemini speak their native APIs: ``anthropic_api``, ``gemini_api``.)

Base URL (the real service's paths under one prefix):
  GPT     {root}/openai/v1                     (real: https://api.openai.com/v1)
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, bearer_key, now
from .faults import Knobs
from .prompt_cache import PrefixCache, openai_cached_tokens
from .reqlog import Entry
from .structured import broken, structured_answer
from .synthesis import OFFLINE_MARK, compose_draft, count_tokens, json_object, message_text, picture

PROVIDERS: dict[str, tuple[str, re.Pattern[str]]] = {
    # service: (path prefix, model names it serves)
    "gpt": ("/openai/v1", re.compile(r"^(gpt-|o\d|chatgpt-)")),
}
DALLE3_SIZES = ["1024x1024", "1024x1792", "1792x1024"]
DALLE2_SIZES = ["256x256", "512x512", "1024x1024"]


def _model_not_found(service: str, model: str) -> EmulatorError:
    return EmulatorError(
        404, f"The model `{model}` does not exist or you do not have access to it.", "model_not_found"
    )


_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Structured outputs in strict mode: the keywords OpenAI's guide lists as not supported.
_NOT_PERMITTED = ("allOf", "not", "dependentRequired", "dependentSchemas", "if", "then", "else")


def _strict_problem(node: Any, context: tuple[str, ...] = ()) -> str | None:
    """What OpenAI says of a schema that strict mode refuses (None: accepted). Every object must list
    every property in ``required`` and set ``additionalProperties`` to false."""
    if not isinstance(node, dict):
        return None
    for key in _NOT_PERMITTED:
        if key in node:
            return f"In context={context!r}, '{key}' is not permitted."
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return (
                f"In context={context!r}, 'additionalProperties' is required to be supplied and to be false."
            )
        props: dict[str, Any] = node.get("properties") or {}
        required: list[Any] = node["required"] if isinstance(node.get("required"), list) else []
        missing = [k for k in props if k not in required]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            if problem := _strict_problem(sub, (*context, "properties", key)):
                return problem
    if problem := _strict_problem(node.get("items"), (*context, "items")):
        return problem
    for i, sub in enumerate(node.get("anyOf") or []):
        if problem := _strict_problem(sub, (*context, "anyOf", str(i))):
            return problem
    for name, sub in (node.get("$defs") or {}).items():
        if problem := _strict_problem(sub, (*context, "$defs", name)):
            return problem
    return None


def _json_schema(service: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a ``response_format`` of type json_schema asks to follow, checked as OpenAI checks it
    (strict mode refuses what it cannot enforce); None for any other format."""
    fmt = body.get("response_format") or {}
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema")
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not name:
        raise EmulatorError(
            400,
            "Missing required parameter: 'response_format.json_schema.name'.",
            "missing_required_parameter",
            "response_format.json_schema.name",
        )
    if not isinstance(name, str) or not _SCHEMA_NAME.match(name):
        raise EmulatorError(
            400,
            "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string "
            "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "invalid_value",
            "response_format.json_schema.name",
        )
    schema: dict[str, Any] = spec["schema"] if isinstance(spec.get("schema"), dict) else {}
    if spec.get("strict") and service == "gpt":  # the other vendors' compatibility layers ignore strict
        if schema.get("type") != "object":
            got = schema.get("type") or ("anyOf" if "anyOf" in schema else "None")
            wanted = "'type: \"object\"'"
            problem: str | None = f"schema must be a JSON Schema of {wanted}, got 'type: \"{got}\"'."
        else:
            problem = _strict_problem(schema)
        if problem:
            raise EmulatorError(
                400, f"Invalid schema for response_format '{name}': {problem}", None, "response_format"
            )
    return schema


def _completion_text(service: str, body: dict[str, Any], model: str, knobs: Knobs) -> tuple[str, str, int]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise EmulatorError(400, "[] is too short - 'messages'", param="messages")
    schema = _json_schema(service, body)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    prompt_tokens = sum(
        count_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict)
    )
    if schema is not None:  # structured outputs: a value of the schema, unless the knob breaks it
        value = structured_answer(schema, messages, model)
        if knobs.bad_json_count > 0:
            text = broken(value, schema, knobs.bad_json_count)
            knobs.bad_json_count -= 1
        else:
            text = json.dumps(value, ensure_ascii=False)
        return text, "stop", prompt_tokens
    text = compose_draft(messages, model=model, max_tokens=None, stop=body.get("stop"))
    finish = "stop"
    if max_tokens is not None and count_tokens(text) > int(max_tokens):
        text = compose_draft(messages, model=model, max_tokens=int(max_tokens), stop=body.get("stop"))
        finish = "length"
    if (body.get("response_format") or {}).get("type") == "json_object":
        text = json_object(text)
    return text, finish, prompt_tokens


def chat_handler(ctx: Context, service: str):
    pattern = PROVIDERS[service][1]

    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        if not isinstance(body, dict):
            raise EmulatorError(400, "We could not parse the JSON body of your request.")
        model = str(body.get("model") or "")
        if not model:
            raise EmulatorError(400, "you must provide a model parameter", param="model")
        if not pattern.match(model):
            raise _model_not_found(service, model)
        text, finish, prompt_tokens = _completion_text(service, body, model, ctx.faults[service].knobs)
        completion_tokens = count_tokens(text)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if service == "gpt":  # OpenAI's automatic prompt caching (the compatibility layers report none)
            cache = ctx.state.setdefault("openai_prompt_cache", PrefixCache())
            cached = openai_cached_tokens(cache, bearer_key(request) or "", body, arrived=entry.started)
            usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
        entry.meta.update(model=model, stream=bool(body.get("stream")), usage=usage)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        headers = {"x-request-id": f"req_{uuid.uuid4().hex}", "x-icop-offline": "true"}
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": now(),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": finish,
                        }
                    ],
                    "usage": usage,
                    "system_fingerprint": "fp_icop_offline",
                },
                headers=headers,
            )
        resp = web.StreamResponse(
            headers={**headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        base = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": now(),
            "model": model,
            "system_fingerprint": "fp_icop_offline",
        }

        async def send(obj: dict[str, Any]) -> None:
            await resp.write(f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode())

        chunk_delay = ctx.faults[service].knobs.chunk_ms / 1000
        await send(
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
            }
        )
        for piece in re.findall(r"\S+\s*|\s+", text):
            if chunk_delay:
                await asyncio.sleep(chunk_delay)
            await send(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}
                    ],
                }
            )
        await send(
            {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}]}
        )
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**base, "choices": [], "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    return handle


def models_handler(service: str):
    names = {
        "gpt": ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "dall-e-3"],
    }[service]

    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": n, "object": "model", "created": 1700000000, "owned_by": service} for n in names
                ],
            }
        )

    return handle


def images_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        if not isinstance(body, dict) or not body.get("prompt"):
            raise EmulatorError(400, "Missing required parameter: 'prompt'.", param="prompt")
        model = body.get("model") or "dall-e-2"
        n = int(body.get("n") or 1)
        size = body.get("size") or "1024x1024"
        fmt = body.get("response_format") or "url"
        prompt = str(body["prompt"])
        if model not in ("dall-e-3", "dall-e-2"):
            raise EmulatorError(
                404, f"The model `{model}` does not exist or you do not have access to it.", "model_not_found"
            )
        sizes = DALLE3_SIZES if model == "dall-e-3" else DALLE2_SIZES
        if size not in sizes:
            raise EmulatorError(400, f"'{size}' is not one of {sizes} - 'size'", "invalid_value", "size")
        if model == "dall-e-3" and n != 1:
            raise EmulatorError(400, "You must provide n=1 for this model.", "invalid_value", "n")
        if fmt not in ("url", "b64_json"):
            raise EmulatorError(
                400,
                f"'{fmt}' is not one of ['url', 'b64_json'] - 'response_format'",
                "invalid_value",
                "response_format",
            )
        if "forbidden-content" in prompt.lower():
            raise EmulatorError(
                400,
                "Your request was rejected as a result of our safety system. Your prompt may "
                "contain text that is not allowed by our safety system.",
                "content_policy_violation",
            )
        if len(prompt) > 4000:
            raise EmulatorError(
                400, "'prompt' is too long. Maximum length is 4000 characters.", "invalid_value", "prompt"
            )
        w, h = (int(x) for x in size.split("x"))
        data = []
        for i in range(n):
            png = await asyncio.to_thread(picture, prompt, w, h, "PNG", i)
            item: dict[str, Any] = (
                {"revised_prompt": f"{OFFLINE_MARK} {prompt}"} if model == "dall-e-3" else {}
            )
            if fmt == "b64_json":
                item["b64_json"] = base64.b64encode(png).decode()
            else:
                name = ctx.files.put(png, "image/png", "png")
                item["url"] = f"{request.scheme}://{request.host}/files/{name}"
            data.append(item)
        entry.meta.update(model=model, images=n, size=size)
        return web.json_response({"created": now(), "data": data}, headers={"x-icop-offline": "true"})

    return handle


def add_routes(app: web.Application, ctx: Context) -> None:
    for service, (prefix, _) in PROVIDERS.items():
        app.router.add_post(
            f"{prefix}/chat/completions", ctx.guard(service, bearer_key, chat_handler(ctx, service))
        )
        app.router.add_get(f"{prefix}/models", ctx.guard(service, bearer_key, models_handler(service)))
    app.router.add_post("/openai/v1/images/generations", ctx.guard("images", bearer_key, images_handler(ctx)))
