"""Fixtures for the syndication tests: the social emulator and an image server as real HTTP
servers on free loopback ports (subprocesses), the session database, the vault-backed token store."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from PIL import Image

from cluster.ports import free_port
from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.clients import OAuthTokens, build_clients
from icop.social.publisher import Publisher
from icop.social.tokens import VaultTokenStore
from icop.vault import Vault

ROOT = Path(__file__).resolve().parents[2]


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def social_emulator() -> Iterator[str]:
    """``python -m emulators.social`` on a free 127.0.0.1 port; its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators.social", "--port", str(port), "--log-level", "critical"],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/_admin/health", proc)
        yield base
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static file server holding a JPEG, a PNG and a WEBP (what an object store would serve)."""
    d = tmp_path_factory.mktemp("media")
    im = Image.new("RGB", (1080, 1080), (200, 120, 40))
    im.save(d / "square.jpg", "JPEG", quality=80)
    im.save(d / "square.png", "PNG")
    im.save(d / "square.webp", "WEBP")
    Image.new("RGB", (1080, 1350), (10, 20, 30)).save(d / "portrait.jpg", "JPEG")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(d)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/square.jpg", proc)
        yield base
    finally:
        _stop(proc)


@dataclass
class Emu:
    """Admin access to the social emulator."""

    base: str
    http: httpx.AsyncClient

    async def token(self, platform: str, account_id: str, **kw: Any) -> dict[str, Any]:
        r = await self.http.post(
            "/_admin/tokens", json={"platform": platform, "account_id": account_id, **kw}
        )
        r.raise_for_status()
        return dict(r.json())

    async def token_action(self, action: str, token: str) -> None:
        (await self.http.post("/_admin/tokens", json={"action": action, "token": token})).raise_for_status()

    async def knobs(self, **kw: Any) -> dict[str, Any]:
        r = await self.http.post("/_admin/knobs", json=kw)
        r.raise_for_status()
        return dict(r.json())

    async def posts(self, platform: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("platform", platform), ("account_id", account_id)) if v}
        return list((await self.http.get("/_admin/posts", params=params)).json()["posts"])

    async def requests(self) -> dict[str, Any]:
        return dict((await self.http.get("/_admin/requests")).json())


@pytest.fixture
async def emu(social_emulator: str) -> AsyncIterator[Emu]:
    async with httpx.AsyncClient(base_url=social_emulator, trust_env=False, timeout=10) as http:
        (await http.post("/_admin/reset")).raise_for_status()
        await http.post("/_admin/knobs", json={"container_in_progress_polls": 1})
        yield Emu(social_emulator, http)


@pytest.fixture
def social_settings(settings: Settings, social_emulator: str) -> Settings:
    return settings.model_copy(
        update={
            "social_graph_base_url": f"{social_emulator}/v21.0",
            "social_threads_base_url": f"{social_emulator}/v1.0",
            "social_x_base_url": social_emulator,
            "social_x_permalink_url": f"{social_emulator}/web/x/{{id}}",
            "social_x_client_id": "icop-test-client",
            "social_instagram_container_poll_s": 0.02,
            "social_http_timeout_s": 5.0,
        }
    )


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault.from_spec(settings.vault_keys.get_secret_value())


@pytest.fixture
def token_store(app_pool: asyncpg.Pool, vault: Vault) -> VaultTokenStore:
    return VaultTokenStore(app_pool, vault)


@pytest.fixture
async def publisher(
    app_pool: asyncpg.Pool, social_settings: Settings, token_store: VaultTokenStore
) -> AsyncIterator[Publisher]:
    http = httpx.AsyncClient(
        timeout=social_settings.social_http_timeout_s,
        trust_env=False,
        limits=httpx.Limits(max_connections=50),
    )
    yield Publisher(app_pool, social_settings, build_clients(social_settings, http), token_store)
    await http.aclose()


@pytest.fixture
async def tenant(app_pool: asyncpg.Pool) -> uuid.UUID:
    tid = uuid.uuid4()
    async with tenant_tx(app_pool, tid) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'social test')", tid)
    return tid


async def make_articles(
    pool: asyncpg.Pool, tenant_id: uuid.UUID, n: int = 1, title: str = "t"
) -> list[uuid.UUID]:
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await conn.fetch(
            "INSERT INTO generated_articles (tenant_id, title)"
            " SELECT $1, $2 || g FROM generate_series(1, $3) g "
            "RETURNING id",
            tenant_id,
            title,
            n,
        )
    return [r["id"] for r in rows]


async def connect_account(
    emu: Emu,
    store: VaultTokenStore,
    tenant_id: uuid.UUID,
    platform: str,
    account_id: str,
    *,
    expires_in: float | None = None,
    db_expires_at: datetime | None = None,
) -> dict[str, Any]:
    """Register a token on the emulator and store it (encrypted) for the tenant."""
    tok = await emu.token(platform, account_id, expires_in=expires_in)
    if db_expires_at is None and expires_in is not None:
        db_expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    await store.connect(
        tenant_id, platform, account_id, OAuthTokens(tok["token"], tok.get("refresh_token"), db_expires_at)
    )
    return tok


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "JPEG")
    return buf.getvalue()
