"""The credential vault: AES-256-GCM, fresh nonces, associated data, key ids, online rotation."""

from __future__ import annotations

import base64
import os
import uuid
from uuid import UUID

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from icop.db import tenant_tx
from icop.errors import DecryptionRefused
from icop.modelkeys.secret import ModelKey
from icop.modelkeys.service import TenantModelKeys
from icop.settings import Settings
from icop.vault import NONCE_BYTES, SecretRef, Vault, parse_keys, read_credential_secrets, rotate_credentials

from .conftest import TenantHandle, remember


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


REF = SecretRef(uuid.uuid4(), uuid.uuid4(), "x")


def test_roundtrip_fresh_nonce_and_key_id() -> None:
    v = Vault.from_spec(f"k1:{_key()}")
    a, b = v.encrypt("tok", REF), v.encrypt("tok", REF)
    assert a != b and v.decrypt(a, REF) == v.decrypt(b, REF) == "tok"
    assert Vault.key_id_of(a) == "k1" and b"tok" not in a
    nonce_a, nonce_b = a[4 : 4 + NONCE_BYTES], b[4 : 4 + NONCE_BYTES]
    assert len(nonce_a) == 12 and nonce_a != nonce_b


def test_repr_shows_no_key_material() -> None:
    key = _key()
    v = Vault.from_spec(f"k1:{key}")
    assert "k1" in repr(v) and key not in repr(v)


@pytest.mark.parametrize(
    "other",
    [
        SecretRef(uuid.uuid4(), REF.credential_id, "x"),  # another tenant
        SecretRef(REF.tenant_id, uuid.uuid4(), "x"),  # another row
        SecretRef(REF.tenant_id, REF.credential_id, "threads"),  # another platform
        SecretRef(REF.tenant_id, REF.credential_id, "x", "refresh_token"),  # the other column
    ],
)
def test_associated_data_binds_tenant_row_platform(other: SecretRef) -> None:
    v = Vault.from_spec(f"k1:{_key()}")
    with pytest.raises(DecryptionRefused):
        v.decrypt(v.encrypt("tok", REF), other)


def test_tamper_unknown_key_and_bad_specs() -> None:
    v = Vault.from_spec(f"k1:{_key()}")
    blob = bytearray(v.encrypt("tok", REF))
    blob[-1] ^= 1
    with pytest.raises(DecryptionRefused):
        v.decrypt(bytes(blob), REF)
    with pytest.raises(DecryptionRefused, match="not configured"):
        Vault.from_spec(f"k9:{_key()}").decrypt(v.encrypt("tok", REF), REF)
    with pytest.raises(DecryptionRefused):
        v.decrypt(b"\x07junk", REF)
    for bad in ("", "nokey", f"k1:{base64.b64encode(b'short').decode()}", f"k1:{_key()},k1:{_key()}"):
        with pytest.raises(ValueError):
            parse_keys(bad)


def test_rotation_keeps_old_values_readable() -> None:
    old, new = _key(), _key()
    v1 = Vault.from_spec(f"k1:{old}")
    blob = v1.encrypt("tok", REF)
    v2 = Vault.from_spec(f"k2:{new},k1:{old}")
    assert v2.decrypt(blob, REF) == "tok" and v2.needs_rotation(blob)
    rotated = v2.reencrypt(blob, REF)
    assert Vault.key_id_of(rotated) == "k2" and not v2.needs_rotation(rotated)
    with pytest.raises(DecryptionRefused):
        v1.decrypt(rotated, REF)


async def test_rotate_credentials_in_database(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other: TenantHandle,
    settings: Settings,
    app_pool: asyncpg.Pool,
) -> None:
    spec = settings.vault_keys.get_secret_value()
    tokens: dict[tuple[str, str], tuple[str, str]] = {}
    for t in (tenant, other):
        for acct in ("a1", "a2"):
            access, refresh = f"acc-{uuid.uuid4().hex}", f"ref-{uuid.uuid4().hex}"
            remember(access, refresh)
            r = await client.post(
                "/v1/credentials",
                headers=t.h,
                json={
                    "platform": "threads",
                    "account_id": acct,
                    "access_token": access,
                    "refresh_token": refresh,
                },
            )
            assert r.status_code == 201
            tokens[(t.tenant_id, r.json()["id"])] = (access, refresh)
    model_key = f"sk-rot-{uuid.uuid4().hex}"
    remember(model_key)
    r = await client.put("/v1/model-keys/gemini", headers=tenant.h, json={"key": model_key, "verify": False})
    assert r.status_code == 201
    new_kid = f"r{uuid.uuid4().hex[:6]}"
    new_key = _key()
    rotated_vault = Vault.from_spec(f"{new_kid}:{new_key},{spec}")
    async with tenant_tx(app_pool, UUID(other.tenant_id)) as conn:  # one byte: not a ciphertext at all
        broken = await conn.fetchval(
            "INSERT INTO api_credentials (tenant_id, platform, account_id, access_token_enc)"
            " VALUES ($1, 'x', $2, '\\x00') RETURNING id",
            UUID(other.tenant_id), f"broken-{uuid.uuid4().hex[:6]}",
        )  # fmt: skip
    try:
        report = await rotate_credentials(app_pool, rotated_vault, batch=1)
    finally:
        async with tenant_tx(app_pool, UUID(other.tenant_id)) as conn:
            await conn.execute("DELETE FROM api_credentials WHERE id = $1", broken)
    assert broken in report.refused  # reported, not a failed rotation
    assert report.rows_rotated >= 5
    assert not {UUID(cid) for _, cid in tokens} & set(
        report.refused
    )  # only tampered rows elsewhere are refused
    assert (await rotate_credentials(app_pool, rotated_vault)).rows_rotated == 0  # idempotent
    for (tid, cid), (access, refresh) in tokens.items():
        async with tenant_tx(app_pool, tid) as conn:
            got = await read_credential_secrets(conn, rotated_vault, UUID(tid), UUID(cid))
            raw = await conn.fetchval("SELECT access_token_enc FROM api_credentials WHERE id = $1", UUID(cid))
        assert got is not None and (got.access_token, got.refresh_token) == (access, refresh)
        assert Vault.key_id_of(raw) == new_kid
        assert "acc-" not in repr(got)
    owner = UUID(tenant.tenant_id)  # the tenant's model key too
    assert (await TenantModelKeys(app_pool, rotated_vault).resolve(owner, ["gemini"])) == {
        "gemini": ModelKey(model_key)
    }
    async with tenant_tx(app_pool, owner) as conn:
        assert Vault.key_id_of(await conn.fetchval("SELECT key_enc FROM model_keys")) == new_kid
    ROTATE_BACK.append(f"{spec},{new_kid}:{new_key}")


ROTATE_BACK: list[str] = []


def test_keys_cli_rotate_back(settings: Settings) -> None:
    """`icop keys rotate` with the session's key first again: every row returns to it, online."""
    from cluster.cli import app

    assert ROTATE_BACK, "runs after test_rotate_credentials_in_database"
    env = {"ICOP_VAULT_KEYS": ROTATE_BACK[-1], "ICOP_STATE_DIR": str(settings.state_path)}
    out = CliRunner().invoke(app, ["keys", "rotate"], env=env)
    assert out.exit_code == 0, out.output
    assert "re-encrypted" in out.stdout and " 0 credential" not in out.stdout
    again = CliRunner().invoke(app, ["keys", "rotate"], env=env)
    assert " 0 credential(s)" in again.stdout


def test_keys_cli_generate() -> None:
    from cluster.cli import app

    out = CliRunner().invoke(app, ["keys", "generate", "k7"])
    assert out.exit_code == 0
    kid, _, b64 = out.stdout.strip().partition(":")
    assert kid == "k7" and len(base64.b64decode(b64)) == 32
