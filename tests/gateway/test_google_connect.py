"""Connecting a tenant's Google account through the public API, as the dashboard does: the authorize URL
(PKCE, offline access, the Sheets scope), the Google emulator's consent page, the callback. The account is
stored (tokens encrypted, never returned). A service account's key is the alternative: checked, stored
encrypted, and the answer names the e-mail to share the sheets with."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import asyncpg
import httpx
import pytest

from emulators.client import EmulatorAdmin, google_consent
from icop.google.access import GoogleAccess, SheetNotShared
from icop.settings import Settings
from icop.vault import Vault

from .conftest import TenantHandle, remember, sheet


def redirect_uri(settings: Settings) -> str:
    return f"http://{settings.bind_host}:{settings.dashboard_port}/settings/accounts/callback/google"


async def start(client: httpx.AsyncClient, t: TenantHandle, settings: Settings) -> str:
    r = await client.post(
        "/v1/credentials/oauth/google/start", headers=t.h, json={"redirect_uri": redirect_uri(settings)}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["authorize_url"])


async def test_google_connects_through_the_consent_page(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings
) -> None:
    url = await start(client, tenant, settings)
    q = parse_qs(urlsplit(url).query)
    assert q["access_type"] == ["offline"] and q["code_challenge_method"] == ["S256"]
    assert "https://www.googleapis.com/auth/spreadsheets" in q["scope"][0].split()
    assert "code_verifier" not in url  # the verifier stays inside the sealed state

    email = f"owner-{tenant.tenant_id[:8]}@gmail.example"
    answer = await asyncio.to_thread(google_consent, url, email)
    remember(answer["code"])
    r = await client.post("/v1/credentials/oauth/google/callback", headers=tenant.h, json=answer)
    assert r.status_code == 200, r.text
    [account] = r.json()
    assert account["platform"] == "google" and account["account_name"] == email
    assert account["status"] == "active" and "access_token" not in r.text and "refresh" not in r.text
    assert "https://www.googleapis.com/auth/spreadsheets" in account["scopes"]

    # A second consent of the same account replaces its tokens (no second row).
    answer = await asyncio.to_thread(google_consent, await start(client, tenant, settings), email)
    remember(answer["code"])
    again = await client.post("/v1/credentials/oauth/google/callback", headers=tenant.h, json=answer)
    assert again.status_code == 200 and again.json()[0]["id"] == account["id"]
    listed = (await client.get("/v1/credentials?platform=google", headers=tenant.h)).json()
    assert [c["id"] for c in listed] == [account["id"]]


async def test_a_cancelled_google_consent_says_what_to_do(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings
) -> None:
    url = await start(client, tenant, settings)
    answer = await asyncio.to_thread(google_consent, url, "someone@gmail.example", allow=False)
    assert answer["error"] == "access_denied"
    r = await client.post("/v1/credentials/oauth/google/callback", headers=tenant.h, json=answer)
    assert r.status_code == 400
    assert "cancelled at Google" in r.json()["detail"] and "choose Allow" in r.json()["detail"]


async def test_a_service_account_key_is_checked_stored_and_used(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings, app_pool: asyncpg.Pool
) -> None:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    try:
        key = admin.google_service_account(f"plans-{tenant.tenant_id[:8]}")
        sa = key["client_email"]
        remember(key["private_key"])
        r = await client.post("/v1/credentials/google/service-account", headers=tenant.h, json={"key": key})
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["share_with"] == sa and f"add {sa} as Editor" in out["instructions"]
        assert out["credential"]["platform"] == "google_service_account" and "PRIVATE KEY" not in r.text

        # Runs read the sheets shared with the service account, as that account (an RS256 JWT-bearer grant
        # verified by the emulator with the key's public part), and only those.
        shared, private = sheet(), sheet()
        admin.seed_sheet(
            shared, {"ContentPlan": [["topic"], ["Matcha"]]}, owner="boss@corp.example", shared_with=[sa]
        )
        admin.seed_sheet(private, {"ContentPlan": [["topic"], ["Salaries"]]}, owner="boss@corp.example")
        access = GoogleAccess(app_pool, Vault.from_spec(settings.vault_keys.get_secret_value()), settings)
        sheets = await access.sheets_for(UUID(tenant.tenant_id))
        assert await sheets.get_values(shared, "ContentPlan!A2:A") == [["Matcha"]]
        with pytest.raises(SheetNotShared, match=f"share the sheet with {sa}"):
            await sheets.get_values(private, "ContentPlan!A2:A")
    finally:
        admin.close()


async def test_a_bad_service_account_key_is_refused_with_what_to_do(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    url = "/v1/credentials/google/service-account"
    not_a_key = {"type": "authorized_user", "client_id": "x"}
    r = await client.post(url, headers=tenant.h, json={"key": not_a_key})
    assert r.status_code == 422 and '"type" must be "service_account"' in r.json()["detail"]
    assert "Add key → JSON" in r.json()["detail"]
    armour = "-----BEGIN " + "PRIVATE KEY-----"  # split: a PEM header around no key, not a secret to flag
    pem = f"{armour}\nnope\n-----END PRIVATE KEY-----\n"
    broken = {"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com",
              "private_key_id": "ab" * 20, "private_key": pem}  # fmt: skip
    r = await client.post(url, headers=tenant.h, json={"key": broken})
    assert r.status_code == 422 and "not a PEM private key" in r.json()["detail"]
    # The generic endpoint takes no service-account keys (they would skip the checks).
    r = await client.post(
        "/v1/credentials",
        headers=tenant.h,
        json={
            "platform": "google_service_account",
            "account_id": "a@p.iam.gserviceaccount.com",
            "access_token": "{}",
        },
    )
    assert r.status_code == 422 and "/v1/credentials/google/service-account" in r.json()["detail"]


async def test_a_pipeline_paused_for_google_says_why_until_it_is_resumed(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    from icop.db import tenant_tx

    r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "plan", "sheet_id": sheet()})
    assert r.status_code == 201 and r.json()["status_reason"] is None
    pid = r.json()["id"]
    reason = "Google access for a@gmail.example was revoked or has expired (…); reconnect Google"
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:  # as GoogleAccess.revoked pauses it
        await conn.execute(
            "UPDATE content_pipelines SET status = 'paused', status_reason = $2 WHERE id = $1",
            UUID(pid),
            reason,
        )
    got = (await client.get(f"/v1/pipelines/{pid}", headers=tenant.h)).json()
    assert (got["status"], got["status_reason"]) == ("paused", reason)
    renamed = await client.patch(f"/v1/pipelines/{pid}", headers=tenant.h, json={"name": "plan 2"})
    assert renamed.json()["status_reason"] == reason  # still paused: the reason stays
    resumed = await client.patch(f"/v1/pipelines/{pid}", headers=tenant.h, json={"status": "active"})
    assert resumed.status_code == 200 and resumed.json()["status_reason"] is None


async def test_disconnecting_google_gives_the_grant_back(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings, app_pool: asyncpg.Pool
) -> None:
    from icop.db import tenant_tx
    from icop.vault import read_credential_secrets

    answer = await asyncio.to_thread(
        google_consent, await start(client, tenant, settings), "leaver@gmail.example"
    )
    [account] = (
        await client.post("/v1/credentials/oauth/google/callback", headers=tenant.h, json=answer)
    ).json()
    vault = Vault.from_spec(settings.vault_keys.get_secret_value())
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        secrets = await read_credential_secrets(conn, vault, UUID(tenant.tenant_id), UUID(account["id"]))
    assert secrets is not None and secrets.refresh_token
    remember(secrets.refresh_token, secrets.access_token)

    r = await client.delete(f"/v1/credentials/{account['id']}", headers=tenant.h)
    assert r.status_code == 204
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        refused = await http.post(
            settings.google_token_uri,
            data={"grant_type": "refresh_token", "refresh_token": secrets.refresh_token,
                  "client_id": settings.google_client_id,
                  "client_secret": settings.google_client_secret.get_secret_value()},  # type: ignore[union-attr]
        )  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
