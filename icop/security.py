"""Passwords (Argon2id), signed access tokens (HS256, pinned) and opaque secrets for refresh tokens and API
keys.

Plain functions and one small class; no web framework here. Secrets are compared by hash, never logged.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import Unauthorized

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


class TokenCodec:
    """Issues and verifies access tokens: HS256 only, with issuer, audience, expiry, subject and tenant."""

    ALGORITHM = "HS256"

    def __init__(self, secret: str, issuer: str, audience: str, ttl_s: int) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self.issuer, self.audience, self.ttl_s = issuer, audience, ttl_s

    def issue(self, user_id: UUID, tenant_id: UUID, role: str, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "tenant": str(tenant_id),
            "role": role,
            "typ": "access",
            "iat": iat,
            "exp": iat + self.ttl_s,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],  # pinned: no `none`, no RS/HS confusion
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "tenant", "role", "typ"]},
            )
            if claims["typ"] != "access" or claims["role"] not in ("admin", "editor", "viewer"):
                raise Unauthorized("not an access token")
            return AccessClaims(
                UUID(claims["sub"]), UUID(claims["tenant"]), claims["role"], int(claims["exp"])
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("access token expired") from e
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as e:
            raise Unauthorized("invalid access token") from e
