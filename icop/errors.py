"""Domain exceptions: each carries an HTTP-like status, a short title, a detail a user can act on (in
English, for API consumers and logs) and a stable ``code`` with ``params`` that a client renders in its
user's language (the dashboard's message catalogue is keyed by these codes).

The core raises these; the gateway renders every one of them as ``application/problem+json`` in a
single handler, so no route builds an error response by hand.

Codes are dotted, lower-case and stable once published (``plan_limit.accounts``); a class's own code
(``not_found``, ``conflict``, …) is the fallback when a raise names none. Params are plain strings or
numbers that the detail also says (never secrets or content).
"""

from __future__ import annotations

from collections.abc import Mapping

Param = str | int | float


class DomainError(Exception):
    """Base of every error a caller is meant to see."""

    status: int = 400
    title: str = "Bad request"
    code: str = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        params: Mapping[str, Param] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.params: dict[str, Param] = dict(params or {})
        self.headers = headers or {}


class InvalidRequest(DomainError):
    status, title, code = 422, "Invalid request", "invalid_request"


class Unauthorized(DomainError):
    status, title, code = 401, "Not authenticated", "unauthorized"

    def __init__(self, detail: str = "missing or invalid credentials", *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status, title, code = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, code = 404, "Not found", "not_found"


class Conflict(DomainError):
    status, title, code = 409, "Conflict", "conflict"


class PlanLimitExceeded(DomainError):
    status, title, code = 403, "Plan limit reached", "plan_limit"


class RateLimited(DomainError):
    status, title, code = 429, "Too many requests", "rate_limited"

    def __init__(self, detail: str, retry_after: int, *, code: str | None = None) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            detail,
            code=code,
            params={"retry_after_s": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class DecryptionRefused(DomainError):
    """A stored secret did not authenticate (wrong key, row, tenant or platform, or tampering)."""

    status, title, code = 409, "Credential cannot be decrypted", "credential.undecryptable"
