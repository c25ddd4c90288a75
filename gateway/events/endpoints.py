"""``GET /v1/events/stream``: the caller's own tenant's events as Server-Sent Events.

Each event is ``id: <event id>``, ``event: <type>``, ``data: <envelope JSON>``. A client that reconnects
with ``Last-Event-ID`` gets every event after that one (the outbox keeps them); without it the stream
starts at the newest event. The stream reads the outbox in short tenant transactions (never one held
open), polling every half second, with a comment line every 15 s to keep proxies from closing it.

The caller's credential is checked again every ``RECHECK_S`` seconds in one of those transactions: once
the user is disabled, the session logged out or the API key revoked (or suspended with its creator), the
stream sends an ``event: revoked`` and ends. A stream therefore outlives its credential by at most
``RECHECK_S`` plus one poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from icop.db import tenant_tx
from icop.errors import InvalidRequest, NotFound
from icop.events import stream

from ..context import ViewerTx, pool_of, still_valid
from ..problems import errors

router = APIRouter(prefix="/v1/events", tags=["events"], responses=errors(401, 403, 429))
POLL_S = 0.5
KEEPALIVE_S = 15.0
RECHECK_S = 2.0


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events, one per event"},
        **errors(404, 422),
    },
    summary="Live stream of this tenant's events (SSE; resume with Last-Event-ID)",
)
async def event_stream(
    tx: ViewerTx,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    who, pool, tenant = tx.who, pool_of(tx.services), tx.tenant_id
    if last_event_id:
        try:
            event_id = UUID(last_event_id)
        except ValueError as e:
            raise InvalidRequest("Last-Event-ID must be an event id") from e
        found = await stream.cursor_of(tx.conn, tenant, event_id)
        if found is None:
            raise NotFound("no such event for this tenant: start without Last-Event-ID")
        cursor = found
    else:
        cursor = await stream.head(tx.conn, tenant)

    async def body() -> AsyncIterator[bytes]:
        nonlocal cursor
        yield b"retry: 2000\n\n"
        quiet_since = checked = time.monotonic()
        while True:
            recheck = time.monotonic() - checked >= RECHECK_S
            async with tenant_tx(pool, tenant, durable=False) as conn:
                valid = not recheck or await still_valid(conn, who)
                events, cursor = await stream.after(conn, tenant, cursor) if valid else ([], cursor)
            if not valid:
                yield b'event: revoked\ndata: {"detail": "the credential was revoked"}\n\n'
                return
            if recheck:
                checked = time.monotonic()
            for e in events:
                yield f"id: {e.id}\nevent: {e.type}\ndata: {e.model_dump_json()}\n\n".encode()
            if events:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_S)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
