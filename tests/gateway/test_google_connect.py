"""Connecting a tenant's Google account through the public API, as the dashboard does: the authorize URL
(PKCE, offline access, the Sheets scope), the Google emulator's consent page, the callback. The account is
stored (tokens encrypted, never returned) and does not count as a publishing account."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx

from emulators.client import google_consent
from icop.settings import Settings

from .conftest import TenantHandle, remember


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
