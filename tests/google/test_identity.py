"""Each tenant reads its sheets as its own Google account, connected through the Google OAuth emulator the
way a user connects (consent page, PKCE, offline access): the Sheets emulator checks the bearer token and the
sheet's sharing, google-auth refreshes tokens before they expire, and a revoked grant pauses that tenant's
sheet pipelines with a "reconnect Google" reason while the other tenants' go on."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
import pytest
from temporalio.exceptions import ApplicationError

from cluster.sheet_pipeline import SeededPipeline, connect_google, google_email, make_pipeline
from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.google.access import GoogleAccess, SheetNotShared
from icop.settings import Settings
from icop.vault import Vault
from workflows.activities.planning import PlanningActivities
from workflows.types import PlanSnapshot, ReadPlanInput

ROWS = [["Home coffee", "", "en", ""], ["Cold brew", "", "en", ""]]


def access_for(settings: Settings, pool: asyncpg.Pool) -> GoogleAccess:
    return GoogleAccess(pool, Vault.from_spec(settings.vault_keys.get_secret_value()), settings)


async def read_plan(acts: PlanningActivities, p: SeededPipeline) -> PlanSnapshot:
    return await acts.read_plan(ReadPlanInput(str(p.tenant_id), str(p.pipeline_id), str(p.run_id)))


async def pipeline_row(pool: asyncpg.Pool, p: SeededPipeline) -> asyncpg.Record:
    async with tenant_tx(pool, p.tenant_id) as conn:
        return await conn.fetchrow(
            "SELECT status, status_reason FROM content_pipelines WHERE id = $1", p.pipeline_id
        )


async def test_each_tenant_reads_only_its_own_sheet(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    a = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    b = await make_pipeline(app_pool, admin, [["Green tea", "", "en", ""]], settings=settings)
    access = access_for(settings, app_pool)
    acts = PlanningActivities(app_pool, access, planner=None, store=None)  # type: ignore[arg-type]  # read_plan plans nothing

    snap_a, snap_b = await read_plan(acts, a), await read_plan(acts, b)
    assert [r.topic for r in snap_a.pending] == ["Home coffee", "Cold brew"]
    assert [r.topic for r in snap_b.pending] == ["Green tea"]

    # B's Google account was never given A's sheet: the Sheets API itself refuses it, with a reason to act on.
    sheets_b = await access.sheets_for(b.tenant_id)
    with pytest.raises(SheetNotShared) as refused:
        await sheets_b.get_values(a.sheet_id, "ContentPlan!A1:E")
    email_b = google_email(b.tenant_id)
    assert refused.value.detail == (
        f"the Google account {email_b} has no access to sheet {a.sheet_id}; share the sheet with {email_b} "
        "(Share → Editor), or connect the Google account that owns it"
    )
    # … in Google's own error shape, and without any token at all it is 401, not the plan.
    token_b = sheets_b.cred.access_token
    url = f"http://{settings.bind_host}:{settings.emulator_port}/v4/spreadsheets/{a.sheet_id}/values/A1:E"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        r = await http.get(url, headers={"Authorization": f"Bearer {token_b}"})
        assert r.status_code == 403 and r.json() == {
            "error": {
                "code": 403,
                "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED",
            }
        }
        assert (await http.get(url)).json()["error"]["status"] == "UNAUTHENTICATED"

    # Pointing B's pipeline at A's sheet id is refused outright (the sheet is bound to A)…
    async with tenant_tx(app_pool, b.tenant_id) as conn:
        with pytest.raises(asyncpg.PostgresError, match="connected to another account"):
            await conn.execute(
                "UPDATE content_pipelines SET sheet_id = $1 WHERE id = $2", a.sheet_id, b.pipeline_id
            )
    # … and a sheet id nobody has bound yet, but shared with someone else, is refused by Google at run time.
    stranger_sheet = f"wf-{uuid.uuid4().hex[:10]}"
    admin.seed_sheet(stranger_sheet, {"ContentPlan": [["topic"], ["Secret plan"]]}, owner="ceo@rival.example")
    async with tenant_tx(app_pool, b.tenant_id) as conn:
        await conn.execute(
            "UPDATE content_pipelines SET sheet_id = $1 WHERE id = $2", stranger_sheet, b.pipeline_id
        )
    with pytest.raises(ApplicationError) as run_refused:
        await read_plan(acts, b)
    assert run_refused.value.non_retryable and "has no access to sheet" in str(run_refused.value)
    assert f"share the sheet with {google_email(b.tenant_id)}" in str(run_refused.value)


async def test_revoked_google_access_pauses_that_tenants_pipeline_only(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    a = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    b = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    acts = PlanningActivities(app_pool, access_for(settings, app_pool), planner=None, store=None)  # type: ignore[arg-type]
    assert len((await read_plan(acts, a)).pending) == 2

    assert admin.google_revoke(google_email(a.tenant_id)) == 1  # A removes ICOP in its Google account
    with pytest.raises(ApplicationError) as stopped:
        await read_plan(acts, a)
    assert stopped.value.non_retryable and "reconnect Google" in str(stopped.value)

    row = await pipeline_row(app_pool, a)
    assert row["status"] == "paused" and row["status_reason"].startswith(
        f"Google access for {google_email(a.tenant_id)} was revoked or has expired (Google answered "
        "invalid_grant); reconnect Google"
    )
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        cred = await conn.fetchrow(
            "SELECT status, status_reason FROM api_credentials WHERE platform = 'google'"
        )
        events = await conn.fetch(
            "SELECT type, payload FROM outbox WHERE tenant_id = $1 ORDER BY seq", a.tenant_id
        )
    assert cred["status"] == "needs_reauth" and "reconnect Google" in cred["status_reason"]
    by_type = {e["type"]: e["payload"] for e in events}
    assert by_type["pipeline.paused"]["pipeline_id"] == str(a.pipeline_id)
    assert by_type["credential.needs_reauth"]["platform"] == "google"
    # A's next run stops at once with the same reason, without asking Google again.
    with pytest.raises(ApplicationError, match="reconnect Google"):
        await read_plan(acts, a)

    # B goes on.
    assert len((await read_plan(acts, b)).pending) == 2
    assert (await pipeline_row(app_pool, b))["status"] == "active"

    # Reconnecting (a new consent) makes A's credential active again; resuming is the tenant's choice.
    await connect_google(settings, app_pool, a.tenant_id, google_email(a.tenant_id))
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        await conn.execute("UPDATE content_pipelines SET status = 'active' WHERE id = $1", a.pipeline_id)
    assert len((await read_plan(acts, a)).pending) == 2


async def test_tokens_are_refreshed_before_they_expire(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    """A back-fill longer than the access token's lifetime (4 s here): every read succeeds, none is refused
    for an expired token, and the refreshed token is what the vault holds."""
    admin.google_config(4)
    p = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    quick = settings.model_copy(update={"google_token_refresh_margin_s": 2})
    access = access_for(quick, app_pool)
    first = (await access.sheets_for(p.tenant_id)).cred.access_token
    before, since = admin.google_config()["refreshes"], admin.last_seq()
    t0 = time.monotonic()
    reads = 0
    while time.monotonic() - t0 < 10:
        sheets = await access.sheets_for(p.tenant_id)
        assert (await sheets.get_values(p.sheet_id, "ContentPlan!A2:A"))[0] == ["Home coffee"]
        reads += 1
        await asyncio.sleep(0.5)
    log = admin.requests("sheets", since=since)
    assert len(log) == reads and {e["status"] for e in log} == {200}, "no call met an expired token"
    assert admin.google_config()["refreshes"] - before >= 3  # 10 s of work on 4-s tokens
    now = await access.store.get(
        p.tenant_id, "google", (await access.sheets_for(p.tenant_id)).cred.account_id
    )
    assert now is not None and now.access_token != first and now.expires_at is not None


async def test_a_service_account_assertion_must_be_signed_by_its_registered_key(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    """The emulator verifies the JWT-bearer assertion with the public part of the key it issued: a key file
    with the same account and key id but another private key is refused (invalid_grant), and the tenant's
    sheet pipelines are paused with what to do."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from icop.google import service_account
    from icop.social.clients import OAuthTokens

    p = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    key = admin.google_service_account(f"forged-{p.tenant_id.hex[:8]}")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {**key, "private_key": other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()}  # fmt: skip
    parsed = service_account.parse_key(forged)
    access = access_for(settings, app_pool)
    await access.store.connect(
        p.tenant_id, service_account.PLATFORM, parsed.client_email, OAuthTokens(parsed.to_json(), None, None),
        parsed.client_email,
    )  # fmt: skip
    acts = PlanningActivities(app_pool, access, planner=None, store=None)  # type: ignore[arg-type]
    with pytest.raises(ApplicationError) as refused:
        await read_plan(acts, p)
    assert refused.value.non_retryable and "its key was deleted or disabled; upload a new key" in str(
        refused.value
    )
    row = await pipeline_row(app_pool, p)
    assert row["status"] == "paused" and parsed.client_email in row["status_reason"]
    assert json.loads(parsed.to_json())["private_key_id"] == key["private_key_id"]


async def test_a_missing_sheet_or_tab_says_what_to_do(
    settings: Settings, app_pool: asyncpg.Pool, admin: EmulatorAdmin
) -> None:
    """Google's 404 (no such sheet) and 400 (no such tab) become reasons a user can act on, never the
    client library's text with the API's internal address."""
    p = await make_pipeline(app_pool, admin, ROWS, settings=settings)
    acts = PlanningActivities(app_pool, access_for(settings, app_pool), planner=None, store=None)  # type: ignore[arg-type]
    book = admin.read_sheet(p.sheet_id)
    admin.seed_sheet(p.sheet_id, {"ContentPlan": book["ContentPlan"]}, owner=google_email(p.tenant_id))
    with pytest.raises(ApplicationError) as no_tab:
        await read_plan(acts, p)
    assert no_tab.value.non_retryable and "has no tab the plan needs (Subtopics!A2:A)" in str(no_tab.value)
    async with tenant_tx(app_pool, p.tenant_id) as conn:
        await conn.execute(
            "UPDATE content_pipelines SET sheet_id = $1 WHERE id = $2",
            f"gone-{uuid.uuid4().hex}",
            p.pipeline_id,
        )
    with pytest.raises(ApplicationError) as gone:
        await read_plan(acts, p)
    text = str(gone.value)
    assert gone.value.non_retryable and "it was deleted, or the pipeline points at a wrong link" in text
    assert "http" not in text and str(settings.emulator_port) not in text
