"""``icop keys``: credential-vault key management (generate a key, re-encrypt every credential under the
primary)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

keys_app = typer.Typer(help="Credential vault keys (AES-256-GCM).", no_args_is_help=True)
console = Console()


@keys_app.command("generate")
def generate(key_id: Annotated[str, typer.Argument(help="Id for the new key, e.g. k2.")]) -> None:
    """Print a new ``kid:base64`` key. Put it FIRST in ICOP_VAULT_KEYS, keep the old ones, then run rotate."""
    console.print(f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}", soft_wrap=True)


@keys_app.command("rotate")
def rotate(
    state_dir: Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Re-encrypt every stored credential under the primary (first) key of ICOP_VAULT_KEYS, online.

    Readers keep working throughout: each value names its key, and every listed key can decrypt. When
    this reports zero rows left, older keys may be removed from ICOP_VAULT_KEYS.
    """
    from icop.db import create_pool
    from icop.settings import load_settings
    from icop.vault import Vault, rotate_credentials

    settings = load_settings(state_dir)
    vault = Vault.from_spec(settings.vault_keys.get_secret_value())

    async def _run() -> None:
        pool = await create_pool(settings.pg_dsn("app"), 1, 2)
        try:
            report = await rotate_credentials(pool, vault, batch=batch)
        finally:
            await pool.close()
        console.print(
            f"primary key [bold]{vault.primary_key_id}[/]: {report.rows_rotated} credential(s) "
            f"re-encrypted across {report.tenants} tenant(s)"
        )
        if report.refused:
            console.print(
                f"[yellow]{len(report.refused)} credential(s) do not authenticate under any configured key "
                f"and were left unchanged:[/] {', '.join(map(str, report.refused))}"
            )

    asyncio.run(_run())
