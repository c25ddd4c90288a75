"""The attack suite: another tenant's ids through every id-taking route, forged tokens, swapped
ciphertexts."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI

from icop.db import tenant_tx
from icop.errors import DecryptionRefused
from icop.settings import Settings
from icop.vault import Vault, read_credential_secrets

from .conftest import TenantHandle, remember, sheet
from .seed import seed_article, seed_delivery_and_sample

# Every route that takes an id, with the request another tenant sends; {id} is the victim's id.
ATTACKS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/users/{user_id}", "user", None),
    ("PATCH", "/v1/users/{user_id}", "user", {"role": "viewer", "disabled": True}),
    ("GET", "/v1/api-keys/{key_id}", "key", None),
    ("DELETE", "/v1/api-keys/{key_id}", "key", None),
    ("GET", "/v1/credentials/{credential_id}", "credential", None),
    ("DELETE", "/v1/credentials/{credential_id}", "credential", None),
    ("GET", "/v1/pipelines/{pipeline_id}", "pipeline", None),
    ("PATCH", "/v1/pipelines/{pipeline_id}", "pipeline", {"name": "pwned", "status": "paused"}),
    ("DELETE", "/v1/pipelines/{pipeline_id}", "pipeline", None),
    ("GET", "/v1/pipelines/{pipeline_id}/plan", "pipeline", None),
    ("GET", "/v1/pipelines/{pipeline_id}/runs", "pipeline", None),
    ("POST", "/v1/pipelines/{pipeline_id}/runs", "pipeline", {"kind": "manual"}),
    ("GET", "/v1/runs/{run_id}", "run", None),
    ("POST", "/v1/runs/{run_id}/cancel", "run", None),
    ("GET", "/v1/articles/{article_id}", "article", None),
    ("GET", "/v1/articles/{article_id}/images/{position}", "article", None),
    ("GET", "/v1/articles/{article_id}/previews", "article", None),
    ("POST", "/v1/articles/{article_id}/approve", "article", {}),
    ("POST", "/v1/articles/{article_id}/regenerate", "article", {}),
    ("POST", "/v1/articles/{article_id}/reject", "article", {"reason": "pwned"}),
    ("PATCH", "/v1/articles/{article_id}", "article", {"title": "pwned", "body": "pwned"}),
    ("POST", "/v1/articles/{article_id}/draft", "article", {"writer": "gpt"}),
    ("GET", "/v1/runs/{run_id}/rows", "run", None),
    ("POST", "/v1/runs/{run_id}/retry", "run", None),
    ("GET", "/v1/posts/{post_id}", "post", None),
    ("POST", "/v1/posts/{post_id}/retry", "post", None),
    ("PATCH", "/v1/posts/{post_id}", "post", {"publish_at": "2030-01-01T00:00:00Z"}),
    ("GET", "/v1/posts/{post_id}/metrics", "post", None),
    ("DELETE", "/v1/engagement-thresholds/{threshold_id}", "threshold", None),
    ("GET", "/v1/webhooks/{endpoint_id}", "webhook", None),
    ("PATCH", "/v1/webhooks/{endpoint_id}", "webhook", {"url": "http://127.0.0.1:9/pwned"}),
    ("DELETE", "/v1/webhooks/{endpoint_id}", "webhook", None),
    ("GET", "/v1/webhooks/{endpoint_id}/deliveries", "webhook", None),
    ("GET", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}", "delivery", None),
    ("POST", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", "delivery", None),
    ("GET", "/v1/brand-voice/samples/{sample_id}", "sample", None),
    ("DELETE", "/v1/brand-voice/samples/{sample_id}", "sample", None),
]
# Each path parameter names the victim's object it takes.
PARAM_KIND = {"user_id": "user", "key_id": "key", "credential_id": "credential", "pipeline_id": "pipeline",
              "run_id": "run", "article_id": "article", "post_id": "post", "endpoint_id": "webhook",
              "delivery_id": "delivery", "sample_id": "sample", "position": "position",
              "threshold_id": "threshold"}  # fmt: skip
# Routes whose only path parameter is not an id of ours: the OAuth connect flow takes a platform name, and
# another tenant's (or user's) sealed state is refused there (tests/social/test_oauth_connect.py); a sheet
# preview takes Google's spreadsheet id and reads it as the caller's own Google identity, which Google
# refuses for a sheet not shared with it (tests/gateway/test_google_sheets.py).
NOT_ID_ROUTES = {
    ("POST", "/v1/credentials/oauth/{platform}/start"),
    ("POST", "/v1/credentials/oauth/{platform}/callback"),
    ("GET", "/v1/google/spreadsheets/{sheet_id}/preview"),
}
# A model key is addressed by its provider's name and is always the caller's own: another tenant's calls on
# the same provider reach only their own key (checked below with the victim's key in place).
NOT_ID_ROUTES |= {
    ("GET", "/v1/model-keys/{provider}"),
    ("PUT", "/v1/model-keys/{provider}"),
    ("DELETE", "/v1/model-keys/{provider}"),
    ("POST", "/v1/model-keys/{provider}/resume"),
}


def victim_url(path: str, ids: dict[str, str]) -> str:
    """``path`` with every ``{param}`` replaced by the victim's id of that kind."""
    for param, kind in PARAM_KIND.items():
        path = path.replace("{" + param + "}", ids[kind])
    assert "{" not in path, path
    return path


@pytest.fixture
async def victim(client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool) -> dict[str, str]:
    """A tenant with one of everything."""
    h = tenant.h
    ids = {"user": tenant.user_id, "position": "0"}
    k = (await client.post("/v1/api-keys", headers=h, json={"name": "victim"})).json()
    remember(k["key"])
    ids["key"] = k["id"]
    token = f"victim-token-{uuid.uuid4().hex}"
    remember(token)
    c = await client.post(
        "/v1/credentials", headers=h, json={"platform": "x", "account_id": "acct-x", "access_token": token}
    )
    assert c.status_code == 201, c.text
    ids["credential"] = c.json()["id"]
    p = await client.post(
        "/v1/pipelines",
        headers=h,
        json={"name": "victim", "sheet_id": sheet(), "targets": [{"platform": "x", "account_id": "acct-x"}]},
    )
    assert p.status_code == 201, p.text
    ids["pipeline"] = p.json()["id"]
    r = await client.post(f"/v1/pipelines/{ids['pipeline']}/runs", headers=h, json={"kind": "manual"})
    assert r.status_code == 202, r.text
    ids["run"] = r.json()["id"]
    seeded = await seed_article(app_pool, tenant.tenant_id, ids["pipeline"], ids["run"])
    ids["article"], ids["post"] = str(seeded["article"]), str(seeded["post"])
    w = await client.post("/v1/webhooks", headers=h, json={"url": "http://127.0.0.1:9/hook"})
    assert w.status_code == 201, w.text
    ids["webhook"] = w.json()["id"]
    ids.update(await seed_delivery_and_sample(app_pool, tenant.tenant_id, ids["webhook"]))
    th = await client.post("/v1/engagement-thresholds", headers=h, json={"metric": "likes", "value": 10})
    assert th.status_code == 201, th.text
    ids["threshold"] = th.json()["id"]
    model_key = f"sk-victim-{uuid.uuid4().hex}"
    remember(model_key)
    mk = await client.put("/v1/model-keys/claude", headers=h, json={"key": model_key, "verify": False})
    assert mk.status_code == 201, mk.text
    return ids


async def _snapshot(client: httpx.AsyncClient, t: TenantHandle, ids: dict[str, str]) -> dict[str, Any]:
    paths = {
        "user": f"/v1/users/{ids['user']}",
        "key": f"/v1/api-keys/{ids['key']}",
        "credential": f"/v1/credentials/{ids['credential']}",
        "pipeline": f"/v1/pipelines/{ids['pipeline']}",
        "run": f"/v1/runs/{ids['run']}",
        "article": f"/v1/articles/{ids['article']}",
        "post": f"/v1/posts/{ids['post']}",
        "runs": f"/v1/pipelines/{ids['pipeline']}/runs",
        "webhook": f"/v1/webhooks/{ids['webhook']}",
        "delivery": f"/v1/webhooks/{ids['webhook']}/deliveries/{ids['delivery']}",
        "sample": f"/v1/brand-voice/samples/{ids['sample']}",
        "metrics": f"/v1/posts/{ids['post']}/metrics",
        "thresholds": "/v1/engagement-thresholds",
        "model_keys": "/v1/model-keys",
    }
    out = {}
    for name, path in paths.items():
        r = await client.get(path, headers=t.h)
        assert r.status_code == 200, (name, r.text)
        out[name] = r.json()
    out["key"].pop("last_used_at")
    return out


def test_attack_table_covers_every_id_route(gw_app: FastAPI) -> None:
    schema = gw_app.openapi()
    id_routes = {(m.upper(), p) for p, ops in schema["paths"].items() if "{" in p for m in ops}
    id_routes -= NOT_ID_ROUTES
    assert id_routes == {(m, p) for m, p, _, _ in ATTACKS}


async def test_cross_tenant_ids_are_404_and_change_nothing(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, victim: dict[str, str]
) -> None:
    before = await _snapshot(client, tenant, victim)
    for method, path, _, body in ATTACKS:
        url = victim_url(path, victim)
        r = await client.request(method, url, headers=other.h, json=body)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # Filters with the victim's ids find nothing either.
    for url in (
        f"/v1/articles?pipeline_id={victim['pipeline']}",
        f"/v1/articles?run_id={victim['run']}",
        f"/v1/posts?article_id={victim['article']}",
        f"/v1/costs?group_by=run&pipeline_id={victim['pipeline']}",
        f"/v1/costs?group_by=run&run_id={victim['run']}",
        f"/v1/costs?group_by=article&article_id={victim['article']}",
    ):
        r = await client.get(url, headers=other.h)
        assert r.status_code == 200 and r.json()["items"] == []
    # Targeting the victim's connected account is refused.
    r = await client.post(
        "/v1/pipelines",
        headers=other.h,
        json={"name": "p", "sheet_id": sheet(), "targets": [{"platform": "x", "account_id": "acct-x"}]},
    )
    assert r.status_code == 422
    assert (await client.get("/v1/quotas", headers=other.h)).json() == []
    # The same provider's key routes reach only the caller's own key.
    assert (await client.delete("/v1/model-keys/claude", headers=other.h)).status_code == 404
    assert (await client.post("/v1/model-keys/claude/resume", headers=other.h)).status_code == 404
    assert (await client.get("/v1/model-keys/claude", headers=other.h)).json()["state"] == "not_set"
    after = await _snapshot(client, tenant, victim)
    assert after == before


async def test_cross_tenant_api_key_cannot_reach_victim(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, victim: dict[str, str]
) -> None:
    k = (
        await client.post("/v1/api-keys", headers=other.h, json={"name": "a", "scopes": ["read", "write"]})
    ).json()
    remember(k["key"])
    for method, path, _, body in ATTACKS:
        if path.startswith(("/v1/users", "/v1/api-keys")) or (
            path.startswith("/v1/credentials")
            and method != "GET"
            or path.startswith("/v1/webhooks")
            and method in ("PATCH", "DELETE")
        ):
            continue  # admin-only routes: an API key is refused before any lookup (403)
        url = victim_url(path, victim)
        r = await client.request(method, url, headers={"X-API-Key": k["key"]}, json=body)
        assert r.status_code == 404, (method, url, r.status_code)
    assert (await client.get(f"/v1/pipelines/{victim['pipeline']}", headers=tenant.h)).json()[
        "name"
    ] == "victim"


def _b64(d: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


async def test_forged_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings, tenant: TenantHandle, other: TenantHandle
) -> None:
    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    header, payload, sig = tenant.access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    good = {
        "iss": "icop",
        "aud": "icop-api",
        "sub": tenant.user_id,
        "tenant": tenant.tenant_id,
        "sid": claims["sid"],  # the login session of tenant's sign-in
        "role": "admin",
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    # Sanity: the same claims signed correctly are accepted, so each refusal below is about one flaw.
    assert (
        await client.get(
            "/v1/tenant", headers={"Authorization": "Bearer " + jwt.encode(good, secret, "HS256")}
        )
    ).status_code == 200
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(good)}.",
        "alg none with sig": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(good)}.{sig}",
        "wrong key": jwt.encode(good, "x" * 48, "HS256"),
        "HS512 (not pinned alg)": jwt.encode(good, secret, "HS512"),
        "expired": jwt.encode(good | {"iat": now - 7200, "exp": now - 3600}, secret, "HS256"),
        "wrong audience": jwt.encode(good | {"aud": "someone-else"}, secret, "HS256"),
        "wrong issuer": jwt.encode(good | {"iss": "evil"}, secret, "HS256"),
        "no tenant": jwt.encode({k: v for k, v in good.items() if k != "tenant"}, secret, "HS256"),
        "no session": jwt.encode({k: v for k, v in good.items() if k != "sid"}, secret, "HS256"),
        "another session": jwt.encode(good | {"sid": str(uuid.uuid4())}, secret, "HS256"),
        "another tenant's user": jwt.encode(good | {"tenant": other.tenant_id}, secret, "HS256"),
        "refresh typ": jwt.encode(good | {"typ": "refresh"}, secret, "HS256"),
        "tenant claim altered": f"{header}.{_b64(claims | {'tenant': other.tenant_id})}.{sig}",
        "role claim altered": f"{header}.{_b64(claims | {'role': 'admin', 'exp': now + 99999})}.{sig}",
        "garbage": "not.a.jwt",
    }
    for name, token in forged.items():
        r = await client.get("/v1/tenant", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert (
            r.headers["content-type"].startswith("application/problem+json") and r.headers["www-authenticate"]
        )
    assert (await client.get("/v1/tenant")).status_code == 401


async def test_swapped_ciphertext_is_refused(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other: TenantHandle,
    settings: Settings,
    app_pool: asyncpg.Pool,
    owner_conn: asyncpg.Connection,
) -> None:
    vault = Vault.from_spec(settings.vault_keys.get_secret_value())
    ids, tokens = {}, {}
    for t in (tenant, other):
        tokens[t.tenant_id] = f"secret-{uuid.uuid4().hex}"
        remember(tokens[t.tenant_id])
        r = await client.post(
            "/v1/credentials",
            headers=t.h,
            json={"platform": "instagram", "account_id": "same", "access_token": tokens[t.tenant_id]},
        )
        assert r.status_code == 201 and tokens[t.tenant_id] not in r.text
        ids[t.tenant_id] = UUID(r.json()["id"])
    a, b = UUID(tenant.tenant_id), UUID(other.tenant_id)
    # The attacker (with database write access) copies A's ciphertext into B's row.
    await owner_conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(a))
    stolen = await owner_conn.fetchval(
        "SELECT access_token_enc FROM api_credentials WHERE id = $1", ids[str(a)]
    )
    assert tokens[str(a)].encode() not in stolen
    await owner_conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(b))
    await owner_conn.execute(
        "UPDATE api_credentials SET access_token_enc = $2 WHERE id = $1", ids[str(b)], stolen
    )
    async with tenant_tx(app_pool, b) as conn:
        with pytest.raises(DecryptionRefused) as e:
            await read_credential_secrets(conn, vault, b, ids[str(b)])
    assert tokens[str(a)] not in str(e.value)
    async with tenant_tx(app_pool, a) as conn:
        own = await read_credential_secrets(conn, vault, a, ids[str(a)])
    assert own is not None and own.access_token == tokens[str(a)]
    # The API still answers for B's account without leaking anything.
    r = await client.get(f"/v1/credentials/{ids[str(b)]}", headers=other.h)
    assert r.status_code == 200 and "token" not in json.dumps(r.json())


async def test_no_tenant_set_sees_nothing(app_pool: asyncpg.Pool, victim: dict[str, str]) -> None:
    async with app_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM content_pipelines") == 0
        assert await conn.fetchval("SELECT count(*) FROM rate_limit_counters") == 0


# ---- a sheet belongs to the tenant that connected it first ---------------------------------------------


async def test_another_tenants_sheet_is_refused_with_409(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle
) -> None:
    """Tenant B may not point a pipeline at tenant V's sheet: not at creation, not by a change."""
    sid = sheet()
    v = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "plan", "sheet_id": sid})
    assert v.status_code == 201, v.text
    r = await client.post("/v1/pipelines", headers=other.h, json={"name": "steal", "sheet_id": sid})
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith("this sheet is connected to another account")
    assert tenant.tenant_id not in r.text and tenant.email not in r.text  # nothing about whose it is
    own = await client.post("/v1/pipelines", headers=other.h, json={"name": "own", "sheet_id": sheet()})
    assert own.status_code == 201
    r = await client.patch(f"/v1/pipelines/{own.json()['id']}", headers=other.h, json={"sheet_id": sid})
    assert r.status_code == 409, r.text
    assert (await client.get(f"/v1/pipelines/{own.json()['id']}", headers=other.h)).json()["sheet_id"] != sid
    # The owner keeps using it: a second pipeline on the same sheet is fine.
    again = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "second", "sheet_id": sid})
    assert again.status_code == 201, again.text


async def test_the_database_refuses_a_pipeline_on_another_tenants_sheet(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    """Below the API too (a command, a script, a bug): the sheet's binding is checked by the database."""
    sid = sheet()
    assert (
        await client.post("/v1/pipelines", headers=tenant.h, json={"name": "p", "sheet_id": sid})
    ).status_code == 201
    with pytest.raises(asyncpg.PostgresError) as e:
        async with tenant_tx(app_pool, UUID(other.tenant_id)) as conn:
            await conn.execute(
                "INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id) "
                "VALUES ($1, 'x', 'sheet', $2)",
                UUID(other.tenant_id),
                sid,
            )
    assert "connected to another account" in str(e.value)


async def test_write_back_never_writes_into_another_tenants_sheet(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool,
    settings: Settings,
) -> None:  # fmt: skip
    """The run's sheet activities check the binding: B's run cannot read or mark V's rows."""
    from temporalio.exceptions import ApplicationError

    from cluster.sheet_pipeline import connect_google, google_email
    from emulators.client import EmulatorAdmin
    from icop.google.access import GoogleAccess
    from icop.vault import Vault
    from workflows.activities.planning import PlanningActivities
    from workflows.types import PipelineConfig, SheetCells, SheetWriteInput

    sid = sheet()
    rows = [["topic", "notes", "language", "status", "result"], ["Embargoed launch", "", "en", "", ""]]
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    owner = google_email(UUID(tenant.tenant_id))
    try:
        admin.seed_sheet(sid, {"ContentPlan": rows}, owner=owner)
        await connect_google(settings, app_pool, UUID(tenant.tenant_id), owner)
        created = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "p", "sheet_id": sid})
        assert created.status_code == 201
        access = GoogleAccess(app_pool, Vault.from_spec(settings.vault_keys.get_secret_value()), settings)
        acts = PlanningActivities(app_pool, access, planner=None, store=None)  # type: ignore[arg-type]
        cells = [SheetCells("ContentPlan!D2:E2", [["done", "https://attacker.example/x"]], [["", ""]])]
        config, run = PipelineConfig(sheet_id=sid), str(uuid.uuid4())

        def write(tenant_id: str) -> SheetWriteInput:
            return SheetWriteInput(tenant_id, created.json()["id"], run, 2, config, cells)

        with pytest.raises(ApplicationError) as e:
            await acts.write_sheet(write(other.tenant_id))
        assert e.value.non_retryable and "connected to another account" in str(e.value)
        assert admin.read_sheet(sid)["ContentPlan"] == rows  # nothing written
        # The owner's write-back works.
        assert await acts.write_sheet(write(tenant.tenant_id)) == 2
    finally:
        admin.close()


def test_demo_sheet_ids_are_unpredictable() -> None:
    from cluster.demo import demo_sheet_id

    ids = {demo_sheet_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= len("demo-plan-") + 32 for i in ids)
