"""Structured answers: a JSON value that follows a request's JSON Schema, made from the emulated model's
draft for the same messages, as the three vendors' native mechanisms promise (OpenAI ``text.format``
``json_schema``, Anthropic structured outputs / forced tool use, Gemini ``responseSchema``).

A service's ``bad_json_count`` knob makes its next N structured answers break their promise (the JSON cut
short, or a required field missing): what a client must notice, repair or report.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .synthesis import compose_draft

_SENTENCE = re.compile(r"(?<=[.!?。])\s+")


class _Words:
    """Text to fill string fields with, taken in order from the draft's sentences."""

    def __init__(self, draft: str) -> None:
        lines = [ln.strip(" #*-") for ln in draft.splitlines() if ln.strip(" #*-")]
        self.parts = [s for ln in lines for s in _SENTENCE.split(ln) if s.strip()] or ["offline answer"]
        self.i = 0

    def next(self) -> str:
        part = self.parts[self.i % len(self.parts)]
        self.i += 1
        return part


def _number(path: str, lo: float, hi: float, integer: bool) -> float | int:
    h = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    value = lo + (hi - lo) * (0.55 + 0.4 * h)  # upper half of the range, deterministic per field
    return round(value) if integer else round(value, 1)


def _string(schema: dict[str, Any], name: str, words: _Words) -> str:
    text = words.next()
    if "slug" in name:
        text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "article"
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(text) > limit:
        text = text[:limit].rstrip()
    return text


def instance(schema: dict[str, Any], words: _Words, path: str = "$", name: str = "") -> Any:
    """A value of ``schema`` (the subset of JSON Schema the vendors' structured outputs accept)."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first non-null
        kind = next((k for k in kind if k != "null"), "null")
    kind = kind or ("object" if "properties" in schema else "string")
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        return {k: instance(v, words, f"{path}.{k}", k) for k, v in props.items()}
    if kind == "array":
        lo = int(schema.get("minItems", 0))
        hi = int(schema.get("maxItems", max(lo, 3)))
        n = max(lo, min(hi, 3))
        item = schema.get("items") or {"type": "string"}
        return [instance(item, words, f"{path}[{i}]", name) for i in range(n)]
    if kind in ("number", "integer"):
        low = float(schema.get("minimum", 0))
        high = float(schema.get("maximum", low + 10))
        return _number(path, low, high, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name, words)


def structured_answer(schema: dict[str, Any], messages: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The value a model following ``schema`` would answer ``messages`` with (deterministic)."""
    draft = compose_draft(messages, model=model, max_tokens=None, stop=None)
    value = instance(schema, _Words(draft))
    return value if isinstance(value, dict) else {"value": value}


def broken(value: dict[str, Any], schema: dict[str, Any], n: int) -> str:
    """A JSON text that breaks ``schema``: odd ``n`` cut short (not JSON), even ``n`` missing a required
    field (JSON, but not of the schema)."""
    text = json.dumps(value, ensure_ascii=False)
    required = list(schema.get("required") or value)
    if n % 2 == 1 or not required:
        return text[: max(1, len(text) // 2)]
    return json.dumps({k: v for k, v in value.items() if k != required[0]}, ensure_ascii=False)
