"""Storing a tenant's model keys (the gateway) and using them (the activity that runs the article graph).

Keys are decrypted only here, in the tenant's transaction, for the writer call that uses them: in the
activity (as social tokens are in the publish activity), never in a workflow's history, the graph's state
or checkpoints, a log or an API answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from icop.db import tenant_tx
from icop.errors import DecryptionRefused
from icop.events import hooks
from icop.vault import Vault, model_key_ref

from . import repository, rules
from .rules import KeyUnavailable, ResolvedKey
from .secret import ModelKey


async def store(
    conn: asyncpg.Connection, vault: Vault, tenant_id: UUID, provider: str, key: ModelKey, checked: bool
) -> None:
    """Store or replace the tenant's key of ``provider``; a replacement clears its pause and last error."""
    found = await repository.locked_secret(conn, tenant_id, provider)
    row_id = found["id"] if found is not None else uuid4()  # known before encryption: part of the AAD
    blob = vault.encrypt(key.reveal(), model_key_ref(tenant_id, row_id, provider))
    checked_at = datetime.now(UTC) if checked else None
    await repository.upsert(conn, tenant_id, row_id, provider, blob, key.last4, checked_at)


class TenantModelKeys:
    """An article's tenant keys (:meth:`resolve`), and the pause of one its vendor refused (:meth:`pause`)."""

    def __init__(self, pool: asyncpg.Pool, vault: Vault) -> None:
        self.pool, self.vault = pool, vault

    async def resolve(self, tenant_id: UUID | str, providers: Sequence[str]) -> dict[str, ResolvedKey]:
        """Per provider whose writer uses the tenant's own key: the decrypted key, or why it is not used
        (none stored, paused, unreadable). Nothing here falls back to the platform's key."""
        if not providers:
            return {}
        tid = UUID(str(tenant_id))
        async with tenant_tx(self.pool, tid) as conn:
            rows = {r["provider"]: r for r in await repository.secret_rows(conn, tid, list(providers))}
        out: dict[str, ResolvedKey] = {}
        for p in providers:
            row = rows.get(p)
            if row is None:
                out[p] = rules.missing(p)
            elif row["pause_code"] is not None:
                out[p] = KeyUnavailable(row["pause_code"], row["pause_reason"], dict(row["pause_params"]))
            else:
                try:
                    out[p] = ModelKey(self.vault.decrypt(row["key_enc"], model_key_ref(tid, row["id"], p)))
                except DecryptionRefused:
                    out[p] = rules.unreadable(p)
        return out

    async def pause(self, tenant_id: UUID | str, provider: str, why: KeyUnavailable, key: ModelKey) -> bool:
        """Pause the tenant's use of ``provider`` because its vendor refused ``key`` (event
        ``model_key.paused``, same transaction); True when paused now. A key replaced since the call is
        not paused for the old key's refusal, and a pause already in place is kept as it is."""
        tid = UUID(str(tenant_id))
        async with tenant_tx(self.pool, tid) as conn:
            row = await repository.locked_secret(conn, tid, provider)
            if row is None:
                return False
            try:
                current = self.vault.decrypt(row["key_enc"], model_key_ref(tid, row["id"], provider))
            except DecryptionRefused:
                return False
            if ModelKey(current) != key:
                return False
            paused = await repository.pause(conn, tid, provider, why.code, why.params, why.reason)
            if paused:
                await hooks.model_key_paused(conn, tid, provider, why.code, why.reason)
        return paused
