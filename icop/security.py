"""Passwords (Argon2id, and the policy a new one must meet), e-mail addresses (one spelling per address),
signed access tokens (HS256, pinned) and opaque secrets for refresh tokens and API keys.

Plain functions and one small class; no web framework here. Secrets are compared by hash, never logged.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import InvalidRequest, Unauthorized

_hasher = PasswordHasher()  # argon2id with the library's maintained defaults
# A hash of a random password, verified when the e-mail is unknown so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same work when there is no user (``None``)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


PASSWORD_MIN_LENGTH = 10
# zxcvbn's estimate, 0-4: below 2 a password falls to an online or throttled offline guessing attack (it is
# in a breached-password list, a dictionary word with a suffix, a keyboard run, a repeat, a date ...).
PASSWORD_MIN_SCORE = 2
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide its estimate anyway


def password_problem(password: str, *context: str) -> str | None:
    """Why ``password`` may not be used, or None. ``context`` (e-mail, names) counts as guessable."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"the password needs at least {PASSWORD_MIN_LENGTH} characters"
    from zxcvbn import zxcvbn  # its word lists load on first use

    hints = [w for c in context for w in re.split(r"[^\w]+", c.lower()) if len(w) >= 3]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=hints)
    if result["score"] < PASSWORD_MIN_SCORE:
        warning = result["feedback"].get("warning") or "it is too easy to guess"
        return f"choose a stronger password: {warning.rstrip('.').lower()} (a few unrelated words work well)"
    return None


def password_error(password: str, *context: str) -> InvalidRequest | None:
    """:func:`password_problem` as the error a caller answers with (code ``auth.password_too_short`` or
    ``auth.weak_password``)."""
    problem = password_problem(password, *context)
    if problem is None:
        return None
    short = len(password) < PASSWORD_MIN_LENGTH
    return InvalidRequest(
        problem,
        code="auth.password_too_short" if short else "auth.weak_password",
        params={"min_length": PASSWORD_MIN_LENGTH},
    )


_EMAIL = re.compile(
    r"^(?=.{1,64}@)[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def normalize_email(value: str) -> str:
    """The one spelling of an e-mail address: NFKC (fullwidth ``ａ`` is ``a``), lower case, ASCII only.

    What NFKC does not fold is refused: look-alike letters of other scripts (Cyrillic ``а``), invisible
    characters (zero-width space, joiners) and direction overrides, so that no second account can look
    like someone's address. Internationalised domains are accepted in their ASCII (``xn--``) form.
    """
    folded = unicodedata.normalize("NFKC", value).strip().lower()
    if not folded.isascii():
        raise ValueError(
            "the e-mail address has characters that only look like Latin letters, or invisible ones; "
            "type it in plain ASCII (an international domain in its xn-- form)"
        )
    if not _EMAIL.match(folded):
        raise ValueError("not a valid e-mail address (name@example.com)")
    return folded


def sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    user_id: UUID
    tenant_id: UUID
    role: Literal["admin", "editor", "viewer"]  # verify refuses any other
    expires_at: int
    session_id: UUID
    """The login session (refresh-token family): logging out or a reused refresh token ends it."""


class TokenCodec:
    """Issues and verifies access tokens: HS256 only, with issuer, audience, expiry, subject and tenant.

    A client sends the same token with every request until it expires, so the claims of the last
    ``VERIFIED_CACHE`` tokens that verified are kept by their exact text: a token seen again is checked
    only for expiry (its signature, issuer, audience and claims cannot have changed; a changed byte is
    another token). Revocation is not the token's business: the caller checks the session each time."""

    ALGORITHM = "HS256"
    VERIFIED_CACHE = 4096

    def __init__(self, secret: str, issuer: str, audience: str, ttl_s: int) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self.issuer, self.audience, self.ttl_s = issuer, audience, ttl_s
        self._verified: dict[str, AccessClaims] = {}

    def issue(
        self, user_id: UUID, tenant_id: UUID, role: str, session_id: UUID, now: float | None = None
    ) -> str:
        iat = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "tenant": str(tenant_id),
            "sid": str(session_id),
            "role": role,
            "typ": "access",
            "iat": iat,
            "exp": iat + self.ttl_s,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():  # PyJWT's rule: expired once exp <= now
                return known
            del self._verified[token]
            raise Unauthorized("access token expired")
        claims = self._decode(token)
        if len(self._verified) >= self.VERIFIED_CACHE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],  # pinned: no `none`, no RS/HS confusion
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "tenant", "sid", "role", "typ"]},
            )
            if claims["typ"] != "access" or claims["role"] not in ("admin", "editor", "viewer"):
                raise Unauthorized("not an access token")
            return AccessClaims(
                UUID(claims["sub"]),
                UUID(claims["tenant"]),
                claims["role"],
                int(claims["exp"]),
                UUID(claims["sid"]),
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("access token expired") from e
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as e:
            raise Unauthorized("invalid access token") from e
