"""Access tokens: what verifies, what does not, and the verified-token cache never widening that."""

from __future__ import annotations

import time
from uuid import uuid4

import jwt
import pytest

from icop.errors import Unauthorized
from icop.security import TokenCodec

SECRET = "s" * 40


def codec(ttl_s: int = 900) -> TokenCodec:
    return TokenCodec(SECRET, "icop", "icop-api", ttl_s)


def test_a_token_verifies_again_from_the_cache_with_the_same_claims() -> None:
    c = codec()
    user, tenant, session = uuid4(), uuid4(), uuid4()
    token = c.issue(user, tenant, "editor", session)
    first, again = c.verify(token), c.verify(token)
    assert first == again
    assert (again.user_id, again.tenant_id, again.role, again.session_id) == (user, tenant, "editor", session)


def test_a_cached_token_stops_verifying_when_it_expires() -> None:
    c = codec(ttl_s=1)
    token = c.issue(uuid4(), uuid4(), "viewer", uuid4())
    exp = c.verify(token).expires_at  # valid until exp (at most a second away), now cached
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(Unauthorized, match="expired"):
        c.verify(token)
    with pytest.raises(Unauthorized, match="expired"):  # and after it left the cache: PyJWT says so too
        c.verify(token)


def test_a_changed_byte_or_another_key_is_refused_even_after_the_original_was_cached() -> None:
    c = codec()
    token = c.issue(uuid4(), uuid4(), "admin", uuid4())
    c.verify(token)
    head, body, sig = token.split(".")
    forged_sig = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    with pytest.raises(Unauthorized):
        c.verify(f"{head}.{body}.{forged_sig}")
    other = TokenCodec("o" * 40, "icop", "icop-api", 900)
    with pytest.raises(Unauthorized):
        other.verify(token)


def test_tokens_for_another_audience_or_of_another_type_are_refused() -> None:
    now = int(time.time())
    good = {"iss": "icop", "aud": "icop-api", "sub": str(uuid4()), "tenant": str(uuid4()),
            "sid": str(uuid4()), "role": "admin", "typ": "access", "iat": now, "exp": now + 60}  # fmt: skip
    c = codec()
    for bad in (good | {"aud": "elsewhere"}, good | {"typ": "refresh"}, good | {"role": "owner"}):
        with pytest.raises(Unauthorized):
            c.verify(jwt.encode(bad, SECRET, "HS256"))


def test_the_cache_stays_bounded() -> None:
    c = codec()
    c.VERIFIED_CACHE = 8
    tokens = [c.issue(uuid4(), uuid4(), "viewer", uuid4()) for _ in range(20)]
    for t in tokens:
        c.verify(t)
    assert len(c._verified) == 8
    assert all(c.verify(t).role == "viewer" for t in tokens)  # evicted ones verify again in full
