"""A tenant with a sheet pipeline on the embedded stack, made directly in the database: the starting point
of the orchestration tests and the back-fill benchmark.

The tenant connects its own Google account as a user does (:func:`connect_google`: the consent page of the
Google OAuth emulator, the code exchanged with PKCE, the tokens stored encrypted in the vault); the plan
is seeded on the Sheets emulator as a spreadsheet owned by that account; the tenant, its pipeline
(dry-run posts to ``TARGETS``) and a ``backfill`` run row are inserted as the application role through
``tenant_tx``, as the API would.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings

HEADER = ["topic", "notes", "language", "status", "result"]
TARGETS = [{"platform": "x", "account_id": "4400001"}, {"platform": "threads", "account_id": "27000001"}]


@dataclass
class SeededPipeline:
    tenant_id: uuid.UUID
    pipeline_id: uuid.UUID
    run_id: uuid.UUID
    sheet_id: str


async def connect_google(settings: Settings, pool: asyncpg.Pool, tenant_id: uuid.UUID, email: str) -> str:
    """Connect ``email`` as the tenant's Google account the way a user does: the authorize URL (PKCE,
    offline access), Allow on the Google emulator's consent page, the code exchanged; tokens go to the
    vault. Returns the credential's account id."""
    import asyncio

    from emulators.client import google_consent
    from icop.google.oauth import GoogleOAuth
    from icop.social.oauth import pkce_pair
    from icop.social.tokens import VaultTokenStore
    from icop.vault import Vault

    connector = GoogleOAuth.from_settings(settings)
    verifier, challenge = pkce_pair()
    redirect_uri = f"http://{settings.bind_host}/oauth/google/callback"
    url = connector.authorize_url(redirect_uri, "seeded", challenge)
    answer = await asyncio.to_thread(google_consent, url, email)
    [account] = await connector.exchange(answer["code"], redirect_uri, verifier)
    store = VaultTokenStore(pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
    await store.connect(tenant_id, "google", account.account_id, account.tokens, account.account_name)
    return account.account_id


def google_email(tenant_id: uuid.UUID) -> str:
    return f"plans-{tenant_id.hex[:12]}@gmail.example"


async def seed_tenant_sheet(
    settings: Settings,
    pool: asyncpg.Pool,
    admin: EmulatorAdmin,
    tenant_id: uuid.UUID,
    sheet_id: str,
    sheets: dict[str, list[list[Any]]],
    title: str | None = None,
) -> None:
    """Seed ``sheets`` as a spreadsheet owned by the tenant's own Google account (named ``title`` in its
    Drive) and connect that account (the tenant must exist): what a user has before pointing a pipeline at
    a sheet of theirs."""
    admin.seed_sheet(sheet_id, sheets, owner=google_email(tenant_id), title=title)
    await connect_google(settings, pool, tenant_id, google_email(tenant_id))


async def make_pipeline(
    pool: asyncpg.Pool,
    admin: EmulatorAdmin,
    rows: list[list[str]],
    *,
    settings: Settings,
    subtopics: int = 2,
    targets: list[dict[str, Any]] | None = None,
    approval: bool = False,
    dry_run: bool = True,
) -> SeededPipeline:
    """A new tenant with its own Google account, whose pipeline reads ``rows`` (under ``HEADER``) from a
    fresh sheet that account owns; with a run row."""
    tenant, sid = uuid.uuid4(), f"wf-{uuid.uuid4().hex[:10]}"
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'workflows')", tenant)
    sheets = {"ContentPlan": [HEADER, *rows], "Subtopics": [["row", "topic", "sub-topic", "status", "url"]]}
    await seed_tenant_sheet(settings, pool, admin, tenant, sid, sheets)
    async with tenant_tx(pool, tenant) as conn:
        pipeline = await conn.fetchval(
            """INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id, targets, dry_run,
                                              subtopics_per_topic, approval_required)
               VALUES ($1, 'wf', 'sheet', $2, $3::jsonb, $6, $4, $5) RETURNING id""",
            tenant,
            sid,
            json.loads(json.dumps(TARGETS if targets is None else targets)),
            subtopics,
            approval,
            dry_run,
        )
        run = await conn.fetchval(
            "INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind)"
            " VALUES ($1, $2, 'backfill') RETURNING id",
            tenant,
            pipeline,
        )
    return SeededPipeline(tenant, pipeline, run, sid)


async def connect_targets(
    settings: Settings, pool: asyncpg.Pool, tenant_id: uuid.UUID, targets: list[dict[str, Any]]
) -> None:
    """Connect the tenant's target accounts as an OAuth callback would: a token issued by the social
    emulator for each, stored encrypted in the vault (so the pipeline can post for real)."""
    import httpx

    from icop.social.clients import OAuthTokens
    from icop.social.tokens import VaultTokenStore
    from icop.vault import Vault

    store = VaultTokenStore(pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
    base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http:
        for t in targets:
            r = await http.post(
                "/_admin/tokens", json={"platform": t["platform"], "account_id": t["account_id"]}
            )
            r.raise_for_status()
            tok = r.json()
            tokens = OAuthTokens(tok["token"], tok.get("refresh_token"), None)
            await store.connect(tenant_id, t["platform"], t["account_id"], tokens)
