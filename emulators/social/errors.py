"""Error bodies as each platform writes them: Graph API ``{"error": {...}}`` and X's problem details."""

from __future__ import annotations

import secrets
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def graph_error(
    status: int,
    message: str,
    code: int,
    subcode: int | None = None,
    type_: str = "OAuthException",
    **extra: Any,
) -> ApiError:
    err: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update(extra)
    err["fbtrace_id"] = secrets.token_urlsafe(12)
    return ApiError(status, {"error": err})


def x_error(status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any) -> ApiError:
    return ApiError(status, {"title": title, "detail": detail, "type": type_, "status": status, **extra})
