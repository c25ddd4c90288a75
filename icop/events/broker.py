"""RabbitMQ: where the broker is, and the topology every process declares (idempotently).

Topology: a durable topic exchange (``ICOP_EVENTS_EXCHANGE``; routing key ``<tenant>.<event_type>``),
the webhook worker's durable quorum queue bound to ``#`` (declared by the relay too, so that nothing is
published before a queue exists to hold it), and a dead-letter exchange + queue for messages the worker
cannot read at all.
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection

from icop.settings import Settings

WEBHOOK_QUEUE = "icop.webhooks"
DEAD_LETTER_EXCHANGE = "icop.events.dead"
DEAD_LETTER_QUEUE = "icop.events.dead"


def broker_url(settings: Settings) -> str:
    """``ICOP_RABBITMQ_URL``, or the embedded node (guest is allowed from loopback only)."""
    return settings.rabbitmq_url or f"amqp://guest:guest@{settings.bind_host}:{settings.rabbitmq_port}/"


def routing_key(tenant_id: object, event_type: str) -> str:
    return f"{tenant_id}.{event_type}"


async def connect(settings: Settings) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(broker_url(settings), client_properties={"connection_name": "icop"})


async def declare(channel: AbstractChannel, settings: Settings) -> tuple[AbstractExchange, AbstractQueue]:
    exchange = await channel.declare_exchange(
        settings.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dlx = await channel.declare_exchange(DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True)
    dead = await channel.declare_queue(DEAD_LETTER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    await dead.bind(dlx)
    queue = await channel.declare_queue(
        WEBHOOK_QUEUE,
        durable=True,
        arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE},
    )
    await queue.bind(exchange, routing_key="#")
    return exchange, queue
