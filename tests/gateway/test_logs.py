"""No token or secret in any log line of the test run (marked ``audit``, so it runs after the others).

Every secret the tests handled (passwords, access and refresh tokens, API keys, platform tokens) was
recorded by ``remember``; the root logger captured every record at DEBUG, and gateway processes
started by tests wrote their logs to files. Run alone, this test makes its own traffic first.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from .conftest import LOG, LOG_FILES, SECRETS, TenantHandle, remember

pytestmark = pytest.mark.audit


async def test_no_secret_in_any_log(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    login = (
        await client.post("/v1/auth/login", json={"email": tenant.email, "password": tenant.password})
    ).json()
    refreshed = (await client.post("/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})).json()
    await client.post(
        "/v1/auth/refresh", json={"refresh_token": login["refresh_token"]}
    )  # reuse: logs a warning
    key = (await client.post("/v1/api-keys", headers=tenant.h, json={"name": "log"})).json()["key"]
    platform_token = f"EAAB-platform-token-{uuid.uuid4().hex}"
    await client.post(
        "/v1/credentials",
        headers={"X-API-Key": key},
        json={"platform": "x", "account_id": "a", "access_token": platform_token},
    )
    await client.post(
        "/v1/credentials",
        headers=tenant.h,
        json={"platform": "x", "account_id": "a", "access_token": platform_token, "refresh_token": key},
    )
    await client.post("/v1/auth/login", json={"email": tenant.email, "password": platform_token})
    remember(
        login["access_token"],
        login["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        key,
        platform_token,
    )

    texts = {"in-process": LOG.getvalue()}
    texts.update({str(p): p.read_text(errors="replace") for p in LOG_FILES if p.exists()})
    combined = "\n".join(texts.values())
    # The capture works: requests and auth events were logged (so an empty log cannot pass this test).
    assert "icop.gateway.access" in combined and "POST /v1/auth/login" in combined
    assert "refresh token reuse" in combined and "signed up" in combined
    assert len(SECRETS) >= 8
    leaks = sorted({(where, s[:12] + "…") for s in SECRETS for where, text in texts.items() if s in text})
    assert not leaks, f"secrets found in logs: {leaks}"
