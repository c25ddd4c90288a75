"""Domain exceptions: each carries an HTTP-like status, a short title and a detail a user can act on.

The core raises these; the gateway renders every one of them as ``application/problem+json`` in a
single handler, so no route builds an error response by hand.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller is meant to see."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidRequest(DomainError):
    status, title = 422, "Invalid request"


class Unauthorized(DomainError):
    status, title = 401, "Not authenticated"

    def __init__(self, detail: str = "missing or invalid credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class PlanLimitExceeded(DomainError):
    status, title = 403, "Plan limit reached"


class RateLimited(DomainError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class DecryptionRefused(DomainError):
    """A stored secret did not authenticate (wrong key, row, tenant or platform, or tampering)."""

    status, title = 409, "Credential cannot be decrypted"
