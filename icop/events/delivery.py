"""The webhook delivery worker: RabbitMQ → ``webhook_deliveries`` → signed POSTs with durable retries.

Two loops in one process:

* ``Ingest`` consumes the webhook queue. For each event it inserts one delivery row per matching
  enabled endpoint of the event's tenant (unique per endpoint and event id: a redelivered message is a
  no-op) and acknowledges the message after that commit.
* ``Sender`` polls for due deliveries, leases them (``status='sending'``, ``next_attempt_at`` = end of the
  lease, so a crashed worker's rows come back), and POSTs each with Standard Webhooks headers. Every
  attempt is recorded; a failure is rescheduled with exponential back-off and jitter until the retry
  window has passed, then the delivery is dead. An endpoint that keeps failing is disabled and a
  ``webhook.endpoint_disabled`` event says so. At most ``webhook_concurrency_per_endpoint`` POSTs run
  per endpoint, so a slow receiver only ever waits on itself.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
from aio_pika.abc import AbstractIncomingMessage

from icop.db import tenant_tx
from icop.observability import metrics
from icop.settings import Settings
from icop.vault import SecretRef, Vault

from . import signing
from .broker import connect, declare
from .outbox import emit
from .schemas import EndpointDisabled, Envelope
from .ssrf import UnsafeWebhookURL, vet

log = logging.getLogger("icop.events.delivery")
EXCERPT_CHARS = 1024
LEASE_MARGIN_S = 30.0


def secret_ref(tenant_id: UUID, endpoint_id: UUID) -> SecretRef:
    return SecretRef(tenant_id, endpoint_id, "webhook", "signing_secret")


def backoff(settings: Settings, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: base·2^(attempt-1), capped, with 'equal jitter' (½..1×)."""
    delay: float = min(settings.webhook_retry_max_s, settings.webhook_retry_base_s * 2 ** max(0, attempt - 1))
    return delay * (0.5 + 0.5 * (rng or random).random())


# ---- ingest -----------------------------------------------------------------------------------------


async def record_event(conn: asyncpg.Connection, env: Envelope, body: str) -> int:
    """One delivery per enabled endpoint of the event's tenant that subscribes to its type."""
    status = await conn.execute(
        """INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, body)
           SELECT e.tenant_id, e.id, $2, $3, $4 FROM webhook_endpoints e
           WHERE e.tenant_id = $1 AND e.enabled AND (e.event_types = '{}' OR $3 = ANY(e.event_types))
           ON CONFLICT (endpoint_id, event_id) DO NOTHING""",
        env.tenant_id,
        env.id,
        env.type,
        body,
    )
    return int(status.rsplit(" ", 1)[1])


class Ingest:
    def __init__(self, pool: asyncpg.Pool, wake: asyncio.Event | None = None) -> None:
        self.pool = pool
        self.received = 0
        self.wake = wake  # set after new deliveries were committed: the sender need not wait for its poll

    async def handle(self, message: AbstractIncomingMessage) -> None:
        try:
            env = Envelope.model_validate_json(message.body)
            if message.routing_key and not message.routing_key.startswith(f"{env.tenant_id}."):
                raise ValueError("routing key and tenant disagree")
        except ValueError as e:
            log.error("unreadable event message %s: %s", message.message_id, e)
            await message.reject(requeue=False)  # to the dead-letter queue
            return
        try:
            async with tenant_tx(self.pool, env.tenant_id) as conn:
                await record_event(conn, env, message.body.decode())
        except (asyncpg.PostgresError, OSError) as e:
            log.warning("could not record event %s, requeued: %r", env.id, e)
            await asyncio.sleep(0.5)
            await message.nack(requeue=True)
            return
        self.received += 1
        await message.ack()
        if self.wake is not None:
            self.wake.set()


# ---- sending ----------------------------------------------------------------------------------------


@dataclass
class Claimed:
    id: UUID
    tenant_id: UUID
    endpoint_id: UUID
    event_id: UUID
    body: str
    attempt: int
    window_start: datetime
    url: str
    secret_enc: bytes


@dataclass
class AttemptResult:
    started_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, vault: Vault) -> None:
        self.pool = pool
        self.s = settings
        self.vault = vault
        self.inflight: dict[UUID, int] = defaultdict(int)
        self.tasks: set[asyncio.Task[None]] = set()
        self.clients: dict[tuple[UUID, str], httpx.AsyncClient] = {}
        self.attempts = 0
        self.wake: asyncio.Event | None = None  # set when a slot frees: more may be due for that endpoint

    def _client(self, endpoint_id: UUID, host: str) -> httpx.AsyncClient:
        # One connection pool per endpoint and host: a TLS connection verified for one host is never
        # reused for another that happens to share its address.
        key = (endpoint_id, host)
        client = self.clients.get(key)
        if client is None:
            n = self.s.webhook_concurrency_per_endpoint
            client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                timeout=self.s.webhook_timeout_s,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
            )
            self.clients[key] = client
        return client

    async def close(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        for c in self.clients.values():
            await c.aclose()
        self.clients.clear()

    async def send_due(self) -> int:
        """Lease what is due (within each endpoint's free concurrency) and start sending it."""
        async with self.pool.acquire() as conn:
            tenants = [r[0] for r in await conn.fetch("SELECT webhook_due_tenants()")]
        started = 0
        for tenant in tenants:
            for c in await self._claim(tenant):
                self.inflight[c.endpoint_id] += 1
                task = asyncio.create_task(self._deliver(c))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
                started += 1
        return started

    async def _claim(self, tenant: UUID) -> list[Claimed]:
        cap = self.s.webhook_concurrency_per_endpoint
        lease = self.s.webhook_timeout_s + LEASE_MARGIN_S
        async with tenant_tx(self.pool, tenant) as conn:
            # Read the candidates without locking them (locking hundreds of rows per pass is a write each);
            # the UPDATE below re-checks each chosen row under its row lock, so two workers never both
            # lease one.
            # At most `cap` per endpoint: one endpoint's backlog never hides another's due rows.
            rows = await conn.fetch(
                """SELECT id, endpoint_id FROM (
                     SELECT d.id, d.endpoint_id, d.next_attempt_at,
                            row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at) AS rn
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
                     WHERE d.tenant_id = $1 AND d.status IN ('pending', 'sending')
                       AND d.next_attempt_at <= now()) due
                   WHERE rn <= $2 ORDER BY next_attempt_at LIMIT 1000""",
                tenant,
                cap,
            )
            free: dict[UUID, int] = {}
            chosen = []
            for r in rows:
                ep = r["endpoint_id"]
                free.setdefault(ep, cap - self.inflight[ep])
                if free[ep] > 0:
                    free[ep] -= 1
                    chosen.append(r["id"])
            if not chosen:
                return []
            claimed = await conn.fetch(
                """UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1,
                          next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
                   FROM webhook_endpoints e
                   WHERE d.tenant_id = $1 AND d.id = ANY($2::uuid[]) AND e.id = d.endpoint_id
                     AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
                   RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_id, d.body, d.attempts, d.window_start,
                             e.url, e.secret_enc""",
                tenant,
                chosen,
                lease,
            )
        return [
            Claimed(
                r["id"],
                r["tenant_id"],
                r["endpoint_id"],
                r["event_id"],
                r["body"],
                r["attempts"],
                r["window_start"],
                r["url"],
                r["secret_enc"],
            )  # fmt: skip
            for r in claimed
        ]

    async def _deliver(self, c: Claimed) -> None:
        try:
            result = await self._post(c)
            await self._record(c, result)
        except Exception:  # never lose the lease silently: it expires and the row is retried
            log.exception("delivery %s failed unexpectedly", c.id)
        finally:
            self.inflight[c.endpoint_id] -= 1
            if self.wake is not None:
                self.wake.set()

    async def _post(self, c: Claimed) -> AttemptResult:
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            target = await vet(c.url, self.s)  # again at delivery: the host may resolve elsewhere now
            secret = self.vault.decrypt(c.secret_enc, secret_ref(c.tenant_id, c.endpoint_id))
            body = c.body.encode()
            headers = signing.headers(secret, str(c.event_id), int(time.time()), body)
            headers["host"] = target.host_header
            headers["user-agent"] = "icop-webhooks/1"
            ext = {"sni_hostname": target.host} if target.scheme == "https" else {}
            client = self._client(c.endpoint_id, target.host)
            async with client.stream(
                "POST", target.connect_url, content=body, headers=headers, extensions=ext
            ) as resp:
                excerpt = b""
                async for chunk in resp.aiter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= EXCERPT_CHARS:
                        break
            text = excerpt[:EXCERPT_CHARS].decode("utf-8", "replace")
            err = None if 200 <= resp.status_code < 300 else f"HTTP {resp.status_code}"
            if resp.is_redirect:
                err = f"HTTP {resp.status_code}: redirects are not followed"
            return AttemptResult(started, resp.status_code, _ms(t0), err, text)
        except UnsafeWebhookURL as e:
            return AttemptResult(started, None, _ms(t0), f"refused: {e}", "")
        except httpx.HTTPError as e:
            return AttemptResult(started, None, _ms(t0), f"{type(e).__name__}: {e}"[:500], "")

    async def _record(self, c: Claimed, r: AttemptResult) -> None:
        self.attempts += 1
        async with tenant_tx(self.pool, c.tenant_id) as conn:
            await conn.execute(
                """INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, started_at, status_code,
                                                 latency_ms, error, response_excerpt)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                c.tenant_id, c.id, c.attempt, r.started_at, r.status_code, r.latency_ms, r.error, r.excerpt,
            )  # fmt: skip
            if r.ok:
                metrics.observe_webhook_delivery("delivered")
                await conn.execute(
                    """UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(),
                              last_status_code = $2, last_error = NULL, updated_at = now()
                       WHERE id = $1""",
                    c.id,
                    r.status_code,
                )
                await conn.execute(
                    "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL "
                    "WHERE id = $1 AND (consecutive_failures <> 0 OR failing_since IS NOT NULL)",
                    c.endpoint_id,
                )
                return
            now = datetime.now(UTC)
            dead = now - c.window_start >= timedelta(seconds=self.s.webhook_retry_window_s)
            metrics.observe_webhook_delivery("dead" if dead else "retry")
            delay = backoff(self.s, c.attempt)
            await conn.execute(
                """UPDATE webhook_deliveries SET status = $2, last_status_code = $3, last_error = $4,
                          next_attempt_at = now() + make_interval(secs => $5), updated_at = now()
                   WHERE id = $1""",
                c.id,
                "dead" if dead else "pending",
                r.status_code,
                r.error,
                delay,
            )
            ep = await conn.fetchrow(
                """UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
                          failing_since = COALESCE(failing_since, $2)
                   WHERE id = $1 RETURNING url, enabled, consecutive_failures, failing_since""",
                c.endpoint_id,
                r.started_at,
            )
            sustained = ep is not None and self._sustained(ep["consecutive_failures"], ep["failing_since"])
            if ep is not None and ep["enabled"] and sustained:
                reason = (
                    f"{ep['consecutive_failures']} failed attempts in a row since "
                    f"{ep['failing_since'].isoformat()} (last: {r.error})"
                )[:500]
                await conn.execute(
                    "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() "
                    "WHERE id = $1",
                    c.endpoint_id,
                    reason,
                )
                data = EndpointDisabled(endpoint_id=c.endpoint_id, url=ep["url"], reason=reason)
                await emit(conn, c.tenant_id, "webhook.endpoint_disabled", data)

    def _sustained(self, failures: int, since: datetime) -> bool:
        age = (datetime.now(UTC) - since).total_seconds()
        return failures >= self.s.webhook_disable_min_failures and age >= self.s.webhook_disable_after_s


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


# ---- the process ------------------------------------------------------------------------------------


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, vault: Vault) -> None:
        self.s = settings
        self.wake = asyncio.Event()
        self.ingest = Ingest(pool, self.wake)
        self.sender = Sender(pool, settings, vault)
        self.sender.wake = self.wake

    async def run(self, stop: asyncio.Event) -> None:
        connection = await connect(self.s)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=200)
            _, queue = await declare(channel, self.s)
            tag = await queue.consume(self.ingest.handle)
            while not stop.is_set():
                self.wake.clear()
                try:
                    await self.sender.send_due()
                except Exception as e:  # the database is away: keep the process, retry on the next pass
                    log.warning("delivery pass failed, retrying: %r", e)
                    await asyncio.sleep(1)
                waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())}
                await asyncio.wait(
                    waiters, timeout=self.s.webhook_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
                for w in waiters:
                    w.cancel()
            await queue.cancel(tag)
        finally:
            await self.sender.close()
            await connection.close()
