"""The single place where a transaction gets its tenant.

``tenant_tx`` opens a transaction on a pooled connection and sets ``app.tenant_id`` with
``set_config(..., true)``: transaction-local, so the setting ends with the transaction and a pooled
connection never carries one tenant's id into the next request. Nothing else in the code sets it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from pgvector.asyncpg import register_vector

TenantId = UUID


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    try:
        await register_vector(conn)
    except ValueError:  # extension not installed yet (before the bootstrap step)
        pass


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool for the application role; every connection knows jsonb and pgvector types."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool


@asynccontextmanager
async def tenant_tx(
    pool: asyncpg.Pool, tenant_id: TenantId | str, *, durable: bool = True
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which row-level security sees exactly one tenant.

    Commits when the block ends normally, rolls back on an exception. ``durable=False`` lets the commit
    return before its WAL is flushed (``synchronous_commit`` off, for this transaction only): for one whose
    only writes may be lost in a server crash (a request counter), never for data a caller was promised.
    """
    tid = str(UUID(str(tenant_id)))  # refuse anything that is not a UUID before it reaches SQL
    async with pool.acquire() as conn, conn.transaction():
        if durable:  # the server's own synchronous_commit (it may be stricter than "on", e.g. remote_apply)
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tid)
        else:
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true), set_config('synchronous_commit', 'off', true)",
                tid,
            )
        yield conn
