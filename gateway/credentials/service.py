"""Rules: connecting an account again replaces its tokens; new accounts count against the plan's limit."""

from __future__ import annotations

import logging
from uuid import UUID, uuid4

from pydantic import SecretStr

from icop.errors import InvalidRequest, NotFound, PlanLimitExceeded
from icop.google import service_account
from icop.google.oauth import SERVICE_ACCOUNT_SCOPES, GoogleOAuth
from icop.insights import repository as insights_repo
from icop.social.limits import PLATFORMS
from icop.vault import SecretRef, read_credential_secrets
from workflows.schedules import AccountRef, apply_account_quietly

from ..context import Tx
from .repository import CredentialRepository
from .schemas import CredentialCreate, CredentialOut, ServiceAccountOut, ServiceAccountUpload

repo = CredentialRepository()
log = logging.getLogger("icop.gateway.credentials")


async def connect(tx: Tx, body: CredentialCreate) -> tuple[CredentialOut, bool]:
    """Store (or replace) an account's tokens; returns the account and whether it is new."""
    vault = tx.services.vault
    cred_id = await repo.find(tx.conn, tx.tenant_id, body.platform, body.account_id)
    created = cred_id is None
    if cred_id is None:
        limit = tx.services.config.plan(tx.who.plan).connected_accounts
        if await repo.count_connected(tx.conn, tx.tenant_id) >= limit:
            raise PlanLimitExceeded(
                f"the {tx.who.plan} plan allows {limit} connected accounts; remove one or upgrade the plan",
                code="plan_limit.accounts",
                params={"plan": tx.who.plan, "limit": limit},
            )
        cred_id = uuid4()  # known before encryption: it is part of the associated data
    access = vault.encrypt(
        body.access_token.get_secret_value(), SecretRef(tx.tenant_id, cred_id, body.platform)
    )
    refresh = None
    if body.refresh_token is not None:
        refresh = vault.encrypt(
            body.refresh_token.get_secret_value(),
            SecretRef(tx.tenant_id, cred_id, body.platform, "refresh_token"),
        )
    row = await repo.upsert(
        tx.conn,
        tx.tenant_id,
        cred_id,
        body.platform,
        body.account_id,
        body.account_name,
        access,
        refresh,
        body.scopes,
        body.expires_at,
    )
    if body.platform in PLATFORMS:
        # Connected (again): collection stopped for a lost permission goes on, and the account's insights
        # schedule exists.
        await insights_repo.resume_account(tx.conn, tx.tenant_id, body.platform, body.account_id)
        ref = AccountRef(tx.tenant_id, body.platform, body.account_id)
        await apply_account_quietly(tx.services.engine.insights, ref)
    return CredentialOut(**dict(row)), created


async def connect_given(tx: Tx, body: CredentialCreate) -> tuple[CredentialOut, bool]:
    """Tokens the caller already holds (``POST /v1/credentials``); a service-account key has its own,
    checked upload."""
    if body.platform == service_account.PLATFORM:
        raise InvalidRequest(
            "upload a Google service-account key through POST /v1/credentials/google/service-account"
        )
    return await connect(tx, body)


async def connect_service_account(tx: Tx, body: ServiceAccountUpload) -> tuple[ServiceAccountOut, bool]:
    """Check the key file, store it encrypted; the answer names the e-mail to share the sheets with."""
    key = service_account.parse_key(body.key)
    cred, created = await connect(
        tx,
        CredentialCreate(
            platform=service_account.PLATFORM,
            account_id=key.client_email,
            account_name=key.client_email,
            access_token=SecretStr(key.to_json()),
            scopes=list(SERVICE_ACCOUNT_SCOPES),
        ),
    )
    how = (
        f"In Google Sheets, open each plan sheet, choose Share and add {key.client_email} as Editor; runs "
        "then read the plan and write statuses as this service account."
    )
    return ServiceAccountOut(credential=cred, share_with=key.client_email, instructions=how), created


async def list_credentials(tx: Tx, platform: str | None) -> list[CredentialOut]:
    return [CredentialOut(**dict(r)) for r in await repo.list(tx.conn, tx.tenant_id, platform)]


async def get_credential(tx: Tx, cred_id: UUID) -> CredentialOut:
    row = await repo.get(tx.conn, tx.tenant_id, cred_id)
    if row is None:
        raise NotFound("no such credential")
    return CredentialOut(**dict(row))


async def delete_credential(tx: Tx, cred_id: UUID) -> None:
    """Delete the account's tokens; a Google account's grant is also given back to Google."""
    row = await repo.get(tx.conn, tx.tenant_id, cred_id)
    if row is None:
        raise NotFound("no such credential")
    secrets = None
    if row["platform"] == "google":
        secrets = await read_credential_secrets(tx.conn, tx.services.vault, tx.tenant_id, cred_id)
    if not await repo.delete(tx.conn, tx.tenant_id, cred_id):
        raise NotFound("no such credential")
    if row["platform"] in PLATFORMS:
        ref = AccountRef(tx.tenant_id, row["platform"], row["account_id"])
        await apply_account_quietly(tx.services.engine.insights, ref, delete=True)
    google = tx.services.oauth_connectors.get("google")
    if secrets is not None and isinstance(google, GoogleOAuth):
        if not await google.revoke(secrets.refresh_token or secrets.access_token):
            log.warning("credential %s deleted; Google could not be told to revoke its grant", cred_id)
