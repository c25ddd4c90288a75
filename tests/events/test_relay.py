"""The relay is at-least-once: a crash after the broker confirmed and before the rows were marked sent
publishes those events again with the same ids; a SIGKILLed relay process loses nothing.

These tests run before test_webhooks.py (file order) so no other relay of this session competes for rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import IO
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import pytest

from cluster.stack import LocalStack
from icop.db import tenant_tx
from icop.events import emit
from icop.events.broker import connect, declare
from icop.events.relay import Relay
from icop.settings import Settings
from tests.gateway.conftest import TenantHandle

from .conftest import wait_for
from .helpers import events_of

ICOP = str(Path(sys.executable).parent / "icop")


async def emit_many(pool: asyncpg.Pool, tenant: UUID, n: int, per_tx: int = 100) -> list[UUID]:
    ids = []
    for start in range(0, n, per_tx):
        async with tenant_tx(pool, tenant) as conn:
            for _ in range(start, min(n, start + per_tx)):
                ids.append(
                    await emit(conn, tenant, "run.progress", {"run_id": str(uuid4()), "status": "running"})
                )
    return ids


class TenantTap:
    """A private queue bound to ``<tenant>.#``: every message the broker routed for that tenant."""

    def __init__(self, settings: Settings, tenant: UUID) -> None:
        self.s, self.tenant = settings, tenant
        self.ids: list[str] = []

    async def __aenter__(self) -> TenantTap:
        self.conn = await connect(self.s)
        ch = await self.conn.channel()
        exchange, _ = await declare(ch, self.s)
        self.queue = await ch.declare_queue(exclusive=True, auto_delete=True)
        await self.queue.bind(exchange, routing_key=f"{self.tenant}.#")

        async def on(msg: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.ids.append(msg.message_id or "")
            await msg.ack()

        await self.queue.consume(on)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()


async def unsent(pool: asyncpg.Pool, tenant: UUID) -> int:
    async with tenant_tx(pool, tenant) as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND sent_at IS NULL", tenant
        )


async def test_crash_between_confirm_and_mark_publishes_again_with_same_ids(
    app_pool: asyncpg.Pool, ev_settings: Settings, tenant: TenantHandle
) -> None:
    tid = UUID(tenant.tenant_id)
    async with TenantTap(ev_settings, tid) as tap:
        conn = await connect(ev_settings)
        ch = await conn.channel(publisher_confirms=True)
        exchange, _ = await declare(ch, ev_settings)
        await Relay(app_pool, ev_settings).relay_once(exchange)  # earlier tests' events: out of the way
        ids = await emit_many(app_pool, tid, 50)

        crashing = Relay(app_pool, ev_settings)

        async def crash(confirmed: list[UUID]) -> None:
            assert len(confirmed) == 50  # the broker has every one of them
            raise RuntimeError("relay crashed before marking the rows sent")

        crashing.after_confirm = crash
        with pytest.raises(RuntimeError, match="crashed"):
            await crashing.relay_once(exchange)
        assert await unsent(app_pool, tid) == 50  # the marking was rolled back with the crash
        await wait_for(lambda: len(tap.ids) == 50, what="first publication")

        assert await Relay(app_pool, ev_settings).relay_once(exchange) >= 50  # a fresh relay
        assert await unsent(app_pool, tid) == 0
        await wait_for(lambda: len(tap.ids) == 100, what="second publication")
        await conn.close()
    counts = Counter(tap.ids)
    assert set(counts) == {str(i) for i in ids}
    assert set(counts.values()) == {2}  # each event twice, with the same id: consumers dedupe by id


@pytest.mark.slow
async def test_sigkilled_relay_process_loses_nothing(
    app_pool: asyncpg.Pool, ev_settings: Settings, stack: LocalStack, tenant: TenantHandle
) -> None:
    tid = UUID(tenant.tenant_id)
    ids = await emit_many(app_pool, tid, 3000, per_tx=500)
    env = {**os.environ, "ICOP_STATE_DIR": str(stack.state_dir), "ICOP_EVENTS_RELAY_BATCH": "100"}
    async with TenantTap(ev_settings, tid) as tap:
        first = spawn_relay(env)
        try:
            await wait_for(lambda: _lt(app_pool, tid, 2700), 60, "a few batches")
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        left = await unsent(app_pool, tid)
        assert 0 < left < 3000, left  # killed mid-way
        second = spawn_relay(env)
        try:
            await wait_for(lambda: _lt(app_pool, tid, 1), 60, "every event sent")
            await wait_for(lambda: {str(i) for i in ids} <= set(tap.ids), 30, "every event at the broker")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    assert {str(i) for i in ids} <= set(tap.ids)  # nothing lost
    assert set(tap.ids) <= {str(i) for i in ids}  # nothing invented
    assert all(r["sent_at"] is not None for r in await events_of(app_pool, tid))
    print(f"\nSIGKILL with {left} unsent: {len(tap.ids) - len(ids)} events published twice")


def spawn_relay(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ICOP, "events", "relay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _lt(pool: asyncpg.Pool, tid: UUID, n: int) -> bool:
    return await unsent(pool, tid) < n


async def test_relay_process_handles_sigterm(stack: LocalStack) -> None:
    env = {**os.environ, "ICOP_STATE_DIR": str(stack.state_dir)}
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child the test signals, never waited on
        [ICOP, "events", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    # SIGTERM once the worker says it runs (its handlers are set before that line), however slow its start
    seen = await asyncio.wait_for(asyncio.to_thread(_read_until, proc.stdout, b"running"), 120)
    assert proc.poll() is None, seen
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0, proc.stdout.read()


def _read_until(stream: IO[bytes], marker: bytes) -> bytes:
    """Lines of ``stream`` up to the first that holds ``marker`` (all of it if the stream ends first)."""
    seen = b""
    for line in iter(stream.readline, b""):
        seen += line
        if marker in line:
            break
    return seen
