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


async def _on_release(conn: asyncpg.Connection) -> None:
    """What a connection must not carry to its next user: an open transaction (rolled back). Everything
    this code sets is transaction-local (``tenant_tx``, ``SET LOCAL``, ``pg_advisory_xact_lock``) and no
    pooled connection listens or opens cursors outside a transaction, so asyncpg's default reset (CLOSE
    ALL, UNLISTEN *, RESET ALL, advisory unlock: a round trip on every release) has nothing to undo; it
    was a sixth of a worker's CPU in the back-fill profile. asyncpg still drops the connection's listeners.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool for the application role; every connection knows jsonb and pgvector types."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_on_release
    )
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
    # One round trip opens the transaction and sets its tenant (the simple-query protocol takes several
    # statements; the id is a canonical UUID by now, so inlining it is safe). ``durable`` keeps the server's
    # own synchronous_commit (it may be stricter than "on", e.g. remote_apply).
    begin = f"BEGIN; SELECT set_config('app.tenant_id', '{tid}', true)"
    if not durable:
        begin += ", set_config('synchronous_commit', 'off', true)"
    async with pool.acquire() as conn:
        await conn.execute(begin)
        try:
            yield conn
        except BaseException:
            if not conn.is_closed():
                await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


@asynccontextmanager
async def savepoint(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A nested block inside :func:`tenant_tx` that can fail alone (asyncpg's ``conn.transaction()``
    refuses to nest in a transaction begun by a statement, as ``tenant_tx``'s is)."""
    await conn.execute("SAVEPOINT icop_nested")
    try:
        yield conn
    except BaseException:
        if not conn.is_closed():
            await conn.execute("ROLLBACK TO SAVEPOINT icop_nested; RELEASE SAVEPOINT icop_nested")
        raise
    await conn.execute("RELEASE SAVEPOINT icop_nested")
