"""OpenAI: what GPT answers (``answer_text``, served by the Responses API in ``openai_responses``), the
model list, and ``/v1/images/generations`` in the ``dall-e-3`` shape. (Claude and Gemini speak their native
APIs: ``anthropic_api``, ``gemini_api``.)

Base URL (the real service's paths under one prefix):
  GPT     {root}/openai/v1                     (real: https://api.openai.com/v1)
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, bearer_key, now
from .faults import Knobs
from .reqlog import Entry
from .structured import broken, structured_answer
from .synthesis import OFFLINE_MARK, compose_draft, count_tokens, json_object, message_text, picture

PROVIDERS: dict[str, tuple[str, re.Pattern[str]]] = {
    # service: (path prefix, model names it serves)
    "gpt": ("/openai/v1", re.compile(r"^(gpt-|o\d|chatgpt-)")),
}
DALLE3_SIZES = ["1024x1024", "1024x1792", "1792x1024"]
DALLE2_SIZES = ["256x256", "512x512", "1024x1024"]


def model_not_found(service: str, model: str) -> EmulatorError:
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


def checked_schema(spec: Any, param: str) -> dict[str, Any]:
    """The schema of a json_schema answer format (``spec``: the Responses API's ``text.format``), checked as
    OpenAI checks it: a name, and in strict mode nothing strict decoding cannot enforce. ``param``: where
    ``spec`` sits in the request, for the error's wording."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not name:
        raise EmulatorError(
            400, f"Missing required parameter: '{param}.name'.", "missing_required_parameter", f"{param}.name"
        )
    if not isinstance(name, str) or not _SCHEMA_NAME.match(name):
        raise EmulatorError(
            400,
            f"Invalid '{param}.name': string does not match pattern. Expected a string "
            "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "invalid_value",
            f"{param}.name",
        )
    schema: dict[str, Any] = spec["schema"] if isinstance(spec.get("schema"), dict) else {}
    if spec.get("strict"):
        if schema.get("type") != "object":
            got = schema.get("type") or ("anyOf" if "anyOf" in schema else "None")
            wanted = "'type: \"object\"'"
            problem: str | None = f"schema must be a JSON Schema of {wanted}, got 'type: \"{got}\"'."
        else:
            problem = _strict_problem(schema)
        if problem:
            raise EmulatorError(
                400, f"Invalid schema for response_format '{name}': {problem}", None, f"{param}.schema"
            )
    return schema


def prompt_tokens_of(messages: list[Any]) -> int:
    """The prompt's tokens as the emulator counts them: each message's text and 4 framing tokens."""
    return sum(count_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict))


def answer_text(
    messages: list[Any],
    model: str,
    knobs: Knobs,
    *,
    schema: dict[str, Any] | None,
    json_mode: bool = False,
    max_tokens: int | None = None,
) -> tuple[str, bool]:
    """GPT's answer to ``messages`` and whether it was cut at ``max_tokens``: a value of ``schema`` when
    one is asked for (broken while the ``bad_json_count`` knob lasts), else a draft."""
    if schema is not None:  # structured outputs: a value of the schema, unless the knob breaks it
        value = structured_answer(schema, messages, model)
        if knobs.bad_json_count > 0:
            text = broken(value, schema, knobs.bad_json_count)
            knobs.bad_json_count -= 1
        else:
            text = json.dumps(value, ensure_ascii=False)
        return text, False
    text = compose_draft(messages, model=model, max_tokens=None)
    cut = False
    if max_tokens is not None and count_tokens(text) > int(max_tokens):
        text = compose_draft(messages, model=model, max_tokens=int(max_tokens))
        cut = True
    if json_mode:
        text = json_object(text)
    return text, cut


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
        app.router.add_get(f"{prefix}/models", ctx.guard(service, bearer_key, models_handler(service)))
    app.router.add_post("/openai/v1/images/generations", ctx.guard("images", bearer_key, images_handler(ctx)))
