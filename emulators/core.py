"""What every emulated endpoint shares: the guard that applies knobs, logs requests, checks keys,
and renders errors in each real service's documented shape."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .faults import FaultBook
from .reqlog import Entry, RequestLog

log = logging.getLogger("emulators")

Handler = Callable[[web.Request, Any, Entry], Awaitable[web.StreamResponse]]

_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
# Drive v3 errors also carry a legacy "errors" list whose "reason" clients branch on.
_DRIVE_REASON = {
    400: "invalid",
    401: "authError",
    403: "insufficientPermissions",
    404: "notFound",
    429: "userRateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
_NAVER_CODE = {400: "SE01", 401: "024", 404: "SE05", 429: "012", 500: "SE99", 503: "SE99"}
_OPENAI_TYPE = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
}


class EmulatorError(Exception):
    """Raised by handlers: rendered in the service's error shape."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param


def error_response(
    service: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    retry_after: float | None = None,
    extra_headers: dict[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> web.Response:
    """An error as the real service writes it (``details``: Gemini's typed error details)."""
    headers = dict(extra_headers or {})
    if retry_after is not None and service != "gemini":  # Gemini says it in a RetryInfo detail instead
        headers["Retry-After"] = str(max(1, round(retry_after))) if retry_after >= 1 else f"{retry_after:.3f}"
    body: Any
    if service in ("gpt", "images"):
        body = {
            "error": {
                "message": message,
                "type": _OPENAI_TYPE.get(status, "server_error"),
                "param": param,
                "code": code,
            }
        }
        headers.setdefault("x-request-id", f"req_{uuid.uuid4().hex}")
    elif service == "claude":
        rid = headers.setdefault("request-id", anthropic_request_id())
        body = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPE.get(status, "api_error"), "message": message},
            "request_id": rid,
        }
    elif service == "gemini":
        body = _gemini_error(status, message, code, retry_after, details)
    elif service == "sheets":
        body = {
            "error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}
        }
    elif service == "drive":
        item: dict[str, Any] = {
            "message": message,
            "domain": "global",
            "reason": code or _DRIVE_REASON.get(status, "backendError"),
        }
        if param:
            item |= {"location": param, "locationType": "header" if param == "Authorization" else "parameter"}
        body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [item],
                "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        }
    elif service == "tavily":
        body = {"detail": {"error": message}}
    elif service == "naver":
        naver_code = code if code and (code.startswith("SE") or code.isdigit()) else None
        body = {"errorMessage": message, "errorCode": naver_code or _NAVER_CODE.get(status, "SE99")}
    elif service == "fal":
        body = {"detail": message}
        if code:
            headers["x-fal-error-type"] = code
        headers.setdefault("x-fal-request-id", str(uuid.uuid4()))
    else:
        body = {"error": message}
    return web.json_response(body, status=status, headers=headers)


_RPC = "type.googleapis.com/google.rpc."
_GEMINI_API = "generativelanguage.googleapis.com"


def _google_duration(seconds: float) -> str:
    """A ``google.protobuf.Duration`` in its JSON form: ``"7s"``, ``"0.250s"``."""
    return f"{round(seconds)}s" if float(seconds).is_integer() else f"{seconds:.3f}s"


def _gemini_error(
    status: int,
    message: str,
    reason: str | None,
    retry_after: float | None,
    extra: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The Gemini API's ``google.rpc.Status``: ErrorInfo names a reason (``API_KEY_INVALID``),
    QuotaFailure the quota that ran out, RetryInfo the wait (in the body: Gemini sends no Retry-After)."""
    details: list[dict[str, Any]] = []
    if reason:
        details += [
            {"@type": _RPC + "ErrorInfo", "reason": reason, "domain": "googleapis.com",
             "metadata": {"service": _GEMINI_API}},
            {"@type": _RPC + "LocalizedMessage", "locale": "en-US", "message": message},
        ]  # fmt: skip
    details += extra or []
    if retry_after is not None:
        details.append({"@type": _RPC + "RetryInfo", "retryDelay": _google_duration(retry_after)})
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


_GEMINI_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information on "
    "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def _gemini_quota_failure(quota_id: str, metric: str, limit: int | None, model: str) -> list[dict[str, Any]]:
    """What a Gemini 429 says ran out: a per-minute quota (a rate limit) or a per-day one (used up until
    the day resets), told apart by ``quotaId``."""
    violation: dict[str, Any] = {
        "quotaMetric": f"{_GEMINI_API}/{metric}",
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", **({"model": model} if model else {})},
    }
    if limit is not None:
        violation["quotaValue"] = str(limit)
    return [
        {"@type": _RPC + "QuotaFailure", "violations": [violation]},
        {"@type": _RPC + "Help", "links": [{"description": "Learn more about Gemini API quotas",
                                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
    ]  # fmt: skip


def _seconds_to_pacific_midnight() -> float:
    """Gemini's daily quotas reset at midnight Pacific time."""
    now = datetime.now(ZoneInfo("America/Los_Angeles"))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return float(round((midnight - now).total_seconds()))


_FAULT_MESSAGES = {
    "gpt": {
        429: "Rate limit reached for requests",
        500: "The server had an error while processing your request. Sorry about that!",
        503: "The engine is currently overloaded, please try again later",
    },
    "claude": {
        429: "Number of requests has exceeded your rate limit.",
        500: "Internal server error",
        529: "Overloaded",
    },
    "gemini": {
        429: "Resource has been exhausted (e.g. check quota).",
        500: "An internal error has occurred. "
        "Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        503: "The model is overloaded. Please try again later.",
    },
    "sheets": {
        429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' "
        "of service 'sheets.googleapis.com'.",
        500: "Internal error encountered.",
        503: "The service is currently unavailable.",
    },
    "drive": {
        429: "User rate limit exceeded.",
        500: "Internal Error",
        503: "The service is currently unavailable.",
    },
    "fal": {429: "Too many requests", 500: "Internal server error", 503: "Service temporarily unavailable"},
    "tavily": {
        429: "Your request has been blocked due to excessive requests. Please reduce the rate of requests.",
        500: "Internal Server Error",
        503: "Service Unavailable",
    },
    "naver": {
        429: "Rate limit exceeded. (처리율 한도를 초과했습니다.)",
        500: "System error. (시스템 에러)",
        503: "System error. (시스템 에러)",
    },
    "web": {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"},
}
_FAULT_MESSAGES["images"] = _FAULT_MESSAGES["gpt"]


def fault_response(service: str, status: int, retry_after: float) -> web.Response:
    if service == "claude" and status == 503:  # Anthropic answers overload with its own 529
        return error_response(service, 529, _FAULT_MESSAGES[service][529])
    msg = _FAULT_MESSAGES[service][status]
    code = {"gpt": "rate_limit_exceeded", "images": "rate_limit_exceeded", "fal": "rate_limited"}.get(service)
    waits = (429,) if service == "gemini" else (429, 503)  # Gemini's 503 names no delay
    return error_response(
        service,
        status,
        msg,
        code=code if status == 429 else None,
        retry_after=retry_after if status in waits else None,
    )


def quota_response(service: str) -> web.Response:
    """The account's quota is used up: what each service answers (no retry helps until it resets)."""
    if service == "tavily":  # Tavily: 432 when the key's or plan's credits are used up
        return error_response(
            service,
            432,
            "This request exceeds your plan's set usage limit. Please upgrade your plan or contact "
            "support@tavily.com",
        )
    if service == "naver":  # Naver: the application's daily call limit
        return error_response(
            service, 429, "Query limit exceeded. (일일 호출 한도를 초과했습니다.)", code="010"
        )
    if service in ("gpt", "images"):
        return error_response(
            service,
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            code="insufficient_quota",
        )
    if service == "claude":  # Anthropic: prepaid credits used up, a 400 (no retry helps)
        return error_response(
            service,
            400,
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
            "upgrade or purchase credits.",
        )
    if service == "gemini":  # the requests-per-day quota
        return error_response(
            service,
            429,
            _GEMINI_QUOTA_MESSAGE,
            retry_after=_seconds_to_pacific_midnight(),
            details=_gemini_quota_failure(
                "GenerateRequestsPerDayPerProjectPerModel", "generate_requests_per_model_per_day", None, ""
            ),
        )
    return error_response(service, 429, "Quota exhausted")


def rate_limit_response(service: str, key: str, wait: float, limit: int, model: str) -> web.Response:
    secs = f"{wait:.3f}s"
    if service in ("gpt", "images"):
        return error_response(
            service,
            429,
            f"Rate limit reached for {model or 'requests'} in organization org-emulator on requests per min "
            f"(RPM): Limit {limit}, Used {limit}, Requested 1. Please try again in {secs}. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            code="rate_limit_exceeded",
            retry_after=wait,
            extra_headers={
                "x-ratelimit-limit-requests": str(limit),
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": secs,
            },
        )
    if service == "claude":
        return error_response(
            service,
            429,
            f"This request would exceed the rate limit for your organization of {limit} requests "
            "per minute. Please reduce the prompt length or the maximum tokens requested, or try again "
            "later.",
            retry_after=wait,
            extra_headers={
                "anthropic-ratelimit-requests-limit": str(limit),
                "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": rfc3339(time.time() + wait),
            },
        )
    if service == "gemini":  # the requests-per-minute quota
        return error_response(
            service,
            429,
            f"{_GEMINI_QUOTA_MESSAGE}\n* Quota exceeded for metric: "
            f"{_GEMINI_API}/generate_requests_per_model, limit: {limit}\nPlease retry in {secs}.",
            retry_after=wait,
            details=_gemini_quota_failure(
                "GenerateRequestsPerMinutePerProjectPerModel", "generate_requests_per_model", limit, model
            ),
        )
    if service == "sheets":
        return error_response(
            service,
            429,
            "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of "
            f"service 'sheets.googleapis.com' (limit {limit}).",
            retry_after=wait,
        )
    if service == "drive":
        return error_response(service, 429, "User rate limit exceeded.", retry_after=wait)
    return error_response(service, 429, _FAULT_MESSAGES[service][429], code="rate_limited", retry_after=wait)


@dataclass
class FileStore:
    """Images the emulators serve by URL (bounded, oldest dropped first)."""

    limit: int = 512
    files: OrderedDict[str, tuple[str, bytes]] = field(default_factory=OrderedDict)

    def put(self, data: bytes, content_type: str, ext: str) -> str:
        name = f"{uuid.uuid4().hex}.{ext}"
        self.files[name] = (content_type, data)
        while len(self.files) > self.limit:
            self.files.popitem(last=False)
        return name


LLM_SERVICES = ("gpt", "claude", "gemini")


class KeyRegistry:
    """The API keys each LLM service knows, as a vendor knows the keys it issued: the ones the emulator
    started with (``--llm-key``: the stack's own key) and those added through the admin API. Any other key,
    or one revoked, is refused the way that vendor refuses a key it does not know."""

    def __init__(self, defaults: Iterable[str] = ()) -> None:
        self.defaults = tuple(defaults)
        self.keys: dict[str, set[str]] = {}
        self.reset()

    def reset(self) -> None:
        self.keys = {service: set(self.defaults) for service in LLM_SERVICES}

    def accepts(self, service: str, key: str) -> bool:
        return service not in self.keys or key in self.keys[service]

    def add(self, service: str, keys: Iterable[str]) -> int:
        self.keys[service].update(k for k in keys if k)
        return len(self.keys[service])

    def revoke(self, service: str, key: str) -> bool:
        """Forget ``key``; False if it was not known."""
        known = key in self.keys[service]
        self.keys[service].discard(key)
        return known


class Context:
    """Shared state of one emulator process."""

    def __init__(self, llm_keys: Iterable[str] = ()) -> None:
        self.faults = FaultBook()
        self.log = RequestLog()
        self.files = FileStore()
        self.keys = KeyRegistry(llm_keys)
        self.state: dict[str, Any] = {}

    def guard(
        self,
        service: str,
        key_of: Callable[[web.Request], str | None],
        handler: Handler,
        *,
        allow_anonymous: bool = False,
        body_key: str | None = None,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap ``handler`` with the knobs of ``service``: latency, auth, rate limit, injected faults, log."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            resp: web.StreamResponse
            body: Any = None
            if request.can_read_body:
                try:
                    raw = await request.read()
                except web.HTTPRequestEntityTooLarge:
                    entry = self.log.start(service, request.method, request.path_qs, "")
                    resp = error_response(
                        service, 413, "Request exceeds the maximum allowed number of bytes."
                    )
                    self.log.finish(entry, resp.status)
                    return resp
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                    if raw:
                        entry = self.log.start(service, request.method, request.path_qs, "")
                        resp = error_response(
                            service, 400, "We could not parse the JSON body of your request."
                        )
                        self.log.finish(entry, resp.status)
                        return resp
            key = key_of(request) or ""
            if not key and body_key and isinstance(body, dict) and isinstance(body.get(body_key), str):
                key = body[body_key]
            entry = self.log.start(service, request.method, request.path_qs, key, body)
            sf = self.faults[service]
            knobs = sf.knobs
            try:
                delay = sf.latency_s()
                if delay:
                    await asyncio.sleep(delay)
                if not key and not allow_anonymous:
                    resp = _missing_key(service)
                    self.log.finish(entry, resp.status, "auth")
                    return resp
                if key and (key in knobs.revoked_keys or not self.keys.accepts(service, key)):
                    resp = key_refused(service, key)
                    self.log.finish(entry, resp.status, "auth")
                    return resp
                limited = sf.rate_limited(key or "anonymous")
                if limited is not None:
                    model = body.get("model", "") if isinstance(body, dict) else ""
                    model = model or request.match_info.get("model", "")  # Gemini: the model is in the path
                    resp = rate_limit_response(service, key, limited[0], limited[1], model)
                    self.log.finish(entry, resp.status, "rate_limit")
                    return resp
                if knobs.quota is not None:
                    if knobs.quota <= 0:
                        resp = quota_response(service)
                        self.log.finish(entry, resp.status, "quota")
                        return resp
                    knobs.quota -= 1
                fault = sf.draw_error()
                if fault in ("429", "500", "503"):
                    resp = fault_response(service, int(fault), knobs.retry_after_s)
                    self.log.finish(entry, resp.status, fault)
                    return resp
                if fault == "timeout":  # never act, never answer: the client's timeout fires
                    entry.fault = "timeout"
                    await asyncio.sleep(knobs.hang_s)
                    if request.transport is not None:
                        request.transport.close()
                    self.log.finish(entry, 0, "timeout")
                    return web.Response(status=504)
                try:
                    resp = await handler(request, body, entry)
                except EmulatorError as e:
                    resp = error_response(service, e.status, e.message, code=e.code, param=e.param)
                self.log.finish(entry, resp.status, fault)
                if fault == "late":  # acted (and logged as done); the answer comes after the client gave up
                    await asyncio.sleep(knobs.late_s)
                return resp
            except asyncio.CancelledError:
                if entry.finished is None:
                    self.log.finish(entry, 0, entry.fault or "client_gone")
                raise
            except ConnectionResetError:  # the client went away mid-stream
                if entry.finished is None:
                    self.log.finish(entry, 0, entry.fault or "client_gone")
                return web.Response(status=499)

        return wrapped


def bearer_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return (
        request.headers.get("x-api-key") or request.headers.get("x-goog-api-key") or request.query.get("key")
    )


def fal_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("key "):
        return auth[4:].strip() or None
    return None


def _invalid_key_message(service: str, key: str) -> str:
    if service in ("gpt", "images"):
        return f"Incorrect API key provided: {key[:3]}***{key[-4:]}. You can find your API key at https://platform.openai.com/account/api-keys."
    if service == "claude":
        return "invalid x-api-key"
    if service in ("gemini", "sheets", "drive"):
        return "API key not valid. Please pass a valid API key."
    if service == "tavily":
        return "Unauthorized: missing or invalid API key."
    if service == "naver":
        return "Authentication failed. (인증에 실패했습니다.)"
    return "Invalid key"


def key_refused(service: str, key: str) -> web.Response:
    """A key the service does not know (never issued, or revoked): Gemini answers 400 ``API_KEY_INVALID``,
    the others 401."""
    if service == "gemini":
        return error_response(service, 400, _invalid_key_message(service, key), code="API_KEY_INVALID")
    return error_response(service, 401, _invalid_key_message(service, key), code="invalid_api_key")


def _missing_key(service: str) -> web.Response:
    msg = {
        "gpt": "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "claude": "x-api-key header is required",
        "gemini": "Method doesn't allow unregistered callers (callers without established identity). Please "
        "use API Key or other form of API consumer identity to call this API.",
        "sheets": "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "fal": "No authentication credentials provided",
    }
    msg["drive"] = msg["sheets"]
    msg["images"] = msg["gpt"]
    msg["tavily"] = "Unauthorized: missing or invalid API key."
    msg["naver"] = "Authentication failed. (인증에 실패했습니다.)"
    msg["web"] = "Unauthorized"
    return error_response(service, 401 if service != "gemini" else 403, msg[service])


def now() -> int:
    return int(time.time())


def rfc3339(t: float) -> str:
    """``2026-12-02T10:00:00Z``: how Anthropic writes times in headers and bodies."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def anthropic_request_id() -> str:
    return f"req_{uuid.uuid4().hex[:24]}"
