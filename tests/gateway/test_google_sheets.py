"""Picking a plan from the tenant's own Google account through the public API, against the Google OAuth,
Drive and Sheets emulators: each tenant lists only the spreadsheets its own Google identity owns or was
given; a sheet's plan is checked (problems per row, the Subtopics tab) as that identity, exactly as a run
would read it; a sheet the identity was not given, a missing sheet or no Google identity at all say what to
do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from emulators.client import EmulatorAdmin, google_consent
from icop.google.oauth import SHEETS_SCOPE
from icop.settings import Settings

from .conftest import TenantHandle, remember, sheet
from .test_google_connect import start

HEADER = ["topic", "notes", "language", "status", "result"]
SUBTOPICS = {"Subtopics": [["row", "topic", "sub-topic", "status", "url"]]}


@pytest.fixture
def admin(settings: Settings) -> Iterator[EmulatorAdmin]:
    a = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    yield a
    a.close()


async def connect_google(client: httpx.AsyncClient, t: TenantHandle, settings: Settings) -> str:
    """The tenant connects a Google account of its own through the consent page; returns its e-mail."""
    email = f"plans-{t.tenant_id[:8]}@gmail.example"
    answer = await asyncio.to_thread(google_consent, await start(client, t, settings), email)
    remember(answer["code"])
    r = await client.post("/v1/credentials/oauth/google/callback", headers=t.h, json=answer)
    assert r.status_code == 200, r.text
    return email


async def test_each_tenant_lists_only_its_own_spreadsheets(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, settings: Settings,
    admin: EmulatorAdmin,
) -> None:  # fmt: skip
    mine, theirs = (
        await connect_google(client, tenant, settings),
        await connect_google(client, other, settings),
    )
    old, new, shared, private = sheet(), sheet(), sheet(), sheet()
    admin.seed_sheet(old, SUBTOPICS, owner=mine, title="Plan 2025", modified_time="2025-02-01T08:00:00Z")
    admin.seed_sheet(new, SUBTOPICS, owner=mine, title="플랜 2026", modified_time="2026-01-10T08:00:00Z")
    admin.seed_sheet(shared, SUBTOPICS, owner="boss@corp.example", shared_with=[mine],
                     title="Team plan", modified_time="2025-11-30T23:59:00Z")  # fmt: skip
    admin.seed_sheet(private, SUBTOPICS, owner=theirs, title="Other company's plan")

    r = await client.get("/v1/google/spreadsheets", headers=tenant.h, params={"limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["google_email"] == mine
    assert [(s["id"], s["name"]) for s in page["items"]] == [(new, "플랜 2026"), (shared, "Team plan")]
    assert page["items"][0]["modified_time"].startswith("2026-01-10T08:00:00")
    assert page["items"][0]["url"] == f"https://docs.google.com/spreadsheets/d/{new}/edit"
    assert page["next_cursor"]
    r = await client.get(
        "/v1/google/spreadsheets", headers=tenant.h, params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [s["id"] for s in r.json()["items"]] == [old] and r.json()["next_cursor"] is None

    theirs_listed = (await client.get("/v1/google/spreadsheets", headers=other.h)).json()
    assert theirs_listed["google_email"] == theirs
    assert [s["id"] for s in theirs_listed["items"]] == [private]

    r = await client.get("/v1/google/spreadsheets", headers=tenant.h, params={"cursor": "not-a-token"})
    assert r.status_code == 422 and "list from the start" in r.json()["detail"]

    who = (await client.get("/v1/google/identity", headers=tenant.h)).json()
    assert who == {"connected": True, "kind": "account", "email": mine, "status": "active",
                   "status_reason": None, "can_list_spreadsheets": True}  # fmt: skip


async def test_a_sheet_preview_shows_each_rows_problems_and_the_subtopics_tab(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings, admin: EmulatorAdmin
) -> None:
    email = await connect_google(client, tenant, settings)
    rows = [
        HEADER,
        ["Home coffee", "for beginners", "en", ""],
        ['=HYPERLINK("x")', "", "en", ""],
        ["", "notes without a topic", "", ""],
        ["제주도 여행", "", "ko", "done"],
        ["Cold brew", "", "xx", ""],
    ]
    plan, bare = sheet(), sheet()
    admin.seed_sheet(plan, {"ContentPlan": rows, **SUBTOPICS}, owner=email, title="Plan")
    admin.seed_sheet(bare, {"ContentPlan": rows[:2]}, owner=email, title="No Subtopics tab")

    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=tenant.h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["rows"], got["pending"], got["has_subtopics_tab"]) == (2, 1, True)
    assert (got["sheet_id"], got["range"], got["google_email"]) == (plan, "ContentPlan!A2:E", email)
    assert [(p["row_number"], p["column"]) for p in got["problems"]] == [(3, "A"), (4, "A"), (6, "C")]
    assert "would run as a formula" in got["problems"][0]["reason"]
    assert "the topic is empty" in got["problems"][1]["reason"]
    assert "unknown language 'xx'" in got["problems"][2]["reason"]
    preview = {p["row_number"]: p for p in got["preview"]}
    assert list(preview) == [2, 3, 4, 5, 6]
    assert (
        preview[2]["problems"] == []
        and preview[5]["status"] == "done"
        and preview[5]["topic"] == "제주도 여행"
    )
    assert [p["column"] for p in preview[6]["problems"]] == ["C"]

    r = await client.get(f"/v1/google/spreadsheets/{bare}/preview", headers=tenant.h)
    assert r.status_code == 200 and r.json()["has_subtopics_tab"] is False and r.json()["rows"] == 1

    # Another range: its first row numbers the rows; a tab that is not there, or no range at all, says so.
    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=tenant.h,
                         params={"range": "ContentPlan!A5:E"})  # fmt: skip
    assert [p["row_number"] for p in r.json()["preview"]] == [5, 6]
    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=tenant.h,
                         params={"range": "Plan!A2:E"})  # fmt: skip
    assert r.status_code == 422 and "the sheet has no tab Plan" in r.json()["detail"]
    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=tenant.h, params={"range": "A2"})
    assert r.status_code == 422 and "is not a range like 'ContentPlan!A2:E'" in r.json()["detail"]


async def test_a_sheet_not_shared_names_the_email_to_share_it_with(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, settings: Settings,
    admin: EmulatorAdmin,
) -> None:  # fmt: skip
    mine, theirs = (
        await connect_google(client, tenant, settings),
        await connect_google(client, other, settings),
    )
    plan = sheet()
    admin.seed_sheet(plan, {"ContentPlan": [HEADER, ["Matcha", "", "en", ""]], **SUBTOPICS}, owner=mine)

    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=other.h)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "Sheet not shared with your Google account"
    assert f"share the sheet with {theirs} (Share → Editor)" in r.json()["detail"]
    assert "Matcha" not in r.text

    missing = await client.get(f"/v1/google/spreadsheets/{sheet()}-gone/preview", headers=tenant.h)
    assert missing.status_code == 404 and "Google has no spreadsheet" in missing.json()["detail"]
    bad_id = await client.get("/v1/google/spreadsheets/a%2Fb/preview", headers=tenant.h)
    assert bad_id.status_code in (404, 422)


async def test_without_google_the_answer_is_connect_google_first(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await client.get("/v1/google/identity", headers=tenant.h)).json() == {
        "connected": False, "kind": None, "email": None, "status": None, "status_reason": None,
        "can_list_spreadsheets": False,
    }  # fmt: skip
    for url in ("/v1/google/spreadsheets", f"/v1/google/spreadsheets/{sheet()}/preview"):
        r = await client.get(url, headers=tenant.h)
        assert r.status_code == 409, r.text
        assert r.json()["title"] == "Google not connected" and "connect Google first" in r.json()["detail"]


async def test_an_account_without_the_file_list_permission_can_still_preview(
    client: httpx.AsyncClient, tenant: TenantHandle, settings: Settings, admin: EmulatorAdmin
) -> None:
    """An account connected with the Sheets permission only (before ICOP asked for the list, or unticked on
    Google's consent page): the list says connect again or enter the link; the preview works."""
    email = f"sheets-only-{tenant.tenant_id[:8]}@gmail.example"
    assert settings.google_client_secret is not None
    redirect = "http://127.0.0.1/callback"
    q = httpx.QueryParams(client_id=settings.google_client_id or "", redirect_uri=redirect,
                          response_type="code", scope=f"openid email {SHEETS_SCOPE}",
                          access_type="offline")  # fmt: skip
    answer = await asyncio.to_thread(google_consent, f"{settings.google_authorize_url}?{q}", email)
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        tokens = (
            await http.post(settings.google_token_uri, data={
                "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect,
                "client_id": settings.google_client_id,
                "client_secret": settings.google_client_secret.get_secret_value()})
        ).json()  # fmt: skip
    remember(tokens["access_token"], tokens["refresh_token"])
    r = await client.post("/v1/credentials", headers=tenant.h, json={
        "platform": "google", "account_id": "1" + tenant.tenant_id[:8], "account_name": email,
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "scopes": tokens["scope"].split(), "expires_at": "2099-01-01T00:00:00Z"})  # fmt: skip
    assert r.status_code == 201, r.text

    assert (await client.get("/v1/google/identity", headers=tenant.h)).json()[
        "can_list_spreadsheets"
    ] is False
    listed = await client.get("/v1/google/spreadsheets", headers=tenant.h)
    assert listed.status_code == 409 and listed.json()["title"] == "Google permission missing"
    assert f"the Google account {email} has not allowed ICOP to see its list" in listed.json()["detail"]
    assert "enter the sheet's link" in listed.json()["detail"]

    plan = sheet()
    admin.seed_sheet(plan, {"ContentPlan": [HEADER, ["Matcha", "", "en", ""]], **SUBTOPICS}, owner=email)
    r = await client.get(f"/v1/google/spreadsheets/{plan}/preview", headers=tenant.h)
    assert r.status_code == 200 and r.json()["rows"] == 1


async def test_a_service_account_lists_the_sheets_shared_with_it(
    client: httpx.AsyncClient, tenant: TenantHandle, admin: EmulatorAdmin
) -> None:
    key = admin.google_service_account(f"picker-{tenant.tenant_id[:8]}")
    remember(key["private_key"])
    r = await client.post("/v1/credentials/google/service-account", headers=tenant.h, json={"key": key})
    assert r.status_code == 201, r.text
    sa = key["client_email"]
    who = (await client.get("/v1/google/identity", headers=tenant.h)).json()
    assert (who["kind"], who["email"], who["can_list_spreadsheets"]) == ("service_account", sa, True)
    shared, unshared = sheet(), sheet()
    admin.seed_sheet(shared, SUBTOPICS, owner="boss@corp.example", shared_with=[sa], title="Shared with SA")
    admin.seed_sheet(unshared, SUBTOPICS, owner="boss@corp.example", title="Not shared")
    page = (await client.get("/v1/google/spreadsheets", headers=tenant.h)).json()
    assert [s["id"] for s in page["items"]] == [shared] and page["google_email"] == sa
    r = await client.get(f"/v1/google/spreadsheets/{unshared}/preview", headers=tenant.h)
    assert r.status_code == 403 and f"share the sheet with {sa}" in r.json()["detail"]
