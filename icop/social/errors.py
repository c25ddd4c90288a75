"""How a platform call failed, in the terms the publisher decides on."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    """Nothing was posted (or could have been): try again later."""
    RATE_LIMITED = "rate_limited"
    """The platform asked us to slow down; ``retry_after`` says for how long when it says."""
    AUTH_EXPIRED = "auth_expired"
    """The access token expired: refresh it (where the platform allows) and try again."""
    AUTH_REVOKED = "auth_revoked"
    """The grant is gone: a person must sign in again. Only this target stops."""
    REJECTED = "rejected"
    """The platform refused this post as it is; retrying the same request cannot succeed."""
    AMBIGUOUS = "ambiguous"
    """The request was sent and no answer came back: the post may exist. Reconcile before any retry."""
    NOT_FOUND = "not_found"
    """The object asked about does not exist (any more): a post deleted on the platform."""
    PERMISSION_DENIED = "permission_denied"
    """The token works but lacks a permission this call needs (the user took it back): a person must grant
    it again."""
    MEDIA_UNAVAILABLE = "media_unavailable"
    """The media could not be fetched from its URL (unreachable, expired, refused): nothing was posted.
    Sign fresh URLs and send again, a bounded number of times."""


class PlatformError(Exception):
    """A classified failure of a platform call. The message never contains a token."""

    def __init__(
        self,
        platform: str,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{platform}: {kind.value}: {message}")
        self.platform = platform
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.retry_after = retry_after
