"""The tenant's own model keys through the public API: checked with one call to the vendor (the emulator)
before they are stored, stored encrypted and shown masked, paused when the vendor refuses them (with an
event), resumed (checked again) or replaced; and the pipeline's choice of key per provider."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from uuid import UUID

import asyncpg
import httpx
import pytest

from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.modelkeys.rules import REJECTED, KeyUnavailable, pause_for
from icop.modelkeys.secret import ModelKey
from icop.modelkeys.service import TenantModelKeys
from icop.settings import Settings
from icop.vault import Vault, model_key_ref

from .conftest import TenantHandle, remember, sheet


@pytest.fixture
def vendor(settings: Settings) -> Iterator[EmulatorAdmin]:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    yield admin
    admin.knobs("claude", revoked_keys=[])
    admin.close()


def new_key(tag: str) -> str:
    key = f"sk-ant-api03-{uuid.uuid4().hex}{tag}"
    remember(key)
    return key


def issued(vendor: EmulatorAdmin, key: str) -> str:
    """``key``, now issued by Anthropic (the emulators' key registry accepts it)."""
    vendor.add_keys("claude", key)
    return key


def revoke(vendor: EmulatorAdmin, *keys: str) -> None:
    """Anthropic revokes ``keys`` (the emulators' key registry: refused from now on, as Anthropic does)."""
    for key in keys:
        vendor.revoke_key("claude", key)


async def test_a_key_is_checked_stored_encrypted_shown_masked_and_deleted(
    client: httpx.AsyncClient, tenant: TenantHandle, vendor: EmulatorAdmin, app_pool: asyncpg.Pool,
    settings: Settings,
) -> None:  # fmt: skip
    h = tenant.h
    r = await client.get("/v1/model-keys", headers=h)
    assert r.status_code == 200 and [(k["provider"], k["state"]) for k in r.json()] == [
        ("gpt", "not_set"), ("claude", "not_set"), ("gemini", "not_set")
    ]  # fmt: skip
    key = new_key("c1a7")
    vendor.add_keys("claude", key)
    since = vendor.last_seq()
    r = await client.put("/v1/model-keys/claude", headers=h, json={"key": f"{key}\n"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "active" and out["last4"] == "c1a7" and out["verified_at"] and key not in r.text
    (check,) = vendor.requests("claude", since)  # one call, one output token, with the tenant's key
    assert check["key"] == "c1a7" and check["status"] == 200 and check["body"]["max_tokens"] == 16
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        row = await conn.fetchrow("SELECT id, key_enc FROM model_keys WHERE provider = 'claude'")
    assert key.encode() not in row["key_enc"]
    vault = Vault.from_spec(settings.vault_keys.get_secret_value())
    assert vault.decrypt(row["key_enc"], model_key_ref(UUID(tenant.tenant_id), row["id"], "claude")) == key

    # A key the vendor refuses is not stored: the one in place stays.
    bad = new_key("dead")
    revoke(vendor, bad)
    r = await client.put("/v1/model-keys/claude", headers=h, json={"key": bad})
    assert r.status_code == 422 and r.json()["code"] == "model_key.refused", r.text
    assert "Anthropic refused this Claude key" in r.json()["detail"] and bad not in r.text
    assert (await client.get("/v1/model-keys/claude", headers=h)).json()["last4"] == "c1a7"
    # Unchecked on request: stored as it is (its first article tells).
    r = await client.put("/v1/model-keys/claude", headers=h, json={"key": bad, "verify": False})
    assert r.status_code == 200 and r.json()["last4"] == "dead" and r.json()["verified_at"] is None
    r = await client.put("/v1/model-keys/claude", headers=h, json={"key": "two words here"})
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "model_key_format"

    assert (await client.delete("/v1/model-keys/claude", headers=h)).status_code == 204
    r = await client.delete("/v1/model-keys/claude", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "model_key.not_set"
    assert (await client.get("/v1/model-keys/claude", headers=h)).json()["state"] == "not_set"


async def test_a_refused_key_pauses_until_resumed_or_replaced(
    client: httpx.AsyncClient, tenant: TenantHandle, vendor: EmulatorAdmin, app_pool: asyncpg.Pool,
    settings: Settings,
) -> None:  # fmt: skip
    h, tid = tenant.h, UUID(tenant.tenant_id)
    key = new_key("p4u5")
    vendor.add_keys("claude", key)
    assert (await client.put("/v1/model-keys/claude", headers=h, json={"key": key})).status_code == 201
    keys = TenantModelKeys(app_pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
    why = pause_for("claude", "auth", "invalid x-api-key")
    assert why is not None
    assert not await keys.pause(tid, "claude", why, ModelKey(new_key("0ld0")))  # another key's refusal
    assert await keys.pause(tid, "claude", why, ModelKey(key))
    assert not await keys.pause(tid, "claude", why, ModelKey(key))  # paused once, announced once
    out = (await client.get("/v1/model-keys/claude", headers=h)).json()
    assert out["state"] == "paused" and out["pause"]["code"] == REJECTED
    assert out["pause"]["reason"] == why.reason and out["last_error"] == why.reason
    assert out["pause"]["params"] == {"provider": "claude", "message": "invalid x-api-key"}
    async with tenant_tx(app_pool, tid) as conn:
        events = await conn.fetch(
            "SELECT payload FROM outbox WHERE tenant_id = $1 AND type = 'model_key.paused'", tid
        )
    assert [e["payload"] for e in events] == [{"provider": "claude", "code": REJECTED, "reason": why.reason}]
    assert await keys.resolve(tid, ["claude"]) == {"claude": KeyUnavailable(REJECTED, why.reason, why.params)}

    revoke(vendor, key)  # still refused: resuming checks first and leaves it paused
    r = await client.post("/v1/model-keys/claude/resume", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "model_key.refused"
    assert (await client.get("/v1/model-keys/claude", headers=h)).json()["state"] == "paused"
    vendor.add_keys("claude", key)  # fixed at the vendor (issued again)
    r = await client.post("/v1/model-keys/claude/resume", headers=h, json={"verify": True})
    assert r.status_code == 200 and r.json()["state"] == "active" and r.json()["last_error"] == why.reason
    assert await keys.resolve(tid, ["claude"]) == {"claude": ModelKey(key)}

    # Replacing a paused key lifts the pause and clears the last error.
    assert await keys.pause(tid, "claude", why, ModelKey(key))
    r = await client.put("/v1/model-keys/claude", headers=h, json={"key": issued(vendor, new_key("n3w0"))})
    assert r.status_code == 200 and r.json()["state"] == "active" and r.json()["last_error"] is None
    r = await client.post("/v1/model-keys/gemini/resume", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "model_key.not_set"


async def test_the_pipeline_chooses_each_providers_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    h = tenant.h
    body = {"name": "own claude", "sheet_id": sheet(), "model_keys": {"claude": "tenant"}}
    r = await client.post("/v1/pipelines", headers=h, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["model_keys"] == {"gpt": "platform", "claude": "tenant", "gemini": "platform"}
    pid = r.json()["id"]
    r = await client.patch(f"/v1/pipelines/{pid}", headers=h, json={"name": "renamed"})
    assert r.json()["model_keys"]["claude"] == "tenant"  # kept when not sent
    r = await client.patch(f"/v1/pipelines/{pid}", headers=h, json={"model_keys": {"gemini": "tenant"}})
    assert r.json()["model_keys"] == {"gpt": "platform", "claude": "platform", "gemini": "tenant"}
    r = await client.patch(f"/v1/pipelines/{pid}", headers=h, json={"model_keys": {"gpt": "mine"}})
    assert r.status_code == 422
