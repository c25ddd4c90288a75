"""Which search keys an article uses: the tenant's own (api_credentials, decrypted by the vault only here,
for the provider call) or else the platform's defaults from settings."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.settings import Settings
from icop.vault import SecretRef, Vault

from . import repository


@dataclass(frozen=True)
class SearchKeys:
    tavily: str | None = None
    naver: tuple[str, str] | None = None  # (client id, client secret)
    owner: dict[str, str] | None = None  # per provider: "tenant" or "platform"

    def __repr__(self) -> str:  # never show a key
        return f"SearchKeys(tavily={self.tavily is not None}, naver={self.naver is not None})"


def platform_keys(s: Settings) -> SearchKeys:
    tavily = s.tavily_api_key.get_secret_value() if s.tavily_api_key else None
    naver = None
    if s.naver_client_id and s.naver_client_secret:
        naver = (s.naver_client_id.get_secret_value(), s.naver_client_secret.get_secret_value())
    owner = {k: "platform" for k, v in (("tavily", tavily), ("naver", naver)) if v}
    return SearchKeys(tavily or None, naver, owner)


async def search_keys(
    s: Settings, pool: asyncpg.Pool | None, vault: Vault | None, tenant_id: str | None
) -> SearchKeys:
    """The tenant's stored keys where it has them, the platform's otherwise."""
    base = platform_keys(s)
    if pool is None or vault is None or not tenant_id:
        return base
    tid = UUID(tenant_id)
    async with tenant_tx(pool, tid) as conn:
        rows = await repository.search_credentials(conn, tid)
    tavily, naver, owner = base.tavily, base.naver, dict(base.owner or {})
    for platform in ("tavily", "naver"):
        row = next((r for r in rows if r["platform"] == platform), None)
        if row is None:
            continue
        secret = vault.decrypt(row["access_token_enc"], SecretRef(tid, row["id"], platform))
        if platform == "tavily":
            tavily = secret
        else:
            naver = (row["account_id"], secret)
        owner[platform] = "tenant"
    return SearchKeys(tavily, naver, owner)
