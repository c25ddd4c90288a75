"""Revoked access ends within a stated bound, for every kind of credential a user held.

The gateway checks the user (active, current role) and the session (not logged out) on every request, in
the request's own transaction, and API keys with their creator. Live event streams re-check their
credential every ``gateway.events.endpoints.RECHECK_S`` seconds and end when it is gone. The bounds each
test measured are printed (``pytest -s``) and asserted.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx

from .conftest import TenantHandle, remember

# Requests: the next one after the change. Streams: one re-check period and a poll.
REQUEST_BOUND_S = 1.0
STREAM_BOUND_S = 5.0
MEASURED: dict[str, float] = {}


async def _user(client: httpx.AsyncClient, admin: TenantHandle, role: str) -> tuple[str, dict[str, str]]:
    """A new user of the tenant, logged in: (user id, login response)."""
    email, pw = f"{role}-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    r = await client.post("/v1/users", headers=admin.h, json={"email": email, "password": pw, "role": role})
    assert r.status_code == 201, r.text
    login = await client.post("/v1/auth/login", json={"email": email, "password": pw})
    assert login.status_code == 200, login.text
    remember(pw, login.json()["access_token"], login.json()["refresh_token"])
    return r.json()["id"], login.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _until(check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Seconds until ``check()`` is true (polled every 20 ms); fails after ``within``."""
    t0 = time.monotonic()
    while not await check():
        if time.monotonic() - t0 > within:
            raise AssertionError(f"still allowed {within} s after the change")
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


@asynccontextmanager
async def _stream(base: str, headers: dict[str, str]) -> AsyncIterator[asyncio.Task[float]]:
    """An open event stream; the task ends (with the time it ended) when the server closes it."""
    http = httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(5, read=60))
    opened = asyncio.get_running_loop().create_future()

    async def read() -> float:
        async with http.stream("GET", "/v1/events/stream", headers=headers) as r:
            assert r.status_code == 200, await r.aread()
            opened.set_result(True)
            async for _ in r.aiter_bytes():
                pass
        return time.monotonic()

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(asyncio.shield(opened), 10)
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await http.aclose()


async def _stream_end(task: asyncio.Task[float], since: float, what: str) -> float:
    try:
        ended = await asyncio.wait_for(asyncio.shield(task), STREAM_BOUND_S * 3)
    except TimeoutError:
        raise AssertionError(
            f"the {what} stream still runs {STREAM_BOUND_S * 3} s after the change"
        ) from None
    return ended - since


async def test_disabled_user_loses_every_credential_within_the_bound(
    client: httpx.AsyncClient, tenant: TenantHandle, live_api: str
) -> None:
    user_id, login = await _user(client, tenant, "admin")
    access, refresh = login["access_token"], login["refresh_token"]
    r = await client.post(
        "/v1/api-keys", headers=_bearer(access), json={"name": "u2", "scopes": ["read", "write"]}
    )
    assert r.status_code == 201, r.text
    key = {"X-API-Key": r.json()["key"]}
    remember(r.json()["key"])
    assert (await client.get("/v1/auth/me", headers=_bearer(access))).status_code == 200
    assert (await client.get("/v1/auth/me", headers=key)).status_code == 200
    async with _stream(live_api, _bearer(access)) as user_stream, _stream(live_api, key) as key_stream:
        t0 = time.monotonic()
        r = await client.patch(f"/v1/users/{user_id}", headers=tenant.h, json={"disabled": True})
        assert r.status_code == 200 and r.json()["disabled"]

        async def refused(headers: dict[str, str]) -> bool:
            return (await client.get("/v1/auth/me", headers=headers)).status_code == 401

        async def refresh_refused() -> bool:
            r = await client.post("/v1/auth/refresh", json={"refresh_token": refresh})
            return r.status_code == 401

        bounds = {
            "access token": await _until(lambda: refused(_bearer(access)), REQUEST_BOUND_S),
            "refresh token": await _until(refresh_refused, REQUEST_BOUND_S),
            "API key of the user": await _until(lambda: refused(key), REQUEST_BOUND_S),
            "event stream (access token)": await _stream_end(user_stream, t0, "user's"),
            "event stream (API key)": await _stream_end(key_stream, t0, "API key's"),
        }
    MEASURED.update({f"disabled user: {k}": v for k, v in bounds.items()})
    print("\nrevocation bounds measured:", {k: f"{v:.3f} s" for k, v in bounds.items()})
    assert all(v <= STREAM_BOUND_S for v in bounds.values()), bounds
    # Nothing else the user held still works: writing with the key, minting a new key.
    assert (await client.post("/v1/api-keys", headers=_bearer(access), json={"name": "x"})).status_code == 401
    # Enabled again: the key is back (suspended with its creator, not destroyed); the old session is not.
    await client.patch(f"/v1/users/{user_id}", headers=tenant.h, json={"disabled": False})
    assert (await client.get("/v1/auth/me", headers=key)).status_code == 200
    assert (await client.get("/v1/auth/me", headers=_bearer(access))).status_code == 401


async def test_demoted_admins_old_token_acts_with_the_new_role(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    user_id, login = await _user(client, tenant, "admin")
    h = _bearer(login["access_token"])
    assert (await client.get("/v1/users", headers=h)).status_code == 200
    key = (
        await client.post("/v1/api-keys", headers=h, json={"name": "k", "scopes": ["read", "write"]})
    ).json()
    remember(key["key"])
    r = await client.patch(f"/v1/users/{user_id}", headers=tenant.h, json={"role": "viewer"})
    assert r.status_code == 200
    assert (await client.get("/v1/users", headers=h)).status_code == 403
    me = (await client.get("/v1/auth/me", headers=h)).json()
    assert me["role"] == "viewer"
    # The key the admin made acts no higher than its creator now is.
    k = {"X-API-Key": key["key"]}
    assert (await client.get("/v1/auth/me", headers=k)).json()["role"] == "viewer"
    assert (
        await client.post("/v1/pipelines", headers=k, json={"name": "p", "sheet_id": "z"})
    ).status_code == 403


async def test_logout_ends_the_sessions_access_token(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    other_session = (
        await client.post("/v1/auth/login", json={"email": tenant.email, "password": tenant.password})
    ).json()
    remember(other_session["access_token"], other_session["refresh_token"])
    assert (await client.get("/v1/auth/me", headers=tenant.h)).status_code == 200
    assert (await client.post("/v1/auth/logout", json={"refresh_token": tenant.refresh})).status_code == 204
    t0 = time.monotonic()
    r = await client.get("/v1/auth/me", headers=tenant.h)
    MEASURED["logout: access token"] = time.monotonic() - t0
    assert r.status_code == 401
    # Only that session: the same user's other login goes on.
    assert (
        await client.get("/v1/auth/me", headers=_bearer(other_session["access_token"]))
    ).status_code == 200


async def test_deleted_key_ends_its_event_stream(
    client: httpx.AsyncClient, tenant: TenantHandle, live_api: str
) -> None:
    created = (await client.post("/v1/api-keys", headers=tenant.h, json={"name": "stream"})).json()
    remember(created["key"])
    async with _stream(live_api, {"X-API-Key": created["key"]}) as stream:
        t0 = time.monotonic()
        assert (await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.h)).status_code == 200
        took = await _stream_end(stream, t0, "deleted key's")
    MEASURED["deleted key: event stream"] = took
    print(f"\ndeleted key's stream ended after {took:.3f} s")
    assert took <= STREAM_BOUND_S
