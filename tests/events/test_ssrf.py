"""Webhook targets outside embedded development: https only, public addresses only, checked when an endpoint
is registered and again when each delivery connects (to the vetted address, without following redirects)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from icop.events.delivery import Claimed, Sender, secret_ref
from icop.events.ssrf import UnsafeWebhookURL, is_public, vet
from icop.settings import Settings
from icop.vault import Vault
from tests.gateway.conftest import TenantHandle, sign_up


@pytest.fixture(scope="module")
def strict_settings(ev_settings: Settings) -> Settings:
    return ev_settings.model_copy(update={"webhook_enforce_public_urls": True})


@pytest.fixture(scope="module")
async def strict_client(
    strict_settings: Settings, app_pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(strict_settings, pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


# Refused as webhook targets outside development, and by the Researcher's page fetcher in production.
UNSAFE_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (and plain http)
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",  # private
    "https://localhost/hook",  # a name that resolves to 127.0.0.1
    "https://127.0.0.1:8443/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "https://100.64.0.1/hook",  # shared address space
    "https://[fd00:ec2::254]/hook",  # AWS IMDS over IPv6
    "https://user:pw@93.184.215.14/hook",  # credentials in the URL
    "http://93.184.215.14/hook",  # public, but not https
]


@pytest.mark.parametrize("url", UNSAFE_TARGETS)
async def test_registration_refuses_unsafe_targets(strict_client: httpx.AsyncClient, url: str) -> None:
    t = await sign_up(strict_client)
    r = await strict_client.post("/v1/webhooks", json={"url": url}, headers=t.h)
    assert r.status_code == 422, r.text
    assert "webhook URL refused" in r.json()["detail"]
    assert (await strict_client.get("/v1/webhooks", headers=t.h)).json() == []


async def test_registration_accepts_a_public_https_target(strict_client: httpx.AsyncClient) -> None:
    t = await sign_up(strict_client)
    r = await strict_client.post(
        "/v1/webhooks", json={"url": "https://93.184.215.14/hooks/icop"}, headers=t.h
    )
    assert r.status_code == 201, r.text


# Every spelling of an internal address, refused in every mode (development included).
INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://127.0.0.1:9/hook",
    "http://127.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/hook",  # ... as hex
    "http://0177.0.0.1/hook",  # ... as octal
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:7f00:1]/hook",
    "http://[::127.0.0.1]/hook",  # IPv4-compatible (deprecated)
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo whose client is 127.0.0.1
    "http://localhost:9/hook",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.1/hook",
    "http://192.168.0.1/hook",
    "http://100.64.0.1/hook",
    "http://[fe80::1]/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
async def test_development_refuses_internal_targets_too(
    client: httpx.AsyncClient, tenant: TenantHandle, url: str
) -> None:
    r = await client.post("/v1/webhooks", json={"url": url}, headers=tenant.h)
    assert r.status_code == 422, r.text
    assert "webhook URL refused" in r.json()["detail"]


async def test_development_allow_list_names_the_receivers(
    client: httpx.AsyncClient, tenant: TenantHandle, receiver, ev_settings: Settings
) -> None:
    """A loopback receiver is accepted only when ICOP_WEBHOOK_ALLOWED_TARGETS names its host and port."""
    r = await client.post("/v1/webhooks", json={"url": receiver.url("/ok")}, headers=tenant.h)
    assert r.status_code == 201, r.text
    port = int(receiver.base.rsplit(":", 1)[1])
    r = await client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{port + 1}/x"}, headers=tenant.h)
    assert r.status_code == 422  # the same host on another port is not named
    # The stack's own services are refused even when an allow-list names them.
    own = ev_settings.model_copy(
        update={"webhook_allowed_targets": [f"127.0.0.1:{ev_settings.pg_port}", f"127.0.0.1:{port}"]}
    )
    with pytest.raises(UnsafeWebhookURL, match="stack"):
        await vet(f"http://127.0.0.1:{ev_settings.pg_port}/", own)
    # And production refuses an allow-list altogether.
    with pytest.raises(ValueError, match="ICOP_WEBHOOK_ALLOWED_TARGETS"):
        Settings(env="production", jwt_secret="j" * 40, database_url="postgresql://x/y",
                 vault_keys="k1:" + "A" * 43 + "=", webhook_allowed_targets=["127.0.0.1:9"])  # fmt: skip


async def test_refused_delivery_stores_no_reply(
    app_pool: asyncpg.Pool, ev_settings: Settings, vault: Vault, tenant: TenantHandle, receiver
) -> None:
    """A target that is (now) internal is never contacted, so no internal reply reaches the tenant."""
    tid, ep = UUID(tenant.tenant_id), uuid4()
    port = int(receiver.base.rsplit(":", 1)[1])
    url = f"http://[::ffff:127.0.0.1]:{port}/secret"  # the receiver, but not as the allow-list names it
    claimed = Claimed(
        uuid4(), tid, ep, uuid4(), "{}", 1, datetime.now(UTC), url,
        vault.encrypt("whsec_" + "A" * 43 + "=", secret_ref(tid, ep)),
    )  # fmt: skip
    before = len(receiver.at("/secret"))
    result = await Sender(app_pool, ev_settings, vault)._post(claimed)
    assert result.status_code is None and result.error and result.error.startswith("refused:")
    assert result.excerpt == "" and len(receiver.at("/secret")) == before


def test_public_address_rules() -> None:
    bad = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
           "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1", "224.0.0.1", "240.0.0.1"]  # fmt: skip
    assert not any(is_public(ipaddress.ip_address(a)) for a in bad)
    assert is_public(ipaddress.ip_address("93.184.215.14")) and is_public(
        ipaddress.ip_address("2606:4700::1")
    )


async def test_delivery_checks_again_and_refuses_a_target_that_became_private(
    app_pool: asyncpg.Pool, strict_settings: Settings, vault: Vault, tenant: TenantHandle
) -> None:
    """An endpoint whose host now resolves to loopback (DNS rebinding) is refused at delivery time:
    the attempt is recorded as refused and nothing is sent."""
    with pytest.raises(UnsafeWebhookURL):
        await vet("https://localhost:1/hook", strict_settings)
    tid, ep = UUID(tenant.tenant_id), uuid4()
    claimed = Claimed(
        uuid4(), tid, ep, uuid4(), "{}", 1, datetime.now(UTC), "https://localhost:1/hook",
        vault.encrypt("whsec_" + "A" * 43 + "=", secret_ref(tid, ep)),
    )  # fmt: skip
    result = await Sender(app_pool, strict_settings, vault)._post(claimed)
    assert result.status_code is None and result.error and result.error.startswith("refused:")
    assert "non-public address" in result.error
