"""``icop tenants``: operator actions on a tenant (its plan: sign-up always starts on starter)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

tenants_app = typer.Typer(help="Operator actions on tenants.", no_args_is_help=True)
console = Console()


@tenants_app.command("set-plan")
def set_plan(
    tenant: Annotated[UUID, typer.Argument(help="The tenant's id (GET /v1/tenant shows it).")],
    plan: Annotated[str, typer.Argument(help="starter, growth or enterprise.")],
    state_dir: Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")] = None,
) -> None:
    """Put a tenant on a plan (recorded in its audit log). Tenants cannot choose a paid plan themselves."""
    from icop.db import create_pool
    from icop.plans import Plan
    from icop.settings import load_settings
    from icop.tenants import UnknownTenant
    from icop.tenants import set_plan as set_tenant_plan

    if plan not in {p.value for p in Plan}:
        raise typer.BadParameter(f"plan must be one of {', '.join(p.value for p in Plan)}")
    settings = load_settings(state_dir)

    async def _run() -> str:
        pool = await create_pool(settings.pg_dsn("app"), 1, 1)
        try:
            return await set_tenant_plan(pool, tenant, plan)
        finally:
            await pool.close()

    try:
        old = asyncio.run(_run())
    except UnknownTenant as e:
        console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None
    console.print(f"tenant {tenant}: plan {old} → [bold]{plan}[/]")
