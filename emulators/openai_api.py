"""OpenAI-compatible chat completions (plain and SSE streaming), served as GPT and Claude, and
``/v1/images/generations`` in the ``dall-e-3`` shape.

Base URLs (the real services' paths under one prefix each):
  GPT     {root}/openai/v1                     (real: https://api.openai.com/v1)
  Claude  {root}/anthropic/v1                  (real: https://api.anthropic.com/v1/)
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
from .reqlog import Entry
from .synthesis import OFFLINE_MARK, compose_draft, count_tokens, json_object, message_text, picture

PROVIDERS: dict[str, tuple[str, re.Pattern[str]]] = {
    # service: (path prefix, model names it serves)
    "gpt": ("/openai/v1", re.compile(r"^(gpt-|o\d|chatgpt-)")),
    "claude": ("/anthropic/v1", re.compile(r"^claude-")),
}
DALLE3_SIZES = ["1024x1024", "1024x1792", "1792x1024"]
DALLE2_SIZES = ["256x256", "512x512", "1024x1024"]


def _model_not_found(service: str, model: str) -> EmulatorError:
    if service == "gpt":
        return EmulatorError(
            404, f"The model `{model}` does not exist or you do not have access to it.", "model_not_found"
        )
    if service == "claude":
        return EmulatorError(404, f"model: {model}")
    return EmulatorError(
        404, f"models/{model} is not found for API version v1beta, or is not supported for generateContent."
    )


def _completion_text(body: dict[str, Any], model: str) -> tuple[str, str, int]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise EmulatorError(400, "[] is too short - 'messages'", param="messages")
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    text = compose_draft(messages, model=model, max_tokens=None, stop=body.get("stop"))
    finish = "stop"
    if max_tokens is not None and count_tokens(text) > int(max_tokens):
        text = compose_draft(messages, model=model, max_tokens=int(max_tokens), stop=body.get("stop"))
        finish = "length"
    fmt = (body.get("response_format") or {}).get("type")
    if fmt in ("json_object", "json_schema"):
        text = json_object(text)
    prompt_tokens = sum(
        count_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict)
    )
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
        text, finish, prompt_tokens = _completion_text(body, model)
        completion_tokens = count_tokens(text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
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
        "claude": ["claude-sonnet-4-5", "claude-haiku-4-5"],
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
