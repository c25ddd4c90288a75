"""Rules: one key per provider; setting one checks it with its vendor first (unless told not to) and clears
any pause; a paused provider resumes on request (checked again by default)."""

from __future__ import annotations

import asyncpg

from icop.connectors.config import LLM_NAMES, LlmName
from icop.errors import NotFound
from icop.modelkeys import repository, service
from icop.modelkeys.rules import TITLES
from icop.modelkeys.secret import ModelKey
from icop.modelkeys.verify import check_key
from icop.vault import model_key_ref

from ..context import Tx
from .schemas import ModelKeyOut, ModelKeyPause, ModelKeyPut, ModelKeyResume


def _out(provider: str, row: asyncpg.Record | None) -> ModelKeyOut:
    if row is None:
        return ModelKeyOut(
            provider=provider, state="not_set", last4=None, added_at=None, updated_at=None, verified_at=None,
            last_error=None, last_error_at=None,
        )  # fmt: skip
    pause = None
    if row["pause_code"] is not None:
        pause = ModelKeyPause(
            code=row["pause_code"], params=row["pause_params"], reason=row["pause_reason"],
            since=row["paused_since"],
        )  # fmt: skip
    return ModelKeyOut(
        provider=provider, state="paused" if pause else "active", last4=row["last4"],
        added_at=row["created_at"], updated_at=row["updated_at"], verified_at=row["verified_at"],
        last_error=row["last_error"], last_error_at=row["last_error_at"], pause=pause,
    )  # fmt: skip


def _no_key(provider: str) -> NotFound:
    return NotFound(
        f"no {TITLES[provider]} key is set: add one with PUT /v1/model-keys/{provider}",
        code="model_key.not_set",
        params={"provider": provider},
    )


async def list_keys(tx: Tx) -> list[ModelKeyOut]:
    rows = {r["provider"]: r for r in await repository.list(tx.conn, tx.tenant_id)}
    return [_out(p, rows.get(p)) for p in LLM_NAMES]


async def get_key(tx: Tx, provider: LlmName) -> ModelKeyOut:
    return _out(provider, await repository.get(tx.conn, tx.tenant_id, provider))


async def set_key(tx: Tx, provider: LlmName, body: ModelKeyPut) -> tuple[ModelKeyOut, bool]:
    """Store (or replace) the key; returns it and whether there was none before."""
    key = ModelKey(body.key.get_secret_value())
    if body.verify:
        await check_key(tx.services.settings, provider, key)
    created = await repository.get(tx.conn, tx.tenant_id, provider) is None
    await service.store(tx.conn, tx.services.vault, tx.tenant_id, provider, key, checked=body.verify)
    return await get_key(tx, provider), created


async def delete_key(tx: Tx, provider: LlmName) -> None:
    if not await repository.delete(tx.conn, tx.tenant_id, provider):
        raise _no_key(provider)


async def resume(tx: Tx, provider: LlmName, body: ModelKeyResume) -> ModelKeyOut:
    """Lift a pause (the tenant fixed the key or its billing at the vendor); a no-op when not paused."""
    row = await repository.locked_secret(tx.conn, tx.tenant_id, provider)
    if row is None:
        raise _no_key(provider)
    if body.verify:
        secret = tx.services.vault.decrypt(row["key_enc"], model_key_ref(tx.tenant_id, row["id"], provider))
        await check_key(tx.services.settings, provider, ModelKey(secret))
        await repository.mark_verified(tx.conn, tx.tenant_id, provider)
    await repository.unpause(tx.conn, tx.tenant_id, provider)
    return await get_key(tx, provider)
