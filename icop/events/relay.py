"""The relay: moves committed outbox rows to RabbitMQ, marking a row sent only after the broker confirmed it.

Per tenant with unsent rows, one transaction locks a batch (``FOR UPDATE SKIP LOCKED``: several relays
can run), publishes every row with publisher confirms, and sets ``sent_at`` for the confirmed ones
before it commits. A crash anywhere before that commit leaves the rows unsent, so they are published
again with the same event id: delivery is at-least-once and consumers dedupe by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from uuid import UUID

import aio_pika
import asyncpg
from aio_pika.abc import AbstractExchange

from icop.db import tenant_tx
from icop.observability.metrics import OUTBOX_LAG, OUTBOX_OLDEST_UNSENT, OUTBOX_RELAYED
from icop.settings import Settings

from .broker import connect, declare, routing_key
from .outbox import NOTIFY_CHANNEL, body_of, envelope_of

log = logging.getLogger("icop.events.relay")


class Relay:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.s = settings
        self.batch = settings.events_relay_batch
        self.published = 0
        self._oldest_s = 0.0  # age of the oldest unsent row seen in the current pass
        # A test hook: called after the broker confirmed a batch and before the rows are marked sent.
        self.after_confirm: object = None

    async def relay_once(self, exchange: AbstractExchange) -> int:
        """Publish every unsent event once; returns how many were confirmed."""
        async with self.pool.acquire() as conn:
            tenants = [r[0] for r in await conn.fetch("SELECT outbox_pending_tenants()")]
        total = 0
        self._oldest_s = 0.0
        for tenant in tenants:
            while True:
                n = await self._relay_tenant(exchange, tenant)
                total += n
                if n < self.batch:
                    break
        OUTBOX_OLDEST_UNSENT.set(self._oldest_s)
        return total

    async def _relay_tenant(self, exchange: AbstractExchange, tenant: UUID) -> int:
        async with tenant_tx(self.pool, tenant) as conn:
            rows = await conn.fetch(
                """SELECT id, tenant_id, type, version, occurred_at, payload FROM outbox
                   WHERE tenant_id = $1 AND sent_at IS NULL ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED""",
                tenant,
                self.batch,
            )
            if not rows:
                return 0
            envs = [envelope_of(r) for r in rows]
            fetched = datetime.now(UTC)
            self._oldest_s = max(self._oldest_s, (fetched - rows[0]["occurred_at"]).total_seconds())
            results = await asyncio.gather(
                *(self._publish(exchange, e.tenant_id, e.type, e.id, body_of(e)) for e in envs),
                return_exceptions=True,
            )
            confirmed = [e.id for e, r in zip(envs, results, strict=True) if not isinstance(r, BaseException)]
            failed = [e.id for e, r in zip(envs, results, strict=True) if isinstance(r, BaseException)]
            for e, r in zip(envs, results, strict=True):
                if isinstance(r, BaseException):
                    log.warning("event %s not confirmed by the broker: %r", e.id, r)
            if callable(self.after_confirm):
                await self.after_confirm(confirmed)
            await conn.execute(
                "UPDATE outbox SET sent_at = now(), publish_attempts = publish_attempts + 1 "
                "WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
                tenant,
                confirmed,
            )
            if failed:
                await conn.execute(
                    "UPDATE outbox SET publish_attempts = publish_attempts + 1 "
                    "WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
                    tenant,
                    failed,
                )
        self.published += len(confirmed)
        OUTBOX_RELAYED.inc(len(confirmed))
        sent, done = set(confirmed), datetime.now(UTC)
        for e in envs:
            if e.id in sent:
                OUTBOX_LAG.observe(max(0.0, (done - e.occurred_at).total_seconds()))
        return len(confirmed) if not failed else 0

    @staticmethod
    async def _publish(
        exchange: AbstractExchange, tenant: UUID, event_type: str, event_id: UUID, body: bytes
    ) -> None:
        msg = aio_pika.Message(
            body,
            message_id=str(event_id),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            type=event_type,
        )
        # With publisher confirms on (aio-pika's default), this returns once the broker has the message.
        await exchange.publish(msg, routing_key=routing_key(tenant, event_type), mandatory=True, timeout=30)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set: woken by NOTIFY on commit, and by a poll as a fallback."""
        connection = await connect(self.s)
        wake = asyncio.Event()
        listener = await asyncpg.connect(self.s.pg_dsn("app"))
        await listener.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange, _ = await declare(channel, self.s)
            while not stop.is_set():
                wake.clear()
                try:
                    await self.relay_once(exchange)
                except Exception as e:  # the database or the broker is away: keep the process, retry
                    log.warning("relay pass failed, retrying: %r", e)
                    await asyncio.sleep(1)
                    continue
                with contextlib.suppress(TimeoutError):
                    waiter = asyncio.ensure_future(wake.wait())
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait(
                        {waiter, stopper},
                        timeout=self.s.events_relay_poll_s,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    waiter.cancel()
                    stopper.cancel()
        finally:
            await listener.close()
            await connection.close()
