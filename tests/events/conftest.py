"""Events fixtures: the real gateway app, a real receiver (uvicorn on loopback), the relay and the delivery
worker running in this process against the session stack's PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from cluster.ports import free_port
from gateway.app import create_app
from icop.events.delivery import DeliveryWorker
from icop.events.relay import Relay
from icop.settings import Settings
from icop.vault import Vault
from tests.gateway.conftest import TenantHandle, sign_up


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver: records every request; answers per path from a script (then 200)."""

    base: str = ""
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Received(path, headers, body))
        if path in self.delays:
            await asyncio.sleep(self.delays[path])
        script = self.scripts.get(path, [])
        status = script.pop(0) if script else 200
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": f"answer {status} ".encode() * 200})


async def serve(app: Callable, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", interface="asgi3"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.02)
    return server, task


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    port = free_port()
    r.base = f"http://127.0.0.1:{port}"
    server, task = await serve(r.app, port)
    yield r
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
def ev_settings(settings: Settings, receiver: Receiver) -> Settings:
    """Short back-off and polls so retries happen within a test; the receiver named as a development
    webhook target (every other loopback target is refused)."""
    return settings.model_copy(
        update={
            "webhook_allowed_targets": [receiver.base.removeprefix("http://")],
            "webhook_retry_base_s": 0.2,
            "webhook_retry_max_s": 0.5,
            "webhook_poll_s": 0.05,
            "events_relay_poll_s": 0.2,
            "webhook_disable_after_s": 0.0,
            "webhook_disable_min_failures": 6,
            "webhook_timeout_s": 5.0,
        }
    )


@pytest.fixture(scope="session")
def vault(settings: Settings) -> Vault:
    return Vault.from_spec(settings.vault_keys.get_secret_value())


@pytest.fixture(scope="session")
def gw_app(ev_settings: Settings, app_pool: asyncpg.Pool) -> FastAPI:
    return create_app(ev_settings, pool=app_pool)


@pytest.fixture(scope="session")
async def client(gw_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gw_app), base_url="http://gw.test") as c:
        yield c


@pytest.fixture(scope="session")
async def live_api(gw_app: FastAPI) -> AsyncIterator[str]:
    """The same app served by uvicorn on loopback (for the SSE stream)."""
    port = free_port()
    server, task = await serve(gw_app, port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(task, 5)


@pytest.fixture(scope="session")
async def workers(
    app_pool: asyncpg.Pool, ev_settings: Settings, vault: Vault
) -> AsyncIterator[DeliveryWorker]:
    """The relay and the delivery worker, as `icop events worker` runs them."""
    stop = asyncio.Event()
    worker = DeliveryWorker(app_pool, ev_settings, vault)
    relay = Relay(app_pool, ev_settings)
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(worker.run(stop))]
    yield worker
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


@pytest.fixture
async def tenant(client: httpx.AsyncClient) -> TenantHandle:
    return await sign_up(client)


@pytest.fixture
async def other(client: httpx.AsyncClient) -> TenantHandle:
    return await sign_up(client)


async def wait_for(pred: Callable[[], object], within: float = 20.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = pred()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
