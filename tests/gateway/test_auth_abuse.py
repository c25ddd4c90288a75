"""Sign-in abuse: throttling per account and per client address (before any password hash is computed),
no account enumeration through sign-up, plans not chosen at sign-up, e-mail look-alikes and weak passwords
refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from icop.settings import Settings
from tests.conftest import place_throttle_hits

from .conftest import TenantHandle, remember, sign_up


@asynccontextmanager
async def tight_client(
    settings: Settings, pool: asyncpg.Pool, address: str = "198.51.100.7", **limits: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway with the given throttling limits, called from ``address``."""
    app = create_app(settings.model_copy(update=limits), pool=pool)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
        yield c


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the password hashes and checks the gateway computes (a spy on the real functions)."""
    import gateway.auth.service as auth
    from icop import security

    seen: list[str] = []

    def verify(password_hash: str | None, password: str) -> bool:
        seen.append("verify")
        return security.verify_password(password_hash, password)

    def hash_(password: str) -> str:
        seen.append("hash")
        return security.hash_password(password)

    monkeypatch.setattr(auth, "verify_password", verify)
    monkeypatch.setattr(auth, "hash_password", hash_)
    return seen


async def test_login_is_throttled_per_account_before_hashing(
    settings: Settings, app_pool: asyncpg.Pool, client: httpx.AsyncClient, hashes: list[str]
) -> None:
    t = await sign_up(client)  # the sign-up and its login are the account's first two attempts
    async with tight_client(settings, app_pool, auth_login_attempts_per_account=5) as c:
        for _ in range(3):
            r = await c.post("/v1/auth/login", json={"email": t.email, "password": "wrong-password-1"})
            assert r.status_code == 401
        hashes.clear()
        right = await c.post("/v1/auth/login", json={"email": t.email, "password": t.password})
        assert right.status_code == 429, right.text
        assert right.headers["content-type"].startswith("application/problem+json")
        # six attempts against five: the next is let in once this window's weight has fallen by a sixth
        assert 1 <= int(right.headers["retry-after"]) <= 2 * settings.auth_throttle_window_s
        assert hashes == []  # refused before any Argon2 work
    # Another client address does not unlock the account.
    async with tight_client(settings, app_pool, "203.0.113.9", auth_login_attempts_per_account=5) as c:
        r = await c.post("/v1/auth/login", json={"email": t.email, "password": t.password})
        assert r.status_code == 429


async def test_login_is_throttled_per_client_address(
    settings: Settings, app_pool: asyncpg.Pool, hashes: list[str]
) -> None:
    async with tight_client(settings, app_pool, "198.51.100.23", auth_login_attempts_per_address=4) as c:
        for i in range(4):  # password spraying: one try per account
            r = await c.post(
                "/v1/auth/login", json={"email": f"nobody{i}@example.test", "password": "x" * 12}
            )
            assert r.status_code == 401
        hashes.clear()
        r = await c.post("/v1/auth/login", json={"email": "nobody9@example.test", "password": "x" * 12})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert hashes == []
    # Another address is not affected.
    async with tight_client(settings, app_pool, "198.51.100.24", auth_login_attempts_per_address=4) as c:
        r = await c.post("/v1/auth/login", json={"email": "nobody9@example.test", "password": "x" * 12})
        assert r.status_code == 401


async def test_login_throttle_holds_across_a_window_edge(
    settings: Settings, app_pool: asyncpg.Pool, owner_conn: asyncpg.Connection, hashes: list[str]
) -> None:
    """Attempts of the previous fixed window still count after its edge: a million are placed there (as the
    owner) for a one-hour window, and one attempt now, the first of this window, is refused."""
    from gateway.auth import throttle

    address = f"198.51.100.{uuid.uuid4().int % 200 + 30}"
    bucket = throttle.Bucket("login-address", address, 4, "")
    window = 3600  # a million weigh more than four until the window's last 10 ms
    await place_throttle_hits(owner_conn, bucket.key, window, 1_000_000)
    async with tight_client(
        settings, app_pool, address, auth_login_attempts_per_address=4, auth_throttle_window_s=window
    ) as c:
        r = await c.post("/v1/auth/login", json={"email": "nobody7@example.test", "password": "x" * 12})
        assert r.status_code == 429, r.text
        assert hashes == []


@pytest.mark.parametrize(
    ("limit", "hits", "previous", "elapsed", "allowed", "retry"),
    [
        (4, 4, 0, 10.0, True, None),  # at the limit: let in
        (4, 5, 0, 10.0, False, 890 + 360),  # next window, once this one's five weigh 3: 2/5 into it
        (4, 1, 4, 0.0, False, 450),  # the previous window's four weigh fully at the edge; half a window on
        (4, 1, 8, 450.0, False, 225),  # 1 + 8·½ = 5; later in this window, when 2 + 8·(1-t) ≤ 4: t = ¾
        (4, 1, 8, 899.0, True, None),  # the previous window has all but slid out
        (1, 2, 0, 0.0, False, 1800),  # a limit of one: only once both of this window's hits slid out
    ],
)
def test_sliding_window_weighs_both_windows(
    limit: int, hits: int, previous: int, elapsed: float, allowed: bool, retry: int | None
) -> None:
    from gateway.auth.throttle import retry_after_s, weighed

    assert (weighed(hits, previous, elapsed, 900) <= limit) is allowed
    if retry is not None:
        assert retry_after_s(limit, hits, previous, elapsed, 900) == retry


async def test_signup_is_throttled_per_client_address(
    settings: Settings, app_pool: asyncpg.Pool, hashes: list[str]
) -> None:
    async with tight_client(settings, app_pool, "198.51.100.40", auth_signups_per_address=2) as c:
        for _ in range(2):
            body = {"company_name": "Spam", "email": f"s-{uuid.uuid4().hex[:8]}@example.test",
                    "password": f"pw-{uuid.uuid4().hex}"}  # fmt: skip
            assert (await c.post("/v1/auth/signup", json=body)).status_code == 202
        hashes.clear()
        body["email"] = f"s-{uuid.uuid4().hex[:8]}@example.test"
        r = await c.post("/v1/auth/signup", json=body)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert hashes == []


async def test_signup_does_not_reveal_registered_emails(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.test"
    password = f"pw-{uuid.uuid4().hex}"
    answers = [
        await client.post("/v1/auth/signup", json={"company_name": "A", "email": e, "password": password})
        for e in (tenant.email, fresh)
    ]
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert "token" not in answers[0].text and "registered" not in answers[0].text
    async with app_pool.acquire() as conn:  # the address still belongs to its tenant, and only to it
        assert str(await conn.fetchval("SELECT auth_user_tenant($1)", tenant.email)) == tenant.tenant_id
    # The registered owner's password still works and is theirs; the new address can log in.
    assert (
        await client.post("/v1/auth/login", json={"email": tenant.email, "password": password})
    ).status_code == 401
    r = await client.post("/v1/auth/login", json={"email": fresh, "password": password})
    assert r.status_code == 200
    remember(r.json()["access_token"], r.json()["refresh_token"])


async def test_signup_cannot_choose_a_paid_plan(client: httpx.AsyncClient, app_pool: asyncpg.Pool) -> None:
    email, password = f"p-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    r = await client.post(
        "/v1/auth/signup",
        json={"company_name": "Greedy", "plan": "enterprise", "email": email, "password": password},
    )
    assert r.status_code in (201, 202), r.text
    login = (await client.post("/v1/auth/login", json={"email": email, "password": password})).json()
    remember(login["access_token"], login["refresh_token"])
    h = {"Authorization": f"Bearer {login['access_token']}"}
    assert (await client.get("/v1/tenant", headers=h)).json()["plan"] == "starter"
    # An operator sets the plan (what `icop tenants set-plan` does).
    from icop.tenants import set_plan

    await set_plan(app_pool, uuid.UUID(login["tenant_id"]), "growth")
    assert (await client.get("/v1/tenant", headers=h)).json()["plan"] == "growth"
    assert (await client.get("/v1/auth/me", headers=h)).json()["plan"] == "growth"


@pytest.mark.parametrize(
    "email",
    [
        "admin@exаmple.test",  # Cyrillic а in the domain
        "аdmin@example.test",  # Cyrillic а in the local part
        "ad\u200bmin@example.test",  # zero-width space
        "admin\u202e@example.test",  # right-to-left override
        "admin@example.test\u200d",  # zero-width joiner
    ],
)
async def test_look_alike_emails_are_refused(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post(
        "/v1/auth/signup", json={"company_name": "L", "email": email, "password": f"pw-{uuid.uuid4().hex}"}
    )
    assert r.status_code == 422, r.text


async def test_fullwidth_email_is_the_same_address(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    """NFKC folds fullwidth letters into the address they look like: no second account is made."""
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in tenant.email)
    assert wide != tenant.email
    r = await client.post("/v1/auth/login", json={"email": wide, "password": tenant.password})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == tenant.user_id
    remember(r.json()["access_token"], r.json()["refresh_token"])


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "password123", "1234567890", "qwertyuiop12"])
async def test_weak_passwords_are_refused(
    client: httpx.AsyncClient, tenant: TenantHandle, password: str
) -> None:
    email = f"weak-{uuid.uuid4().hex[:8]}@example.test"
    r = await client.post("/v1/auth/signup", json={"company_name": "W", "email": email, "password": password})
    assert r.status_code == 422, r.text
    assert "password" in r.text.lower()
    r = await client.post("/v1/users", headers=tenant.h, json={"email": email, "password": password})
    assert r.status_code == 422, r.text


async def test_operator_sets_the_plan_with_the_command(client: httpx.AsyncClient, settings: Settings) -> None:
    """`icop tenants set-plan` is the operator's path (a billing flow would call the same function)."""
    import os
    import subprocess
    import sys

    t = await sign_up(client)
    env = {**os.environ, "ICOP_STATE_DIR": str(settings.state_path)}
    argv = [sys.executable, "-m", "cluster.cli", "tenants", "set-plan", t.tenant_id]

    def run(plan: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*argv, plan], env=env, capture_output=True, text=True, timeout=120)

    bad = await asyncio.to_thread(run, "platinum")
    assert bad.returncode != 0 and "starter, growth, enterprise" in bad.stdout + bad.stderr
    ok = await asyncio.to_thread(run, "enterprise")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "starter → enterprise" in ok.stdout
    assert (await client.get("/v1/tenant", headers=t.h)).json()["plan"] == "enterprise"
