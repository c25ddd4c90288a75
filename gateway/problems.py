"""Errors as ``application/problem+json`` (RFC 9457): one model, one set of handlers, one OpenAPI helper."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from icop.errors import DomainError

log = logging.getLogger("icop.gateway")
PROBLEM_MEDIA = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}


# The code of a problem that no raise named, by status (a DomainError carries its own).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal",
    502: "bad_gateway",
    503: "unavailable",
}
TYPE_PREFIX = "urn:icop:problem:"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details, with a stable code (and its parameters) that a client
    renders in its user's language, and the request's id for support."""

    type: str = Field(
        default="about:blank",
        description="A URI that identifies the problem type: `urn:icop:problem:<code>`.",
    )
    title: str = Field(description="A short summary of the problem type (English).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(default="", description="What went wrong, in English words a user can act on.")
    code: str = Field(
        default="",
        description="A stable, dotted code for the problem (`plan_limit.accounts`, `run.paused`, "
        "`invalid_request`, …): what a client keys its own wording on.",
    )
    params: dict[str, str | int | float] = Field(
        default_factory=dict, description="The values the detail names, for the client's wording."
    )
    request_id: str | None = Field(
        default=None, description="The request's id (also the X-Request-Id header): quote it to support."
    )
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Field errors, for invalid requests: `loc`, `msg` (English), `type` (a stable code) "
        "and `ctx` (its parameters).",
    )


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    code: str | None = None,
    params: dict[str, str | int | float] | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    code = code or STATUS_CODES.get(status, "error")
    body = Problem(
        type=TYPE_PREFIX + code,
        title=title or TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        params=params or {},
        request_id=request_id,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_MEDIA
    )


def request_id_of(request: Request) -> str | None:
    """The id RequestTelemetry gave the request (gateway.telemetry)."""
    return getattr(request.state, "request_id", None)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all rendered as problem+json."""
    return {
        code: {
            "description": TITLES.get(code, "Error"),
            "content": {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **(
                {
                    "headers": {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    }
                }
                if code == 429
                else {}
            ),
        }
        for code in codes
    }


def _ctx(e: dict[str, Any]) -> dict[str, str | int | float]:
    # A rule's parameters (min_length, le, expected, …); never the exception object a validator raised.
    return {
        str(k): v if isinstance(v, int | float) else str(v)[:200]
        for k, v in (e.get("ctx") or {}).items()
        if k != "error" and isinstance(v, str | int | float)
    }


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Echo where and why, never the submitted value (it may be a password or a token).
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
            "ctx": _ctx(e),
        }
        for e in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status, exc.detail, title=exc.title, code=exc.code, params=exc.params,
            request_id=request_id_of(request), headers=exc.headers,
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422, "the request does not match the schema", errors=_safe_errors(exc),
            request_id=request_id_of(request),
        )  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        rid = request_id_of(request)
        if exc.status_code == 400:  # FastAPI's "error parsing the body": an invalid request like any other
            return problem(422, "the request body is not valid JSON", code="invalid_json", request_id=rid)
        return problem(
            exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None), request_id=rid
        )

    @app.exception_handler(asyncpg.exceptions.DataError)
    async def _data(request: Request, exc: asyncpg.exceptions.DataError) -> JSONResponse:
        # e.g. a NUL byte in text or a value out of a column's range: the caller's input, not our fault.
        return problem(
            422, f"a value was refused by the database ({type(exc).__name__})", code="invalid_value",
            request_id=request_id_of(request),
        )  # fmt: skip

    @app.exception_handler(asyncpg.exceptions.IntegrityConstraintViolationError)
    async def _integrity(
        request: Request, exc: asyncpg.exceptions.IntegrityConstraintViolationError
    ) -> JSONResponse:
        rid = request_id_of(request)
        if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
            return problem(
                409, "a resource with these identifying fields already exists", code="duplicate",
                request_id=rid,
            )  # fmt: skip
        return problem(
            422, f"the values violate a rule of the data model ({exc.constraint_name or 'constraint'})",
            code="invalid_value", request_id=rid,
        )  # fmt: skip

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id_of(request)
        # no message: it may echo input
        log.error("unhandled error: %s (request %s)", type(exc).__name__, rid)
        return problem(500, "an unexpected error occurred; quote the request id to support", request_id=rid)
