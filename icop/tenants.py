"""Operator actions on a tenant. A tenant's plan is set here (``icop tenants set-plan``) or by a billing
flow, never by the tenant itself: sign-up always starts on the starter plan."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from icop.db import tenant_tx
from icop.plans import Plan


class UnknownTenant(LookupError):
    """No tenant has that id."""


async def set_plan(pool: asyncpg.Pool, tenant_id: UUID, plan: str) -> str:
    """Put the tenant on ``plan`` (recorded in its audit log); returns the plan it had."""
    new = Plan(plan)  # ValueError names the plans
    async with tenant_tx(pool, tenant_id) as conn:
        old: str | None = await conn.fetchval("SELECT plan FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
        if old is None:
            raise UnknownTenant(f"no tenant {tenant_id}")
        await conn.execute("UPDATE tenants SET plan = $2 WHERE id = $1", tenant_id, new.value)
        await conn.execute(
            "INSERT INTO audit_log (tenant_id, actor_kind, action, detail) VALUES ($1, 'system', $2, $3)",
            tenant_id,
            "tenant.plan_changed",
            {"from": old, "to": new.value},
        )
    return old
