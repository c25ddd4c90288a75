"""Per request: the access log line, the request metrics by route template, and (when tracing is on) the
server span that every later hop of the request joins. ``/metrics`` serves the process's registry."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import APIRouter, Response
from opentelemetry.trace import Span, SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from icop.observability import tracing
from icop.observability.logs import ID_FIELDS, bind_ids, ids_scope
from icop.observability.metrics import UNMATCHED_ROUTE, exposition, observe_request

access_log = logging.getLogger("icop.gateway.access")
REQUEST_ID_HEADER = b"x-request-id"
_CALLER_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")  # a caller's own id, kept when it is this plain


def request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    for k, v in scope["headers"]:
        if k == REQUEST_ID_HEADER and _CALLER_ID.fullmatch(v):
            return bytes(v).decode("ascii")
    return uuid.uuid4().hex


metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus' text exposition of this process (no tenant data: labels are routes and statuses)."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def route_of(scope: Scope) -> str:
    """The matched route's template (``/v1/pipelines/{pipeline_id}``), never the raw path."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or UNMATCHED_ROUTE)


class RequestTelemetry:
    """One access line per request (method, path, status, time; never headers, bodies or query
    strings) and the request's count and latency by method, route template and status. Every request
    gets an id (``X-Request-Id`` on the answer, ``request_id`` in its log lines and problem bodies), so a
    user quoting it leads an operator to the lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not tracing.active():
            await self._handle(scope, receive, send, None)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with tracing.attached(headers), tracing.span(f"HTTP {scope['method']}", SpanKind.SERVER) as span:
            await self._handle(scope, receive, send, span)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, span: Span | None) -> None:
        t0 = time.perf_counter()
        status = 500
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid  # request.state.request_id, for problem bodies

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        with ids_scope():  # the caller's tenant joins it once known (gateway.context.admit)
            bind_ids(request_id=rid)
            try:
                await self.app(scope, receive, _send)
            finally:
                elapsed = time.perf_counter() - t0
                route = route_of(scope)
                observe_request(scope["method"], route, status, elapsed)
                params = scope.get("path_params") or {}
                bind_ids(**{k: params[k] for k in ID_FIELDS if k in params})
                if span is not None:
                    span.update_name(f"{scope['method']} {route}")
                    span.set_attributes(
                        {"http.request.method": scope["method"], "http.route": route,
                         "http.response.status_code": status}
                    )  # fmt: skip
                if access_log.isEnabledFor(logging.INFO):
                    access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000)
