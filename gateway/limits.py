"""What the gateway accepts before any parser sees it, and the headers every response carries.

``RequestLimits`` (ASGI middleware) reads a request's body up to a limit (``ICOP_REQUEST_MAX_BODY_BYTES``;
``ICOP_REQUEST_MAX_UPLOAD_BYTES`` for multipart uploads) and answers 413 beyond it, whether or not a
Content-Length was sent; a JSON body nested deeper than ``ICOP_REQUEST_MAX_JSON_DEPTH`` gets 422. Both are
problem+json, decided by a linear scan, so no JSON parser or model ever recurses through a hostile body.
``bounded_json`` keeps the free-form JSON a resource stores (a pipeline's ``settings``) small.
``SecurityHeaders`` adds nosniff, no framing, no referrer, a CSP that allows nothing (the API serves
JSON; its docs pages excepted) and HSTS when the request came over TLS or in production.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem

_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def json_too_deep(body: bytes, max_depth: int) -> bool:
    """Whether ``body`` opens more than ``max_depth`` arrays/objects inside each other (strings skipped)."""
    depth, in_string, escaped_at = 0, False, -1
    for m in _STRUCTURE.finditer(body):
        ch, pos = m.group(), m.start()
        if in_string:
            if ch == b"\\" and escaped_at != pos:
                escaped_at = pos + 1  # the next byte is escaped
            elif ch == b'"' and escaped_at != pos:
                in_string = False
        elif ch == b'"':
            in_string = True
        elif ch in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif ch in (b"]", b"}"):
            depth -= 1
    return False


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (a scalar is 0, ``{}`` is 1)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
            deepest = max(deepest, d + 1)
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
            deepest = max(deepest, d + 1)
    return deepest


def _keys(value: Any) -> int:
    count, stack = 0, [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            count += len(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return count


def bounded_json(value: Any, *, max_bytes: int, max_depth: int, max_keys: int) -> None:
    """Refuse (ValueError) JSON longer than ``max_bytes``, deeper than ``max_depth``, with more keys."""
    if _depth(value) > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep; flatten it")
    if _keys(value) > max_keys:
        raise ValueError(f"more than {max_keys} keys in all")
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > max_bytes:
        raise ValueError(f"{size} bytes as JSON; at most {max_bytes}")


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body: int, max_upload: int, max_depth: int) -> None:
        self.app, self.max_body, self.max_upload, self.max_depth = app, max_body, max_upload, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get("content-type", "").lower()
        limit = self.max_upload if ctype.startswith("multipart/form-data") else self.max_body
        too_large = problem(
            413, f"the request body is larger than {limit} bytes", title="Request body too large"
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more, tail = 0, True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                tail = message  # the client went away: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and (not ctype or "json" in ctype) and json_too_deep(body, self.max_depth):
            deep = problem(422, f"the JSON body is nested more than {self.max_depth} levels deep; flatten it")
            await deep(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return tail or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# The API serves JSON: nothing in it may load, run or frame anything. Its HTML docs pages (Swagger UI,
# ReDoc) load their scripts from a CDN, so they get only the framing rule.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts_max_age_s: int, always_hsts: bool) -> None:
        self.app, self.hsts_max_age_s, self.always_hsts = app, hsts_max_age_s, always_hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else API_CSP
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", csp.encode()),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if self.hsts_max_age_s and (self.always_hsts or scope.get("scheme") == "https"):
            extra.append((b"strict-transport-security", f"max-age={self.hsts_max_age_s}".encode()))

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, _send)
