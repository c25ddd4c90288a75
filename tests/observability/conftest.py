"""Fixtures of the observability tests: the gateway app on the session database, a scrape helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from emulators.client import EmulatorAdmin
from gateway.app import create_app
from icop.settings import Settings


@pytest.fixture(scope="session")
def obs_app(settings: Settings, app_pool: asyncpg.Pool) -> FastAPI:
    return create_app(settings, pool=app_pool)


@pytest.fixture(scope="session")
async def api(obs_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=obs_app), base_url="http://gw.test") as c:
        yield c


@pytest.fixture
def sheets_admin(settings: Settings) -> Iterator[EmulatorAdmin]:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    yield admin
    admin.close()


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by (name, labels)."""
    out = {}
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="session")
async def temporal_client(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace)
