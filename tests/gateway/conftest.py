"""Gateway fixtures: the real app on the session's real database, an httpx client, tenants made by sign-up.

Every log record of the gateway test session is kept (``LOG``) together with every secret the tests
handled (``SECRETS``), so ``test_logs.py`` can grep the whole run's logs for them.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.config import GatewayConfig
from icop.settings import Settings

from .live import serve_app

LOG = io.StringIO()
SECRETS: set[str] = set()
LOG_FILES: list[Path] = []  # logs of gateway processes started by tests (uvicorn)


def remember(*values: str | None) -> None:
    SECRETS.update(v for v in values if v)


@pytest.fixture(scope="session", autouse=True)
def capture_all_logs() -> None:
    handler = logging.StreamHandler(LOG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # httpx's request lines are the test clients' own (whole URLs, an OAuth callback's code included);
    # the product's processes keep them at WARNING too (icop.observability.logs.configure_logging).
    for name in ("asyncio", "hypothesis", "urllib3", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


# A webhook receiver the tests register but never deliver to (the discard port), named as development
# receivers must be: every other loopback or private target is refused.
TEST_RECEIVER = "127.0.0.1:9"


@pytest.fixture(scope="session")
def gw_app(settings: Settings, app_pool: asyncpg.Pool) -> FastAPI:
    return create_app(settings.model_copy(update={"webhook_allowed_targets": [TEST_RECEIVER]}), pool=app_pool)


@pytest.fixture(scope="session")
async def client(gw_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gw_app), base_url="http://gw.test") as c:
        yield c


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")


@dataclass
class TenantHandle:
    tenant_id: str
    user_id: str
    email: str
    password: str
    access: str
    refresh: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def sheet() -> str:
    """A sheet id of its own: the first tenant to use a sheet id keeps it (409 for any other tenant)."""
    return f"sheet-{uuid.uuid4().hex[:16]}"


async def sign_up(
    client: httpx.AsyncClient, plan: str = "starter", pool: asyncpg.Pool | None = None
) -> TenantHandle:
    """A new tenant through the public API (sign-up, then log in); a paid plan is set as an operator would."""
    email = f"admin-{uuid.uuid4().hex[:10]}@example.test"
    password = f"pw-{uuid.uuid4().hex}"
    r = await client.post(
        "/v1/auth/signup", json={"company_name": "Acme " + email[:12], "email": email, "password": password}
    )
    assert r.status_code == 202, r.text
    r = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    b = r.json()
    remember(password, b["access_token"], b["refresh_token"])
    if plan != "starter":  # sign-up always starts on starter; an operator changes the plan
        from icop.tenants import set_plan

        assert pool is not None, "a paid plan is set in the database: pass the pool"
        await set_plan(pool, uuid.UUID(b["tenant_id"]), plan)
    return TenantHandle(b["tenant_id"], b["user_id"], email, password, b["access_token"], b["refresh_token"])


@pytest.fixture
async def tenant(client: httpx.AsyncClient) -> TenantHandle:
    return await sign_up(client)


@pytest.fixture
async def other(client: httpx.AsyncClient) -> TenantHandle:
    return await sign_up(client)


@pytest.fixture(scope="session")
async def live_api(gw_app: FastAPI) -> AsyncIterator[str]:
    """The session's app served by uvicorn on loopback (streams: the event stream)."""
    async with serve_app(gw_app) as base:
        yield base


@pytest.fixture
def config() -> GatewayConfig:
    return GatewayConfig()
