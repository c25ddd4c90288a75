"""Rules: connecting an account again replaces its tokens; new accounts count against the plan's limit."""

from __future__ import annotations

from uuid import UUID, uuid4

from icop.errors import NotFound, PlanLimitExceeded
from icop.vault import SecretRef

from ..context import Tx
from .repository import CredentialRepository
from .schemas import CredentialCreate, CredentialOut

repo = CredentialRepository()


async def connect(tx: Tx, body: CredentialCreate) -> tuple[CredentialOut, bool]:
    """Store (or replace) an account's tokens; returns the account and whether it is new."""
    vault = tx.services.vault
    cred_id = await repo.find(tx.conn, tx.tenant_id, body.platform, body.account_id)
    created = cred_id is None
    if cred_id is None:
        limit = tx.services.config.plan(tx.who.plan).connected_accounts
        if await repo.count_connected(tx.conn, tx.tenant_id) >= limit:
            raise PlanLimitExceeded(
                f"the {tx.who.plan} plan allows {limit} connected accounts; remove one or upgrade the plan"
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
    return CredentialOut(**dict(row)), created


async def list_credentials(tx: Tx, platform: str | None) -> list[CredentialOut]:
    return [CredentialOut(**dict(r)) for r in await repo.list(tx.conn, tx.tenant_id, platform)]


async def get_credential(tx: Tx, cred_id: UUID) -> CredentialOut:
    row = await repo.get(tx.conn, tx.tenant_id, cred_id)
    if row is None:
        raise NotFound("no such credential")
    return CredentialOut(**dict(row))


async def delete_credential(tx: Tx, cred_id: UUID) -> None:
    if not await repo.delete(tx.conn, tx.tenant_id, cred_id):
        raise NotFound("no such credential")
