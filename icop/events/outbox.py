"""Writing events: ``emit`` inserts into ``outbox`` on the caller's connection, inside the caller's
transaction, so the event exists exactly when the state change it reports was committed."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel

from .schemas import SCHEMA_VERSION, Envelope, validate_payload

NOTIFY_CHANNEL = "icop_outbox"


async def emit(
    conn: asyncpg.Connection, tenant_id: UUID, event_type: str, data: BaseModel | dict[str, Any]
) -> UUID:
    """Record one event in the current transaction (``conn`` comes from ``icop.db.tenant_tx``).

    A rolled-back transaction leaves no event; a committed one wakes the relay (NOTIFY is delivered
    on commit only)."""
    if not conn.is_in_transaction():
        raise RuntimeError("emit() must run inside the transaction of the state change it reports")
    payload = validate_payload(event_type, data)
    event_id = uuid4()
    await conn.execute(
        "INSERT INTO outbox (id, tenant_id, type, version, payload) "
        "VALUES ($1, $2, $3, $4, ($5::text)::jsonb)",
        event_id,
        tenant_id,
        event_type,
        SCHEMA_VERSION,
        json.dumps(payload),
    )
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    return event_id


def envelope_of(row: asyncpg.Record) -> Envelope:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return Envelope(
        id=row["id"],
        type=row["type"],
        tenant_id=row["tenant_id"],
        occurred_at=row["occurred_at"],
        version=row["version"],
        data=payload,
    )


def body_of(env: Envelope) -> bytes:
    """The canonical JSON bytes of an event (what is published, signed and sent)."""
    return env.model_dump_json().encode()
