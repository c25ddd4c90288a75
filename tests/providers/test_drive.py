"""``google-api-python-client``'s Drive v3 (static discovery, endpoint from settings, credentials always
passed) against the Drive emulator: a Google identity lists the spreadsheets it owns or was given, newest
first, page by page; the emulator speaks Drive's own shape (``q``, ``fields``, ``orderBy``, page tokens,
errors) and checks the bearer token and its scopes as Google does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import google.oauth2.credentials
import httpx
import pytest

from emulators.client import EmulatorAdmin, google_consent
from icop.connectors.drive import SPREADSHEET_MIME, SPREADSHEETS_QUERY, make_drive
from icop.connectors.errors import ProviderError
from icop.google.oauth import DRIVE_LIST_SCOPE, GOOGLE_SCOPES, SHEETS_SCOPE
from icop.settings import Settings

TAB = {"ContentPlan": [["topic"], ["Matcha"]]}


async def token_for(settings: Settings, email: str, scopes: tuple[str, ...] = GOOGLE_SCOPES) -> str:
    """An access token of ``email`` for ``scopes``, through the Google emulator's consent page."""
    assert settings.google_client_secret is not None
    redirect = "http://127.0.0.1/callback"
    q = httpx.QueryParams(client_id=settings.google_client_id or "", redirect_uri=redirect,
                          response_type="code", scope=" ".join(scopes))  # fmt: skip
    answer = await asyncio.to_thread(google_consent, f"{settings.google_authorize_url}?{q}", email)
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        r = await http.post(
            settings.google_token_uri,
            data={"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect,
                  "client_id": settings.google_client_id,
                  "client_secret": settings.google_client_secret.get_secret_value()},
        )  # fmt: skip
    r.raise_for_status()
    return str(r.json()["access_token"])


def drive_as(settings: Settings, token: str) -> Any:
    creds = google.oauth2.credentials.Credentials(token=token)
    return make_drive(settings, creds)


def seed_books(admin: EmulatorAdmin) -> None:
    admin.seed_sheet("a-old", TAB, owner="alice@gmail.example", title="Plan 2024",
                     modified_time="2024-03-01T09:00:00Z")  # fmt: skip
    admin.seed_sheet("a-new", TAB, owner="alice@gmail.example", title="Plan 2026",
                     modified_time="2026-01-05T09:00:00Z")  # fmt: skip
    admin.seed_sheet("b-shared", TAB, owner="bob@corp.example", shared_with=["Alice@gmail.example"],
                     title="Team plan", modified_time="2025-06-01T12:30:00.250Z")  # fmt: skip
    admin.seed_sheet("b-own", TAB, owner="bob@corp.example", title="Bob's private plan")
    admin.seed_sheet("by-link", TAB, title="Anyone with the link")  # in nobody's Drive
    admin.seed_sheet("a-bin", TAB, owner="alice@gmail.example", title="Old draft", trashed=True)


async def test_an_identity_lists_its_own_and_shared_spreadsheets_newest_first(
    emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    seed_books(admin)
    drive = drive_as(emu_settings, await token_for(emu_settings, "alice@gmail.example"))
    first = await drive.list_spreadsheets(page_size=2)
    assert [(f.id, f.name) for f in first.files] == [("a-new", "Plan 2026"), ("b-shared", "Team plan")]
    assert first.files[0].modified_time == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert first.files[1].modified_time == datetime(2025, 6, 1, 12, 30, 0, 250_000, tzinfo=UTC)
    assert first.next_page_token
    second = await drive.list_spreadsheets(page_size=2, page_token=first.next_page_token)
    assert [f.id for f in second.files] == ["a-old"] and second.next_page_token is None  # trash left out

    bob = drive_as(emu_settings, await token_for(emu_settings, "bob@corp.example"))
    assert {f.id for f in (await bob.list_spreadsheets()).files} == {"b-shared", "b-own"}

    [call] = [e for e in admin.requests("drive") if e["meta"].get("identity") == "alice@gmail.example"][:1]
    assert call["path"].startswith("/drive/v3/files?") and "orderBy=modifiedTime+desc" in call["path"]


async def test_drive_shape_fields_queries_and_order(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    seed_books(admin)
    token = await token_for(emu_settings, "alice@gmail.example")
    url = f"{emu_settings.drive_api_endpoint}files"
    async with httpx.AsyncClient(
        trust_env=False, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as h:

        async def files(**params: str) -> Any:
            r = await h.get(url, params=params)
            assert r.status_code == 200, r.text
            return r.json()

        plain = await files(q=SPREADSHEETS_QUERY, orderBy="name")
        assert plain["kind"] == "drive#fileList" and plain["incompleteSearch"] is False
        assert plain["files"][0] == {"kind": "drive#file", "id": "a-old", "name": "Plan 2024",
                                     "mimeType": SPREADSHEET_MIME}  # fmt: skip
        assert [f["name"] for f in plain["files"]] == ["Plan 2024", "Plan 2026", "Team plan"]
        masked = await files(q="trashed = true", fields="files(id,owners/emailAddress,ownedByMe)")
        assert masked == {"files": [{"id": "a-bin", "owners": [{"emailAddress": "alice@gmail.example"}],
                                     "ownedByMe": True}]}  # fmt: skip
        shared = await files(q="not 'alice@gmail.example' in owners and trashed=false", fields="files/id")
        assert shared == {"files": [{"id": "b-shared"}]}
        either = await files(q="(name contains '2024' or sharedWithMe) and mimeType != 'text/csv'",
                             orderBy="createdTime desc,name", fields="*")  # fmt: skip
        assert {f["id"] for f in either["files"]} == {"a-old", "b-shared"}
        assert either["files"][0]["webViewLink"].startswith("https://docs.google.com/spreadsheets/d/")
        newer = await files(q="modifiedTime > '2025-01-01T00:00:00' and trashed = false", fields="files(id)")
        assert {f["id"] for f in newer["files"]} == {"a-new", "b-shared"}

        async def refused(**params: str) -> dict[str, Any]:
            r = await h.get(url, params=params)
            assert r.status_code == 400, (params, r.text)
            error: dict[str, Any] = r.json()["error"]
            return error

        bad_q = await refused(q="starred = maybe")
        assert bad_q["message"] == "Invalid Value" and bad_q["errors"][0]["location"] == "q"
        assert (await refused(pageSize="1001"))["errors"][0]["location"] == "pageSize"
        assert "Invalid field selection" in (await refused(fields="nope"))["message"]
        assert (await refused(orderBy="size desc"))["errors"][0]["location"] == "orderBy"
        assert (await refused(pageToken="garbage"))["errors"][0]["location"] == "pageToken"
        page = await files(q=SPREADSHEETS_QUERY, pageSize="1")
        other = await refused(q="trashed = true", pageSize="1", pageToken=page["nextPageToken"])
        assert other["errors"][0]["location"] == "pageToken"  # a token of another listing


async def test_tokens_and_scopes_are_checked(emu_settings: Settings, admin: EmulatorAdmin) -> None:
    seed_books(admin)
    url = f"{emu_settings.drive_api_endpoint}files"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as h:
        missing = await h.get(url)
        assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
        forged = await h.get(url, headers={"Authorization": "Bearer ya29.forged"})
        assert forged.status_code == 401 and forged.json()["error"]["errors"][0]["reason"] == "authError"

    sheets_only = await token_for(emu_settings, "alice@gmail.example", ("openid", "email", SHEETS_SCOPE))
    with pytest.raises(ProviderError) as refused:
        await drive_as(emu_settings, sheets_only).list_spreadsheets()
    assert refused.value.status == 403 and "insufficient authentication scopes" in refused.value.message

    narrow = await token_for(
        emu_settings, "alice@gmail.example", ("https://www.googleapis.com/auth/drive.file",)
    )
    assert (await drive_as(emu_settings, narrow).list_spreadsheets()).files == []  # no file opened with ICOP

    listed = await token_for(emu_settings, "alice@gmail.example", (DRIVE_LIST_SCOPE,))
    assert len((await drive_as(emu_settings, listed).list_spreadsheets()).files) == 3
    async with httpx.AsyncClient(trust_env=False, timeout=10) as h:  # the user removes the app's access
        r = await h.post(emu_settings.google_revoke_url, data={"token": listed})
        assert r.status_code == 200
    with pytest.raises(ProviderError) as gone:
        await drive_as(emu_settings, listed).list_spreadsheets()
    assert gone.value.kind == "auth"  # 401, and a bare token cannot be refreshed
