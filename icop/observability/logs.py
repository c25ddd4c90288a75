"""Logs of every process in one schema, with the ids of the work at hand and secrets redacted by
construction.

``configure_logging(settings, role)`` installs one handler on the root logger: JSON lines in production
(``ts``, ``level``, ``logger``, ``msg``, ``role``, the ids bound to the current request or activity —
``tenant_id``, ``pipeline_id``, ``run_id``, ``row``, ``article_id``, ``platform`` — and the current span's
``trace_id``/``span_id``), or text for people in development. Every line, in either format, passes
through :func:`redact` before it is written: the value after any key that names a secret (token,
secret, password, authorization, api key, cookie, credential, signature), bearer and basic credentials,
and the values of the process's own secret settings are replaced. Extra fields whose key names a secret
are dropped the same way.

Ids are bound with :func:`bind_ids` inside an :func:`ids_scope` (one per request and activity attempt):
the scope holds a mutable mapping, so ids bound by code that runs in a copied context (a FastAPI
dependency in a thread) still reach the request's later lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from opentelemetry import trace
from pydantic import SecretStr

from icop.settings import Settings

ID_FIELDS: Final = ("tenant_id", "pipeline_id", "run_id", "row", "article_id", "platform")
REDACTED: Final = "[redacted]"

_ids: ContextVar[dict[str, str] | None] = ContextVar("icop_log_ids", default=None)

_SECRET_KEY = r"[\w.-]*(?:token|secret|passw(?:or)?d|authorization|api[_-]?key|cookie|credential|" \
    r"private[_-]?key|signature)[\w.-]*"  # fmt: skip
_SECRET_KEY_RE: Final = re.compile(rf"(?i)^{_SECRET_KEY}$")
# key=value, key: value, "key": "value", with the value quoted, a bearer/basic credential, or a bare word
_PAIR_RE: Final = re.compile(
    rf"""(?i)(?P<key>["']?{_SECRET_KEY}["']?\s*[:=]\s*)"""
    r"""(?P<val>"[^"]*"|'[^']*'|(?:bearer|basic)\s+[^\s"',;&]+|[^\s"',;&}\])]+)"""
)
_BEARER_RE: Final = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_known_secrets: tuple[str, ...] = ()


def _is_count(key: str) -> bool:
    # prompt_tokens=12, max_tokens: token counts are not tokens
    return key.strip("\"' :=").lower().endswith("tokens")


def _pair(m: re.Match[str]) -> str:
    key = m.group("key")
    return m.group(0) if _is_count(key) else key + REDACTED


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced (see the module docstring)."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _PAIR_RE.sub(_pair, text)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY_RE.match(key)) and not _is_count(key)


def remember_secrets(*values: str | None) -> None:
    """Values that must never appear in a line, whatever their context (the process's secret settings)."""
    global _known_secrets
    fresh = {v for v in values if v and len(v) >= 8}
    _known_secrets = tuple(sorted(set(_known_secrets) | fresh, key=len, reverse=True))


@contextmanager
def ids_scope(**ids: object) -> Iterator[dict[str, str]]:
    """A fresh set of ids for the block (a request, an activity attempt)."""
    bound = {k: str(v) for k, v in ids.items() if v is not None}
    token = _ids.set(bound)
    span = trace.get_current_span()
    if bound and span.is_recording():
        span.set_attributes({f"icop.{k}": v for k, v in bound.items()})
    try:
        yield bound
    finally:
        _ids.reset(token)


def bind_ids(**ids: object) -> None:
    """Add ids (``tenant_id=…``) to the current scope's lines and, when tracing, to the current span."""
    bound = _ids.get()
    if bound is None:
        bound = {}
        _ids.set(bound)
    fresh = {k: str(v) for k, v in ids.items() if v is not None}
    bound.update(fresh)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({f"icop.{k}": v for k, v in fresh.items()})


def current_ids() -> Mapping[str, str]:
    return _ids.get() or {}


def ids_of(value: object) -> dict[str, str]:
    """The id fields (``ID_FIELDS``) a dataclass input or request carries. The plan row is its number
    (``row_number``, or that of the ``row`` it carries), never the row itself: its topic is content, and
    ids go into every line and span. Only plain values (text, numbers, UUIDs) are ids."""
    out = {}
    for name in ID_FIELDS:
        v = getattr(value, name, None)
        if name == "row":
            v = getattr(value, "row_number", None) if v is None else getattr(v, "row_number", v)
        if isinstance(v, str | int | UUID) and not isinstance(v, bool):
            out[name] = str(v)
    return out


# Attributes every LogRecord has; anything else on a record came as ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, in the schema of the module docstring."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "role": self.role,
        }
        line.update(current_ids())
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            line["trace_id"], line["span_id"] = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            line[key] = REDACTED if is_secret_key(key) else _plain(value)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For people: time, level, logger, message, the bound ids; redacted like the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = current_ids()
        if ids:
            text += " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]"
        return redact(text)


def _plain(value: object) -> object:
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def _secret_values(settings: Settings) -> list[str]:
    return [v.get_secret_value() for v in vars(settings).values() if isinstance(v, SecretStr)]


def configure_logging(settings: Settings, role: str, *, stream: Any = None) -> logging.Handler:
    """Route every record of this process to one redacting handler on stderr (``stream``), in
    ``settings.log_format``; returns the handler. Replaces handlers an earlier call installed."""
    remember_secrets(*_secret_values(settings))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(role) if settings.log_format == "json" else TextFormatter())
    handler.set_name("icop")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "icop"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # httpx and httpcore log every request line at INFO with its whole URL, query string included (an
    # OAuth callback's code, a token some APIs take as a parameter): only their warnings are kept.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
