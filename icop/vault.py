"""The credential vault: AES-256-GCM with a fresh 96-bit nonce per encryption.

Stored value layout (bytes)::

    b"\\x01" | len(key_id) (1 byte) | key_id (ascii) | nonce (12) | ciphertext + tag (16)

The associated data binds tenant, credential and platform, so a ciphertext copied to another row or
tenant fails to authenticate. The key id travels with the value so keys can rotate: encryption uses
the first (primary) key, decryption any known key, and :func:`rotate_credentials` re-encrypts rows
that still use an older key while the service keeps running.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .db import tenant_tx
from .errors import DecryptionRefused
from .modelkeys import repository as model_keys_repo

FORMAT_VERSION = 1
NONCE_BYTES = 12


@dataclass(frozen=True)
class SecretRef:
    """Which secret a ciphertext belongs to: the associated data of its encryption."""

    tenant_id: UUID
    credential_id: UUID
    platform: str
    field: str = "access_token"

    def aad(self) -> bytes:
        return f"icop-vault|{self.tenant_id}|{self.credential_id}|{self.platform}|{self.field}".encode()


def model_key_ref(tenant_id: UUID, row_id: UUID, provider: str) -> SecretRef:
    """A tenant's model key (``model_keys``): bound to its tenant, its row and its provider."""
    return SecretRef(tenant_id, row_id, f"model:{provider}", "api_key")


def parse_keys(spec: str) -> dict[str, bytes]:
    """``"kid:base64,kid2:base64"`` → ordered ``{kid: 32-byte key}``; the first is the primary."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid or len(kid) > 64 or not kid.isascii():
            raise ValueError("vault keys must look like 'kid:base64,kid2:base64'")
        key = base64.b64decode(b64, validate=True)
        if len(key) != 32:
            raise ValueError(f"vault key {kid!r} must be 32 bytes (AES-256)")
        if kid in keys:
            raise ValueError(f"vault key id {kid!r} appears twice")
        keys[kid] = key
    if not keys:
        raise ValueError("no vault key configured")
    return keys


class Vault:
    """Encrypts and decrypts credential secrets; holds the keys, never logs plaintext."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("no vault key configured")
        self._keys = {kid: AESGCM(k) for kid, k in keys.items()}
        self.primary_key_id = next(iter(keys))

    @classmethod
    def from_spec(cls, spec: str) -> Vault:
        return cls(parse_keys(spec))

    def __repr__(self) -> str:  # never show key material
        return f"Vault(primary={self.primary_key_id!r}, keys={list(self._keys)!r})"

    def encrypt(self, plaintext: str, ref: SecretRef) -> bytes:
        kid = self.primary_key_id
        nonce = os.urandom(NONCE_BYTES)
        ct = self._keys[kid].encrypt(nonce, plaintext.encode(), ref.aad())
        kid_b = kid.encode()
        return bytes([FORMAT_VERSION, len(kid_b)]) + kid_b + nonce + ct

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        if len(blob) < 2 or blob[0] != FORMAT_VERSION:
            raise DecryptionRefused("unknown ciphertext format")
        return bytes(blob[2 : 2 + blob[1]]).decode("ascii", "replace")

    def decrypt(self, blob: bytes, ref: SecretRef) -> str:
        kid = self.key_id_of(blob)
        aead = self._keys.get(kid)
        if aead is None:
            raise DecryptionRefused(f"vault key {kid!r} is not configured")
        start = 2 + blob[1]
        nonce, ct = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        try:
            return aead.decrypt(bytes(nonce), bytes(ct), ref.aad()).decode()
        except InvalidTag as e:
            raise DecryptionRefused("credential does not authenticate for this row") from e

    def needs_rotation(self, blob: bytes) -> bool:
        return self.key_id_of(blob) != self.primary_key_id

    def reencrypt(self, blob: bytes, ref: SecretRef) -> bytes:
        return self.encrypt(self.decrypt(blob, ref), ref)


@dataclass
class RotationReport:
    tenants: int = 0
    rows_rotated: int = 0
    refused: list[UUID] = field(default_factory=list)  # rows no configured key can authenticate


async def rotate_credentials(pool: asyncpg.Pool, vault: Vault, batch: int = 100) -> RotationReport:
    """Re-encrypt every credential (social and Google tokens, search keys, model keys) that is not under
    the primary key.

    Runs online: each tenant's rows are rewritten in short tenant-scoped transactions, and readers
    keep decrypting with whichever key a row currently names. Re-running it is a no-op. A row that
    does not authenticate (tampered, or under a key no longer configured) is left as it is and
    reported, never rewritten.
    """
    report = RotationReport()
    primary = vault.primary_key_id.encode()
    async with pool.acquire() as conn:
        tenants = [r[0] for r in await conn.fetch("SELECT vault_credential_tenants()")]
        with_model_keys = [r[0] for r in await conn.fetch("SELECT vault_model_key_tenants()")]
    for tenant_id in tenants:
        report.tenants += 1
        last = UUID(int=0)
        while True:
            async with tenant_tx(pool, tenant_id) as conn:
                rows = await conn.fetch(
                    """SELECT id, platform, access_token_enc, refresh_token_enc FROM api_credentials
                       WHERE tenant_id = $1 AND id > $2 AND (
                         CASE WHEN length(access_token_enc) < 2 THEN true  -- malformed: refused below
                              ELSE substring(access_token_enc FROM 3 FOR get_byte(access_token_enc, 1))
                                   <> $3::bytea END
                         OR CASE WHEN refresh_token_enc IS NULL THEN false
                                 WHEN length(refresh_token_enc) < 2 THEN true
                                 ELSE substring(refresh_token_enc FROM 3 FOR get_byte(refresh_token_enc, 1))
                                      <> $3::bytea END)
                       ORDER BY id LIMIT $4 FOR UPDATE""",
                    tenant_id,
                    last,
                    primary,
                    batch,
                )
                for r in rows:
                    last = r["id"]
                    try:
                        access = vault.reencrypt(
                            r["access_token_enc"], SecretRef(tenant_id, r["id"], r["platform"])
                        )
                        refresh = r["refresh_token_enc"]
                        if refresh is not None:
                            refresh = vault.reencrypt(
                                refresh, SecretRef(tenant_id, r["id"], r["platform"], "refresh_token")
                            )
                    except DecryptionRefused:
                        report.refused.append(r["id"])
                        continue
                    await conn.execute(
                        "UPDATE api_credentials SET access_token_enc = $3, refresh_token_enc = $4, "
                        "updated_at = now() WHERE tenant_id = $1 AND id = $2",
                        tenant_id,
                        r["id"],
                        access,
                        refresh,
                    )
                    report.rows_rotated += 1
            if len(rows) < batch:
                break
    for tenant_id in with_model_keys:
        if tenant_id not in tenants:
            report.tenants += 1
        await _rotate_model_keys(pool, vault, tenant_id, primary, batch, report)
    return report


async def _rotate_model_keys(
    pool: asyncpg.Pool, vault: Vault, tenant_id: UUID, primary: bytes, batch: int, report: RotationReport
) -> None:
    """One tenant's model keys, as :func:`rotate_credentials` does its tokens."""
    last = UUID(int=0)
    while True:
        async with tenant_tx(pool, tenant_id) as conn:
            rows = await model_keys_repo.rotation_batch(conn, tenant_id, last, primary, batch)
            for r in rows:
                last = r["id"]
                try:
                    blob = vault.reencrypt(r["key_enc"], model_key_ref(tenant_id, r["id"], r["provider"]))
                except DecryptionRefused:
                    report.refused.append(r["id"])
                    continue
                await model_keys_repo.set_ciphertext(conn, tenant_id, r["id"], blob)
                report.rows_rotated += 1
        if len(rows) < batch:
            break


@dataclass(frozen=True)
class CredentialSecrets:
    """Plaintext tokens for the connector that uses them; never logged, never returned by the API."""

    access_token: str
    refresh_token: str | None

    def __repr__(self) -> str:
        return "CredentialSecrets(<redacted>)"


async def read_credential_secrets(
    conn: asyncpg.Connection, vault: Vault, tenant_id: UUID, credential_id: UUID
) -> CredentialSecrets | None:
    """Decrypt one credential inside the caller's tenant transaction; ``None`` when there is no such row."""
    row = await conn.fetchrow(
        "SELECT platform, access_token_enc, refresh_token_enc FROM api_credentials WHERE tenant_id "
        "= $1 AND id = $2",
        tenant_id,
        credential_id,
    )
    if row is None:
        return None
    access = vault.decrypt(row["access_token_enc"], SecretRef(tenant_id, credential_id, row["platform"]))
    refresh = None
    if row["refresh_token_enc"] is not None:
        refresh = vault.decrypt(
            row["refresh_token_enc"], SecretRef(tenant_id, credential_id, row["platform"], "refresh_token")
        )
    return CredentialSecrets(access, refresh)
