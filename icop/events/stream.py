"""Reading a tenant's events in order, for the live stream (SSE) and its ``Last-Event-ID`` resume.

Rows are ordered by (xid, seq) and only read below the oldest transaction still running
(``pg_snapshot_xmin``): a transaction that commits late cannot slip in behind a reader's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from .outbox import envelope_of
from .schemas import Envelope


@dataclass(frozen=True)
class Cursor:
    xid: int
    seq: int


async def cursor_of(conn: asyncpg.Connection, tenant_id: UUID, event_id: UUID) -> Cursor | None:
    """The position of a known event (``Last-Event-ID``), or None if the tenant has no such event."""
    row = await conn.fetchrow(
        "SELECT xid::text::bigint AS xid, seq FROM outbox WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        event_id,
    )
    return Cursor(row["xid"], row["seq"]) if row else None


async def head(conn: asyncpg.Connection, tenant_id: UUID) -> Cursor:
    """The position after the tenant's newest settled event (a new stream starts here)."""
    row = await conn.fetchrow(
        """SELECT xid::text::bigint AS xid, seq FROM outbox
           WHERE tenant_id = $1 AND xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY xid DESC, seq DESC LIMIT 1""",
        tenant_id,
    )
    return Cursor(row["xid"], row["seq"]) if row else Cursor(0, 0)


async def after(
    conn: asyncpg.Connection, tenant_id: UUID, cursor: Cursor, limit: int = 100
) -> tuple[list[Envelope], Cursor]:
    rows = await conn.fetch(
        """SELECT id, tenant_id, type, version, occurred_at, payload, xid::text::bigint AS x, seq FROM outbox
           WHERE tenant_id = $1 AND (xid, seq) > ($2::text::xid8, $3)
             AND xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY xid, seq LIMIT $4""",
        tenant_id,
        str(cursor.xid),
        cursor.seq,
        limit,
    )
    if not rows:
        return [], cursor
    return [envelope_of(r) for r in rows], Cursor(rows[-1]["x"], rows[-1]["seq"])
