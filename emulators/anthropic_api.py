"""Claude through the Anthropic Messages API, natively. The SDK's base URL is ``{root}/anthropic`` (real:
``https://api.anthropic.com``):

  POST /anthropic/v1/messages               a message, as JSON or as server-sent events (``stream: true``)
  POST /anthropic/v1/messages/count_tokens  ``{"input_tokens": n}``
  GET  /anthropic/v1/models[/{model_id}]

Requests are checked as Anthropic documents them: the ``x-api-key`` (a key the emulator knows) and
``anthropic-version`` headers; a known model (else 404 ``not_found_error``); ``max_tokens`` a positive
integer within the model's output limit; ``messages`` not empty, roles ``user`` and ``assistant`` only (the
system prompt is the top-level ``system``: a string or text blocks); content a string or blocks, text never
empty; ``cache_control`` on at most 4 blocks, ``ttl`` 5m or 1h (1h breakpoints before 5m ones); tools with
a name and an ``input_schema``; ``tool_choice`` auto, any, tool or none; stop sequences with more than
whitespace; unknown fields refused. Errors: ``{"type": "error", "error": {"type", "message"},
"request_id"}`` with Anthropic's status codes (``emulators.core``).

Answers: drafts from :func:`synthesis.compose_draft`. A JSON schema (structured outputs: ``output_format``
with the ``structured-outputs-2025-11-13`` beta, as SDK 0.73 sends it, or the GA ``output_config.format``)
is answered with :func:`structured.structured_answer` as a text block; forced tool use (``tool_choice``
``tool``, or ``any``) with a ``tool_use`` block of the tool's ``input_schema``. The ``bad_json_count`` knob
breaks the next N of them (:func:`structured.broken`; a tool input stays an object, missing a required
field).

Prompt caching as Anthropic documents it: the prefix is tools, then system, then messages, up to and
including a block with ``cache_control``; it is cached only from the model's minimum cacheable length on
(shorter: nothing cached, no error); a later request reads it on an exact prefix match, for the same key
(the organisation) and model, looking back up to 20 blocks before each breakpoint; an entry lives 5 minutes
(``ttl: "1h"``: an hour), renewed by each hit. Usage: ``input_tokens`` (after the last cached or written
position), ``cache_creation_input_tokens`` (split by TTL in ``cache_creation``), ``cache_read_input_tokens``,
``output_tokens``. Every answer carries ``request-id`` and the ``anthropic-ratelimit-*`` headers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, anthropic_request_id, rfc3339
from .reqlog import Entry
from .structured import broken, structured_answer
from .synthesis import compose_draft, count_tokens, message_text, truncate_tokens

PREFIX = "/anthropic/v1"
VERSIONS = ("2023-06-01", "2023-01-01")
STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-11-13"
MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20  # a breakpoint also finds a cached prefix this many blocks before it
TTL_S = {"5m": 300.0, "1h": 3600.0}
MEDIA_TOKENS = 1500  # an image or document block (the emulator does not decode media)
# Nominal per-minute limits reported in the anthropic-ratelimit-* headers (a tier-4 organisation); the
# rate_limit knob sets the requests limit that is enforced.
REQUESTS_PER_MINUTE = 4000
INPUT_TOKENS_PER_MINUTE = 2_000_000
OUTPUT_TOKENS_PER_MINUTE = 400_000


@dataclass(frozen=True)
class Model:
    id: str
    alias: str
    display_name: str
    released: str
    max_output: int
    min_cache: int
    """The minimum cacheable prompt length in tokens (Anthropic's prompt-caching page)."""


MODELS = (
    Model("claude-opus-4-5-20251101", "claude-opus-4-5", "Claude Opus 4.5", "2025-11-24", 64000, 4096),
    Model("claude-haiku-4-5-20251001", "claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15", 64000, 4096),
    Model("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29", 64000, 1024),
    Model("claude-opus-4-1-20250805", "claude-opus-4-1", "Claude Opus 4.1", "2025-08-05", 32000, 1024),
    Model("claude-sonnet-4-20250514", "claude-sonnet-4-0", "Claude Sonnet 4", "2025-05-22", 64000, 1024),
    Model("claude-opus-4-20250514", "claude-opus-4-0", "Claude Opus 4", "2025-05-22", 32000, 1024),
)
_MODEL = {m.id: m for m in MODELS} | {m.alias: m for m in MODELS}

_CREATE_FIELDS = frozenset(
    {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
     "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers",
     "context_management", "output_config"}
)  # fmt: skip
_COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers", "context_management",
     "output_config"}
)  # fmt: skip
_BLOCK_TYPES = frozenset(
    {"text", "image", "document", "search_result", "tool_use", "tool_result", "thinking", "redacted_thinking",
     "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "container_upload"}
)  # fmt: skip
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_REFUSED_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
                     "maxLength", "maxItems")  # fmt: skip
_HINT = re.compile(r"\{([^{}]*)\}\s*$")
_SYSTEM_ROLE = (
    'Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an '
    "input message role."
)
_EMPTY_CONTENT = "all messages must have non-empty content except for the optional final assistant message"


def _bad(message: str) -> EmulatorError:
    return EmulatorError(400, message)


@dataclass(frozen=True)
class Block:
    """One step of the cacheable prefix: a tool, a system block or a message's content block."""

    path: str
    canonical: str  # what must match exactly for a cache hit
    tokens: int
    ttl: str | None  # its cache_control's TTL; None: not a breakpoint


@dataclass
class Request:
    """A checked Messages API request."""

    name: str  # the model as asked for (an alias or an id)
    model: Model
    max_tokens: int | None
    stream: bool
    stop: list[str]
    blocks: list[Block]
    draft_messages: list[dict[str, Any]]  # system and turns as plain text, for the synthesis
    forced_tool: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None

    @property
    def input_tokens(self) -> int:
        return sum(b.tokens for b in self.blocks)


def _canonical(block: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True, ensure_ascii=False
    )


class _Breakpoints:
    """Counts ``cache_control`` markers across the request and checks each one."""

    def __init__(self) -> None:
        self.count = 0
        self.seen_5m = False

    def check(self, path: str, block: dict[str, Any]) -> str | None:
        cc = block.get("cache_control")
        if cc is None:
            return None
        if not isinstance(cc, dict) or cc.get("type") != "ephemeral":
            raise _bad(f"{path}.cache_control.type: Input should be 'ephemeral'")
        ttl = cc.get("ttl", "5m")
        if ttl not in TTL_S:
            raise _bad(f"{path}.cache_control.ttl: Input should be '5m' or '1h'")
        if set(cc) - {"type", "ttl"}:
            extra = sorted(set(cc) - {"type", "ttl"})[0]
            raise _bad(f"{path}.cache_control.{extra}: Extra inputs are not permitted")
        if block.get("type") in ("thinking", "redacted_thinking"):
            raise _bad(f"{path}.cache_control: Extra inputs are not permitted")
        if block.get("type") == "text" and not block.get("text"):
            raise _bad(f"{path}: cache_control cannot be set for empty text blocks")
        if ttl == "1h" and self.seen_5m:
            raise _bad(
                "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block "
                "(order: tools, system, messages)"
            )
        self.seen_5m = self.seen_5m or ttl == "5m"
        self.count += 1
        return str(ttl)


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_tokens(str(block.get("text", "")))
    if kind in ("image", "document"):
        return MEDIA_TOKENS
    if kind == "tool_use":
        return count_tokens(str(block.get("name", ""))) + count_tokens(json.dumps(block.get("input", {})))
    if kind == "tool_result":
        return count_tokens(message_text(block.get("content")))
    if kind == "thinking":
        return count_tokens(str(block.get("thinking", "")))
    return count_tokens(_canonical(block))


def _content_block(path: str, block: Any, marks: _Breakpoints) -> Block:
    if not isinstance(block, dict):
        raise _bad(f"{path}: Input should be a valid dictionary or object to extract fields from")
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        tags = ", ".join(f"'{t}'" for t in sorted(_BLOCK_TYPES))
        raise _bad(
            f"{path}: Input tag '{kind}' found using 'type' does not match any of the expected tags: {tags}"
        )
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise _bad(f"{path}.text: Field required")
        if not block["text"]:
            marks.check(path, block)  # names the cache_control problem first, as the API does
            raise _bad("messages: text content blocks must be non-empty")
    if kind == "tool_use" and not (isinstance(block.get("id"), str) and isinstance(block.get("input"), dict)):
        raise _bad(f"{path}: tool_use blocks need an `id`, a `name` and an `input` object")
    if kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        raise _bad(f"{path}.tool_use_id: Field required")
    return Block(path, _canonical(block), _block_tokens(block), marks.check(path, block))


def _system(value: Any, marks: _Breakpoints) -> tuple[list[Block], str]:
    if value is None:
        return [], ""
    if isinstance(value, str):
        return (
            [Block("system", _canonical({"type": "text", "text": value}), count_tokens(value), None)],
            value,
        )
    if not isinstance(value, list):
        raise _bad("system: Input should be a valid string or a valid list")
    blocks, texts = [], []
    for i, b in enumerate(value):
        path = f"system.{i}"
        if not isinstance(b, dict) or b.get("type") != "text":
            raise _bad(f"{path}.type: Input should be 'text'")
        if not isinstance(b.get("text"), str):
            raise _bad(f"{path}.text: Field required")
        if not b["text"]:
            marks.check(path, b)
            raise _bad("system: text content blocks must be non-empty")
        blocks.append(Block(path, _canonical(b), count_tokens(b["text"]), marks.check(path, b)))
        texts.append(b["text"])
    return blocks, "\n".join(texts)


def _messages(value: Any, marks: _Breakpoints) -> tuple[list[Block], list[dict[str, Any]]]:
    if value is None:
        raise _bad("messages: Field required")
    if not isinstance(value, list):
        raise _bad("messages: Input should be a valid list")
    if not value:
        raise _bad("messages: at least one message is required")
    blocks: list[Block] = []
    turns: list[dict[str, Any]] = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise _bad(f"messages.{i}: Input should be a valid dictionary or object to extract fields from")
        role = m.get("role")
        if role == "system":
            raise _bad(_SYSTEM_ROLE)
        if role not in ("user", "assistant"):
            raise _bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        extra = sorted(set(m) - {"role", "content"})
        if extra:
            raise _bad(f"messages.{i}.{extra[0]}: Extra inputs are not permitted")
        if "content" not in m:
            raise _bad(f"messages.{i}.content: Field required")
        content = m["content"]
        final_assistant = i == len(value) - 1 and role == "assistant"
        if isinstance(content, str):
            if not content and not final_assistant:
                raise _bad(f"messages.{i}: {_EMPTY_CONTENT}")
            if content:
                text = {"type": "text", "text": content}
                blocks.append(Block(f"messages.{i}.content", _canonical(text), count_tokens(content), None))
        elif isinstance(content, list):
            if not content and not final_assistant:
                raise _bad(f"messages.{i}: {_EMPTY_CONTENT}")
            blocks += [_content_block(f"messages.{i}.content.{j}", b, marks) for j, b in enumerate(content)]
        else:
            raise _bad(f"messages.{i}.content: Input should be a valid string or a valid list")
        turns.append({"role": role, "content": message_text(content)})
    return blocks, turns


def _tools(value: Any, marks: _Breakpoints) -> tuple[list[Block], dict[str, dict[str, Any]]]:
    if value is None:
        return [], {}
    if not isinstance(value, list):
        raise _bad("tools: Input should be a valid list")
    blocks, custom = [], {}
    names: set[str] = set()
    for i, t in enumerate(value):
        path = f"tools.{i}"
        if not isinstance(t, dict):
            raise _bad(f"{path}: Input should be a valid dictionary or object to extract fields from")
        name = t.get("name")
        if not isinstance(name, str):
            raise _bad(f"{path}.name: Field required")
        if t.get("type", "custom") == "custom":  # a client tool; typed ones are Anthropic's server tools
            if not _TOOL_NAME.match(name):
                raise _bad(f"{path}.name: String should match pattern '{_TOOL_NAME.pattern}'")
            schema = t.get("input_schema")
            if schema is None:
                raise _bad(f"{path}.input_schema: Field required")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise _bad(f"{path}.input_schema.type: Input should be 'object'")
            custom[name] = t
        if name in names:
            raise _bad("tools: Tool names must be unique.")
        names.add(name)
        blocks.append(Block(path, _canonical(t), count_tokens(_canonical(t)), marks.check(path, t)))
    return blocks, custom


def _tool_choice(value: Any, tools: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The tool the answer must call, if ``tool_choice`` forces one."""
    if value is None:
        return None
    kinds = ("auto", "any", "tool", "none")
    if not isinstance(value, dict) or value.get("type") not in kinds:
        kind = value.get("type") if isinstance(value, dict) else value
        raise _bad(
            f"tool_choice: Input tag '{kind}' found using 'type' does not match any of the expected tags: "
            "'auto', 'any', 'tool', 'none'"
        )
    if value["type"] == "none":
        return None
    if not tools:
        raise _bad("tool_choice may only be specified while providing tools.")
    if value["type"] == "tool":
        name = value.get("name")
        if not isinstance(name, str):
            raise _bad("tool_choice.tool.name: Field required")
        if name not in tools:
            raise _bad(f"tool_choice.tool.name: Tool '{name}' not found in the provided tools")
        return tools[name]
    if value["type"] == "any":
        return next(iter(tools.values()))
    return None


def _check_schema(path: str, schema: Any) -> None:
    """What structured outputs accept: every object closed, no numeric, length or item-count bounds."""
    if not isinstance(schema, dict):
        raise _bad(f"{path}: Input should be a valid dictionary")
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema
    if is_object and schema.get("additionalProperties") is not False:
        raise _bad(f"{path}: For 'object' type, 'additionalProperties' must be explicitly set to false")
    for key in _REFUSED_KEYWORDS:
        if key in schema:
            raise _bad(f"{path}: '{key}' is not supported by structured outputs")
    if schema.get("minItems", 0) not in (0, 1):
        raise _bad(f"{path}: 'minItems' values other than 0 or 1 are not supported by structured outputs")
    for name, sub in (schema.get("properties") or {}).items():
        _check_schema(f"{path}.properties.{name}", sub)
    if isinstance(schema.get("items"), dict):
        _check_schema(f"{path}.items", schema["items"])
    for key in ("anyOf", "allOf"):
        for i, sub in enumerate(schema.get(key) or []):
            _check_schema(f"{path}.{key}.{i}", sub)


def _json_schema(path: str, fmt: Any) -> dict[str, Any]:
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise _bad(f"{path}.type: Input should be 'json_schema'")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise _bad(f"{path}.schema: Field required")
    _check_schema(f"{path}.schema", schema)
    return schema


def _hinted(schema: dict[str, Any]) -> dict[str, Any]:
    """The bounds a schema's descriptions state (``{minimum: 1, maximum: 10}``, where the SDK moves the
    keywords structured outputs refuse) taken as constraints: the emulated model follows them, as a model
    reading the description would."""
    out = dict(schema)
    hint = _HINT.search(str(schema.get("description", "")))
    for part in hint.group(1).split(",") if hint else []:
        key, _, raw = part.partition(":")
        try:
            number = float(raw)
        except ValueError:
            continue
        out.setdefault(key.strip(), int(number) if number.is_integer() else number)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _hinted(v) for k, v in out["properties"].items() if isinstance(v, dict)}
    if isinstance(out.get("items"), dict):
        out["items"] = _hinted(out["items"])
    return out


def parse(request: web.Request, body: Any, *, count_only: bool = False) -> Request:
    """Check a request as the Messages API (or its token counter) does; raises EmulatorError."""
    if not isinstance(body, dict):
        raise _bad("We could not parse the JSON body of your request.")
    betas = {b.strip() for b in request.headers.get("anthropic-beta", "").split(",") if b.strip()}
    allowed = _COUNT_FIELDS if count_only else _CREATE_FIELDS
    if STRUCTURED_OUTPUTS_BETA in betas:
        allowed = allowed | {"output_format"}
    extra = sorted(set(body) - allowed)
    if extra:
        raise _bad(f"{extra[0]}: Extra inputs are not permitted")
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise _bad("model: Field required")
    model = _MODEL.get(name)
    if model is None:
        raise EmulatorError(404, f"model: {name}")
    max_tokens = body.get("max_tokens")
    if not count_only:
        if max_tokens is None:
            raise _bad("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            raise _bad("max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise _bad("max_tokens: Input should be greater than or equal to 1")
        if max_tokens > model.max_output:
            raise _bad(
                f"max_tokens: {max_tokens} > {model.max_output}, which is the maximum allowed number of "
                f"output tokens for {model.id}"
            )
    temperature = body.get("temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 1):
        raise _bad("temperature: Input should be a number from 0 to 1")
    stop = body.get("stop_sequences") or []
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise _bad("stop_sequences: Input should be a valid list")
    if any(not s.strip() for s in stop):
        raise _bad("stop_sequences: each stop sequence must contain non-whitespace")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream: Input should be a valid boolean")
    marks = _Breakpoints()
    tool_blocks, tools = _tools(body.get("tools"), marks)
    system_blocks, system_text = _system(body.get("system"), marks)
    message_blocks, turns = _messages(body.get("messages"), marks)
    if marks.count > MAX_BREAKPOINTS:
        raise _bad(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {marks.count}."
        )
    forced = _tool_choice(body.get("tool_choice"), tools)
    schema = None
    if body.get("output_format") is not None:
        schema = _json_schema("output_format", body["output_format"])
    config = body.get("output_config")
    if isinstance(config, dict) and config.get("format") is not None:
        schema = _json_schema("output_config.format", config["format"])
    draft = [{"role": "system", "content": system_text}] if system_text else []
    blocks = tool_blocks + system_blocks + message_blocks  # the cacheable prefix's order
    return Request(name, model, max_tokens, stream, stop, blocks, draft + turns, forced, schema)


# ---- prompt caching ----------------------------------------------------------------------------------
@dataclass
class CacheUse:
    read: int = 0
    write_5m: int = 0
    write_1h: int = 0
    uncached: int = 0

    def usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.uncached,
            "cache_creation_input_tokens": self.write_5m + self.write_1h,
            "cache_read_input_tokens": self.read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.write_5m,
                "ephemeral_1h_input_tokens": self.write_1h,
            },
        }


@dataclass
class PromptCache:
    """Cached prefixes by the hash of (key, model, blocks up to a boundary): when each expires, its TTL."""

    limit: int = 50_000
    entries: dict[str, tuple[float, float]] = field(default_factory=dict)

    def use(self, scope: str, blocks: list[Block], min_tokens: int, now: float) -> CacheUse:
        total = sum(b.tokens for b in blocks)
        marks = [i for i, b in enumerate(blocks) if b.ttl is not None]
        if not marks:
            return CacheUse(uncached=total)
        hashes, cum = [], []
        h, running = hashlib.sha256(scope.encode()).digest(), 0
        for b in blocks:
            h = hashlib.sha256(h + b.canonical.encode()).digest()
            running += b.tokens
            hashes.append(h.hex())
            cum.append(running)
        # the longest live prefix at any boundary a breakpoint reaches back to
        reach = {j for m in marks for j in range(max(0, m - LOOKBACK_BLOCKS + 1), m + 1)}
        hit = next((j for j in sorted(reach, reverse=True) if self._live(hashes[j], now)), None)
        use = CacheUse()
        covered = -1
        if hit is not None:
            _, ttl = self.entries[hashes[hit]]
            self.entries[hashes[hit]] = (now + ttl, ttl)  # a hit renews the entry
            use.read, covered = cum[hit], hit
        for m in marks:
            if m <= covered or cum[m] < min_tokens:
                continue  # already read, or too short to cache (no error: simply not cached)
            ttl_name = blocks[m].ttl or "5m"
            written = cum[m] - (cum[covered] if covered >= 0 else 0)
            if ttl_name == "1h":
                use.write_1h += written
            else:
                use.write_5m += written
            self._put(hashes[m], now, TTL_S[ttl_name])
            covered = m
        use.uncached = total - (cum[covered] if covered >= 0 else 0)
        return use

    def _live(self, h: str, now: float) -> bool:
        found = self.entries.get(h)
        return found is not None and found[0] > now

    def _put(self, h: str, now: float, ttl: float) -> None:
        if len(self.entries) >= self.limit:
            self.entries = {k: v for k, v in self.entries.items() if v[0] > now}
            while len(self.entries) >= self.limit:
                self.entries.pop(next(iter(self.entries)))
        self.entries[h] = (now + ttl, ttl)


# ---- rate-limit headers ------------------------------------------------------------------------------
@dataclass
class Meter:
    """What each key used in the last minute: (time, input tokens that count, output tokens)."""

    used: dict[str, deque[tuple[float, int, int]]] = field(default_factory=lambda: defaultdict(deque))

    def add(self, key: str, now: float, input_tokens: int, output_tokens: int) -> None:
        q = self.used[key]
        q.append((now, input_tokens, output_tokens))
        while q and now - q[0][0] >= 60:
            q.popleft()

    def headers(self, ctx: Context, key: str, now: float) -> dict[str, str]:
        q = self.used[key]
        while q and now - q[0][0] >= 60:
            q.popleft()
        reset = rfc3339(q[0][0] + 60 if q else now)
        requests_limit, requests_used, requests_reset = REQUESTS_PER_MINUTE, len(q), reset
        faults = ctx.faults["claude"]
        if faults.knobs.rate_limit:  # the enforced limit: report its own window
            window = faults.windows.get(key) or deque()
            requests_limit, requests_used = int(faults.knobs.rate_limit["requests"]), len(window)
            span = float(faults.knobs.rate_limit.get("window_s", 60))
            requests_reset = rfc3339(time.time() + (span - (time.monotonic() - window[0]) if window else 0))
        tokens_in = sum(e[1] for e in q)
        tokens_out = sum(e[2] for e in q)
        out: dict[str, str] = {
            "anthropic-ratelimit-requests-limit": str(requests_limit),
            "anthropic-ratelimit-requests-remaining": str(max(0, requests_limit - requests_used)),
            "anthropic-ratelimit-requests-reset": requests_reset,
        }
        for kind, limit, used in (
            ("input-tokens", INPUT_TOKENS_PER_MINUTE, tokens_in),
            ("output-tokens", OUTPUT_TOKENS_PER_MINUTE, tokens_out),
            ("tokens", INPUT_TOKENS_PER_MINUTE + OUTPUT_TOKENS_PER_MINUTE, tokens_in + tokens_out),
        ):
            out[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            out[f"anthropic-ratelimit-{kind}-remaining"] = str(max(0, limit - used))
            out[f"anthropic-ratelimit-{kind}-reset"] = reset
        return out


@dataclass
class State:
    cache: PromptCache = field(default_factory=PromptCache)
    meter: Meter = field(default_factory=Meter)


def _state(ctx: Context) -> State:
    state = ctx.state.get("anthropic")
    if not isinstance(state, State):
        state = ctx.state["anthropic"] = State()
    return state


# ---- answers -----------------------------------------------------------------------------------------
def _bad_json(ctx: Context) -> int | None:
    """The ``bad_json_count`` knob: the count before this answer took one, or None when none is left."""
    knobs = ctx.faults["claude"].knobs
    if knobs.bad_json_count <= 0:
        return None
    n = knobs.bad_json_count
    knobs.bad_json_count -= 1
    return n


def _answer(ctx: Context, req: Request, entry: Entry) -> tuple[list[dict[str, Any]], str, str | None, int]:
    """The content blocks, stop reason, stop sequence and output tokens of the model's answer."""
    if req.forced_tool is not None:
        schema = req.forced_tool["input_schema"]
        value: Any = structured_answer(schema, req.draft_messages, req.name)
        n = _bad_json(ctx)
        if n is not None:  # a tool input always arrives as an object: a broken one misses a field
            entry.meta["broken"] = True
            value = json.loads(broken(value, schema, 2))
        block = {
            "type": "tool_use",
            "id": f"toolu_{uuid.uuid4().hex[:24]}",
            "name": req.forced_tool["name"],
            "input": value,
        }
        return [block], "tool_use", None, count_tokens(json.dumps(value, ensure_ascii=False)) + 8
    if req.schema is not None:
        value = structured_answer(_hinted(req.schema), req.draft_messages, req.name)
        n = _bad_json(ctx)
        if n is not None:
            entry.meta["broken"] = True
        text = json.dumps(value, ensure_ascii=False) if n is None else broken(value, req.schema, n)
    else:
        text = compose_draft(req.draft_messages, model=req.name, max_tokens=None, stop=None)
    reason, sequence = "end_turn", None
    found = sorted((text.index(s), s) for s in req.stop if s in text)
    if found:
        text, sequence, reason = text[: found[0][0]], found[0][1], "stop_sequence"
    if req.max_tokens is not None and count_tokens(text) > req.max_tokens:
        text, sequence, reason = truncate_tokens(text, req.max_tokens), None, "max_tokens"
    return [{"type": "text", "text": text}], reason, sequence, count_tokens(text)


def _key(request: web.Request) -> str:
    return request.headers.get("x-api-key", "")


def _check_version(request: web.Request) -> None:
    version = request.headers.get("anthropic-version")
    if not version:
        raise _bad("anthropic-version: header is required")
    if version not in VERSIONS:
        raise _bad(f"anthropic-version: {version!r} is not a valid version")


def messages_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        _check_version(request)
        req = parse(request, body)
        state, now, key = _state(ctx), time.time(), _key(request)
        cache = state.cache.use(f"{key}\x1f{req.model.id}", req.blocks, req.model.min_cache, now)
        content, reason, sequence, output_tokens = _answer(ctx, req, entry)
        usage = {**cache.usage(), "output_tokens": output_tokens, "service_tier": "standard"}
        # cache reads do not count towards the input-tokens-per-minute limit
        state.meter.add(key, now, cache.uncached + cache.write_5m + cache.write_1h, output_tokens)
        entry.meta.update(model=req.name, stream=req.stream, usage=usage)
        headers = {
            "request-id": anthropic_request_id(),
            "x-icop-offline": "true",
            **state.meter.headers(ctx, key, now),
        }
        message = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": req.name,
            "content": content,
            "stop_reason": reason,
            "stop_sequence": sequence,
            "usage": usage,
        }
        if not req.stream:
            return web.json_response(message, headers=headers)
        return await _stream(ctx, request, headers, message)

    return handle


async def _stream(
    ctx: Context, request: web.Request, headers: dict[str, str], message: dict[str, Any]
) -> web.StreamResponse:
    """The message as Anthropic streams it: message_start, then per block content_block_start (a ping after
    the first), its deltas and content_block_stop, then message_delta (stop reason, usage), message_stop."""
    resp = web.StreamResponse(
        headers={**headers, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    delay = ctx.faults["claude"].knobs.chunk_ms / 1000

    async def send(event: dict[str, Any]) -> None:
        data = json.dumps(event, ensure_ascii=False)
        await resp.write(f"event: {event['type']}\ndata: {data}\n\n".encode())

    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    await send({"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opening = {**block, "input": {}}
            text, delta_type, delta_field = (
                json.dumps(block["input"], ensure_ascii=False),
                "input_json_delta",
                "partial_json",
            )
        else:
            opening = {"type": "text", "text": ""}
            text, delta_type, delta_field = block["text"], "text_delta", "text"
        await send({"type": "content_block_start", "index": index, "content_block": opening})
        if index == 0:
            await send({"type": "ping"})
        for piece in re.findall(r"\S+\s*|\s+", text):
            if delay:
                await asyncio.sleep(delay)
            await send(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": delta_type, delta_field: piece},
                }
            )
        await send({"type": "content_block_stop", "index": index})
    counts = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    final_usage = {k: usage[k] for k in counts}
    await send(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
            "usage": final_usage,
        }
    )
    await send({"type": "message_stop"})
    await resp.write_eof()
    return resp


def count_tokens_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        _check_version(request)
        req = parse(request, body, count_only=True)
        entry.meta.update(model=req.name, input_tokens=req.input_tokens)
        return web.json_response(
            {"input_tokens": req.input_tokens}, headers={"request-id": anthropic_request_id()}
        )

    return handle


def _model_info(m: Model) -> dict[str, Any]:
    return {
        "type": "model",
        "id": m.id,
        "display_name": m.display_name,
        "created_at": f"{m.released}T00:00:00Z",
    }


async def models_handler(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
    _check_version(request)
    data = [_model_info(m) for m in sorted(MODELS, key=lambda m: m.released, reverse=True)]
    page = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    return web.json_response(page, headers={"request-id": anthropic_request_id()})


async def model_handler(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
    _check_version(request)
    name = request.match_info["model_id"]
    model = _MODEL.get(name)
    if model is None:
        raise EmulatorError(404, f"model: {name}")
    return web.json_response(_model_info(model), headers={"request-id": anthropic_request_id()})


def add_routes(app: web.Application, ctx: Context) -> None:
    g = ctx.guard
    app.router.add_post(f"{PREFIX}/messages", g("claude", _key, messages_handler(ctx)))
    app.router.add_post(f"{PREFIX}/messages/count_tokens", g("claude", _key, count_tokens_handler(ctx)))
    app.router.add_get(f"{PREFIX}/models", g("claude", _key, models_handler))
    app.router.add_get(f"{PREFIX}/models/{{model_id}}", g("claude", _key, model_handler))
