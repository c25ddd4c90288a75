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


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="A URI that identifies the problem type.")
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(default="", description="What went wrong, in words a user can act on.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Field errors, for invalid requests."
    )


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(title=title or TITLES.get(status, "Error"), status=status, detail=detail, errors=errors)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_MEDIA
    )


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


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Echo where and why, never the submitted value (it may be a password or a token).
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.detail, title=exc.title, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "the request does not match the schema", errors=_safe_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body": an invalid request like any other
            return problem(422, "the request body is not valid JSON")
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(asyncpg.exceptions.DataError)
    async def _data(_: Request, exc: asyncpg.exceptions.DataError) -> JSONResponse:
        # e.g. a NUL byte in text or a value out of a column's range: the caller's input, not our fault.
        return problem(422, f"a value was refused by the database ({type(exc).__name__})")

    @app.exception_handler(asyncpg.exceptions.IntegrityConstraintViolationError)
    async def _integrity(
        _: Request, exc: asyncpg.exceptions.IntegrityConstraintViolationError
    ) -> JSONResponse:
        if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
            return problem(409, "a resource with these identifying fields already exists")
        return problem(
            422, f"the values violate a rule of the data model ({exc.constraint_name or 'constraint'})"
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__)  # no message: it may echo input
        return problem(500, "an unexpected error occurred")
