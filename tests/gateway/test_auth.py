"""Sign-up, login, refresh rotation with reuse detection, roles, API keys."""

from __future__ import annotations

import asyncpg
import httpx

from .conftest import TenantHandle, remember, sheet, sign_up


async def test_signup_creates_tenant_and_admin_in_one_tenant(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    t = await sign_up(client, plan="growth", pool=app_pool)  # starter at sign-up, then set by the operator
    me = (await client.get("/v1/auth/me", headers=t.h)).json()
    assert me == {
        "tenant_id": t.tenant_id,
        "actor_id": t.user_id,
        "actor_kind": "user",
        "role": "admin",
        "plan": "growth",
    }
    tenant = (await client.get("/v1/tenant", headers=t.h)).json()
    assert tenant["id"] == t.tenant_id and tenant["plan"] == "growth"
    users = (await client.get("/v1/users", headers=t.h)).json()
    assert [u["email"] for u in users] == [t.email] and users[0]["role"] == "admin"
    # The stored password is an Argon2id hash, not the password.
    await owner_conn.execute("SELECT set_config('app.tenant_id', $1, false)", t.tenant_id)
    stored = await owner_conn.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", __import__("uuid").UUID(t.user_id)
    )
    assert stored.startswith("$argon2id$") and t.password not in stored


async def test_login_right_and_wrong_password(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    ok = await client.post(
        "/v1/auth/login", json={"email": tenant.email.upper(), "password": tenant.password}
    )
    assert ok.status_code == 200, ok.text
    remember(ok.json()["access_token"], ok.json()["refresh_token"])
    assert ok.json()["tenant_id"] == tenant.tenant_id
    bad = await client.post("/v1/auth/login", json={"email": tenant.email, "password": "wrong-password"})
    unknown = await client.post(
        "/v1/auth/login", json={"email": "nobody@example.test", "password": "whatever12"}
    )
    assert bad.status_code == unknown.status_code == 401
    assert bad.json()["detail"] == unknown.json()["detail"]  # no account enumeration


async def test_refresh_rotates_and_reuse_revokes_family(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    r1 = await client.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh})
    assert r1.status_code == 200, r1.text
    second = r1.json()["refresh_token"]
    remember(second, r1.json()["access_token"])
    assert second != tenant.refresh
    # The first token again: reuse. The family is revoked, so the newer token dies too.
    reuse = await client.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh})
    assert reuse.status_code == 401 and "revoked" in reuse.json()["detail"]
    after = await client.post("/v1/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401
    # A fresh login starts a new family that works.
    login = (
        await client.post("/v1/auth/login", json={"email": tenant.email, "password": tenant.password})
    ).json()
    remember(login["refresh_token"], login["access_token"])
    assert (
        await client.post("/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    ).status_code == 200


async def test_refresh_garbage_and_logout(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for junk in ("nope", f"{tenant.tenant_id}.forged", "00000000-0000-0000-0000-000000000000.x"):
        assert (await client.post("/v1/auth/refresh", json={"refresh_token": junk})).status_code == 401
    assert (await client.post("/v1/auth/logout", json={"refresh_token": tenant.refresh})).status_code == 204
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh})).status_code == 401


async def test_roles_are_enforced(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    handles = {}
    for role in ("viewer", "editor"):
        email, pw = f"{role}-{tenant.user_id[:8]}@example.test", f"pw-{role}-secret-123"
        r = await client.post(
            "/v1/users", headers=tenant.h, json={"email": email, "password": pw, "role": role}
        )
        assert r.status_code == 201, r.text
        login = (await client.post("/v1/auth/login", json={"email": email, "password": pw})).json()
        remember(pw, login["access_token"], login["refresh_token"])
        handles[role] = {"Authorization": f"Bearer {login['access_token']}"}
    body = {"name": "P", "sheet_id": sheet()}
    assert (await client.post("/v1/pipelines", headers=handles["viewer"], json=body)).status_code == 403
    assert (await client.get("/v1/pipelines", headers=handles["viewer"])).status_code == 200
    assert (await client.post("/v1/pipelines", headers=handles["editor"], json=body)).status_code == 201
    assert (
        await client.post("/v1/api-keys", headers=handles["editor"], json={"name": "k"})
    ).status_code == 403
    assert (await client.get("/v1/users", headers=handles["editor"])).status_code == 403
    # The last admin cannot be demoted.
    r = await client.patch(f"/v1/users/{tenant.user_id}", headers=tenant.h, json={"role": "viewer"})
    assert r.status_code == 409
    assert (await client.get("/v1/users", headers=tenant.h)).json()[0]["role"] == "admin"


async def test_api_key_flow(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    r = await client.post("/v1/api-keys", headers=tenant.h, json={"name": "ci", "scopes": ["read"]})
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    remember(key)
    assert key.startswith(f"icop_{created['prefix']}_")
    listed = (await client.get("/v1/api-keys", headers=tenant.h)).json()
    assert all("key" not in k for k in listed) and listed[0]["last_used_at"] is None
    # Works as X-API-Key and as a Bearer token, acts as a viewer.
    me = await client.get("/v1/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["actor_kind"] == "api_key" and me.json()["role"] == "viewer"
    assert (await client.get("/v1/pipelines", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    assert (
        await client.post(
            "/v1/pipelines", headers={"X-API-Key": key}, json={"name": "P", "sheet_id": sheet()}
        )
    ).status_code == 403
    got = (await client.get(f"/v1/api-keys/{created['id']}", headers=tenant.h)).json()
    assert got["last_used_at"] is not None
    # A wrong secret with a right prefix fails; so does a revoked key.
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert (await client.get("/v1/auth/me", headers={"X-API-Key": forged})).status_code == 401
    assert (await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.h)).json()["revoked_at"]
    assert (await client.get("/v1/auth/me", headers={"X-API-Key": key})).status_code == 401


async def test_write_scope_key_acts_as_editor(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    key = (
        await client.post("/v1/api-keys", headers=tenant.h, json={"name": "w", "scopes": ["read", "write"]})
    ).json()["key"]
    remember(key)
    r = await client.post(
        "/v1/pipelines", headers={"X-API-Key": key}, json={"name": "from key", "sheet_id": sheet()}
    )
    assert r.status_code == 201, r.text
    assert (await client.get("/v1/users", headers={"X-API-Key": key})).status_code == 403
