"""One error type for every provider, and the retry loop that honours ``Retry-After``."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from opentelemetry.trace import SpanKind

from icop.observability.metrics import observe_provider_call
from icop.observability.tracing import span

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "rate_limited",  # 429: retry after the server's Retry-After
    "quota_exhausted",  # the account's daily/monthly quota or credits are used up: no retry helps now
    "server_error",  # 5xx
    "unavailable",  # 503 / overloaded
    "timeout",  # the client gave up waiting (the server may still have acted)
    "connection",  # could not connect / connection dropped
    "bad_request",  # 400 / 422: the request itself is wrong
    "auth",  # 401 / 403
    "not_found",  # 404 (unknown model, spreadsheet, request id)
    "conflict",  # 409
    "content_policy",  # refused by the provider's safety system
    "unknown",
]

RETRYABLE_KINDS: frozenset[str] = frozenset(
    {"rate_limited", "server_error", "unavailable", "timeout", "connection"}
)


class ProviderError(Exception):
    """A provider call failed; ``retryable`` says whether repeating the same call may succeed."""

    def __init__(
        self,
        provider: str,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {kind}: {message}")
        self.provider = provider
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


def kind_for_status(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 409:
        return "conflict"
    if status in (400, 422):
        return "bad_request"
    if status == 408:
        return "timeout"
    if status in (502, 503, 504, 529):
        return "unavailable"
    if status >= 500:
        return "server_error"
    return "unknown"


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date); None if absent."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    if (ms := lower.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in all (1 = no retry); backoff when the server names no delay; a cap on its delay."""

    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, err: ProviderError) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if not err.retryable or attempt >= self.max_attempts:
            return None
        if err.retry_after is not None:
            if err.retry_after > self.max_retry_after_s:
                return None  # the server asks for longer than we wait in-process: let the caller reschedule
            return err.retry_after
        backoff: float = min(self.base_delay_s * 2.0 ** (attempt - 1), self.max_delay_s)
        return backoff * random.uniform(0.75, 1.25)


T = TypeVar("T")


async def call_with_retries(
    policy: RetryPolicy,
    call: Callable[[], Awaitable[T]],
    classify: Callable[[BaseException], ProviderError | None],
    *,
    provider: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call``; on a retryable error wait (``Retry-After`` first) and try again. Every attempt is
    counted and timed under ``provider`` (``icop_provider_calls``), and a span when tracing."""
    attempt = 0
    while True:
        attempt += 1
        t0 = time.perf_counter()
        try:
            with span(f"{provider} call", SpanKind.CLIENT, provider=provider, attempt=attempt):
                result = await call()
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised otherwise
            err = exc if isinstance(exc, ProviderError) else classify(exc)
            outcome = err.kind if err is not None else type(exc).__name__
            observe_provider_call(provider, outcome, time.perf_counter() - t0)
            if err is None:
                raise
            wait = policy.delay(attempt, err)
            if wait is None:
                if err is exc:
                    raise
                raise err from exc
            log.info("retrying %s after %.2fs (attempt %d): %s", err.provider, wait, attempt, err)
            await sleep(wait)
        else:
            observe_provider_call(provider, "ok", time.perf_counter() - t0)
            return result
