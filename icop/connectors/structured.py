"""Structured answers: the JSON Schema a model is asked to follow, and the bounded repair loop around its
answer.

Each vendor's native mechanism (OpenAI ``text.format`` json_schema strict, Anthropic structured outputs,
Gemini ``responseJsonSchema``) takes only a subset of JSON Schema, and not the same one. ``strict_schema``
cuts a pydantic model's schema down to what all three accept: objects whose every property is required
and which allow no other property, arrays, strings, numbers, integers, booleans, enums and descriptions,
with ``$ref`` inlined. What that subset cannot say (a range, a length, a count) stays in the pydantic model
and is checked when the answer is validated; the field descriptions say it to the model in words.

A model may still break its promise (an answer cut short, a field missing, a title too long).
``ask_structured`` validates every answer and, when it is not valid, asks again with a repair turn: the
answer it gave and what was wrong with it, up to ``max_attempts`` answers in all. It never falls back
itself: it reports the answers it got and the problems, and the caller decides what stands in for a value
it could not get, and records that it did.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from .llm import Message, OutputSchema

T = TypeVar("T", bound=BaseModel)

_KEPT = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum", "description"})
# Limits some vendors refuse in strict mode (Anthropic: numeric and length limits; minItems above 1), and
# annotations that carry nothing for the model: left out of the schema, the pydantic model checks the limits.
_DROPPED = frozenset(
    {
        "title",
        "default",
        "examples",
        "$defs",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (as pydantic writes it) in the subset all three vendors accept in strict mode.

    Raises ValueError for a construct outside the subset (a union, an open dictionary, a tuple): such a
    model cannot be asked for natively by every vendor, so it is refused where it is written, not at a
    vendor's 400.
    """
    defs: dict[str, Any] = schema.get("$defs") or {}

    def walk(node: dict[str, Any], path: str) -> dict[str, Any]:
        while "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            if name not in defs:
                raise ValueError(f"{path}: unresolvable $ref {node['$ref']!r}")
            node = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED:
                continue
            if key == "const":  # a one-value Literal (a merge of one draft): the enum every vendor takes
                out["enum"] = [value]
                continue
            if key not in _KEPT:
                raise ValueError(f"{path}: {key!r} is outside the JSON Schema subset every vendor accepts")
            out[key] = value
        kind = out.get("type")
        if kind == "object" or "properties" in out:
            props: dict[str, Any] = out.get("properties") or {}
            if not props:
                raise ValueError(f"{path}: an object needs fixed properties (strict mode allows no others)")
            out["properties"] = {k: walk(v, f"{path}.{k}") for k, v in props.items()}
            out["required"] = list(props)
            out["additionalProperties"] = False
        elif kind == "array":
            items = out.get("items")
            if not isinstance(items, dict):
                raise ValueError(f"{path}: an array needs one item schema")
            out["items"] = walk(items, f"{path}[]")
        elif "enum" not in out and kind not in ("string", "number", "integer", "boolean"):
            raise ValueError(f"{path}: type {kind!r} is outside the JSON Schema subset every vendor accepts")
        return out

    root = walk(schema, "$")
    if root.get("type") != "object":
        raise ValueError("a structured answer is a JSON object at its root")
    return root


def output_schema(model: type[BaseModel]) -> OutputSchema:
    """The model as a request's ``OutputSchema``: its class name, its strict schema and its docstring's
    first paragraph (a fresh copy each time: vendors' SDKs edit schemas in place)."""
    doc = (model.__doc__ or "").strip().split("\n\n", 1)[0]
    return OutputSchema(model.__name__, copy.deepcopy(_schema_of(model)), " ".join(doc.split()))


_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    if model not in _SCHEMAS:
        _SCHEMAS[model] = strict_schema(model.model_json_schema())
    return _SCHEMAS[model]


def describe(err: ValidationError, limit: int = 8) -> str:
    """What was wrong with an answer, one line per problem, as the model is told in a repair turn."""
    lines = []
    for e in err.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in e["loc"]) or "the answer"
        lines.append(f"- {where}: {e['msg']}")
    more = err.error_count() - limit
    if more > 0:
        lines.append(f"- and {more} more")
    return "\n".join(lines)


def repair_turn(answer: str, problem: str) -> list[Message]:
    """The previous answer (as the assistant's turn) and what was wrong with it."""
    return [
        {"role": "assistant", "content": answer.strip() or "(an empty answer)"},
        {
            "role": "user",
            "content": "That answer does not follow the required JSON schema:\n"
            f"{problem}\n"
            "Answer again with the whole JSON object, corrected, and nothing else.",
        },
    ]


class Reply(Protocol):
    """What an ask returns: the answer's text, and whether a model made it at all."""

    @property
    def text(self) -> str: ...

    @property
    def offline(self) -> bool: ...


R = TypeVar("R", bound=Reply)

OFFLINE_PROBLEM = "made by the offline provider (no model key): there is no model to ask again"


@dataclass
class Structured(Generic[T, R]):
    """The outcome: the validated value (None: no valid answer), every reply (each was paid for) and the
    problem with each invalid one, in order."""

    value: T | None
    replies: list[R]
    problems: list[str] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return len(self.replies)

    @property
    def repaired(self) -> bool:
        """Valid, but only after at least one repair turn."""
        return self.value is not None and len(self.replies) > 1

    @property
    def offline(self) -> bool:
        """No model answered (the offline provider's placeholder): nothing could be repaired."""
        return bool(self.replies) and self.replies[-1].offline


async def ask_structured(
    ask: Callable[[list[Message]], Awaitable[R]],
    model: type[T],
    messages: list[Message],
    *,
    max_attempts: int,
) -> Structured[T, R]:
    """Ask (``ask`` sends the conversation with ``model``'s schema through the vendor's mechanism) until an
    answer validates, at most ``max_attempts`` times. A repair turn carries the latest answer and its
    problems after the original ``messages`` (earlier broken answers are not sent again)."""
    replies: list[R] = []
    problems: list[str] = []
    conversation = list(messages)
    for _ in range(max(1, max_attempts)):
        reply = await ask(conversation)
        replies.append(reply)
        if reply.offline:
            problems.append(OFFLINE_PROBLEM)
            break
        try:
            return Structured(model.model_validate_json(reply.text.strip()), replies, problems)
        except ValidationError as err:
            problems.append(describe(err))
        conversation = [*messages, *repair_turn(reply.text, problems[-1])]
    return Structured(None, replies, problems)
