"""Rules: only admins manage users; a tenant always keeps at least one active admin."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from icop.db import savepoint
from icop.errors import Conflict, NotFound
from icop.security import hash_password, password_error

from ..context import Tx
from .repository import TenantRepository, UserRepository
from .schemas import TenantOut, TenantUpdate, UserCreate, UserOut, UserUpdate

tenants, users = TenantRepository(), UserRepository()


async def get_tenant(tx: Tx) -> TenantOut:
    row = await tenants.get(tx.conn, tx.tenant_id)
    if row is None:
        raise NotFound("tenant not found")
    return TenantOut(**dict(row))


async def update_tenant(tx: Tx, body: TenantUpdate) -> TenantOut:
    return TenantOut(**dict(await tenants.update(tx.conn, tx.tenant_id, body.name, body.timezone)))


async def list_users(tx: Tx) -> list[UserOut]:
    return [UserOut(**dict(r)) for r in await users.list(tx.conn, tx.tenant_id)]


async def get_user(tx: Tx, user_id: UUID) -> UserOut:
    row = await users.get(tx.conn, tx.tenant_id, user_id)
    if row is None:
        raise NotFound("no such user")
    return UserOut(**dict(row))


async def create_user(tx: Tx, body: UserCreate) -> UserOut:
    password = body.password.get_secret_value()
    refused = await asyncio.to_thread(password_error, password, body.email, body.display_name)
    if refused:
        raise refused
    pw = await asyncio.to_thread(hash_password, password)
    try:
        async with savepoint(tx.conn):  # a duplicate e-mail must not poison the request tx
            row = await users.create(tx.conn, tx.tenant_id, body.email, body.display_name, body.role, pw)
    except asyncpg.UniqueViolationError as e:
        raise Conflict("this e-mail address is already registered") from e
    return UserOut(**dict(row))


async def update_user(tx: Tx, user_id: UUID, body: UserUpdate) -> UserOut:
    row = await users.update(tx.conn, tx.tenant_id, user_id, body.display_name, body.role, body.disabled)
    if row is None:
        raise NotFound("no such user")
    if await users.count_active_admins(tx.conn, tx.tenant_id) == 0:
        raise Conflict("a tenant needs at least one active admin")  # the request tx rolls the change back
    # Every request checks the user's status and role, so a new role takes effect at once and needs no new
    # login; a disabled user's sessions end for good (enabling them again does not revive them).
    if row["disabled"]:
        await users.revoke_sessions(tx.conn, tx.tenant_id, user_id)
    return UserOut(**dict(row))
