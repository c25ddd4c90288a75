"""The start-up check of the commands that serve or work (`icop gateway serve`, `icop worker`, `icop events`,
`icop serve deploy`): in production, what would hurt (``icop.production``) is refused with the list of what
to set, exit code 1."""

from __future__ import annotations

from collections.abc import Iterable

import typer

from icop.production import ProductionConfigError, require_production_ready
from icop.settings import Settings


def refuse_unready(settings: Settings, listen_hosts: Iterable[str] = ()) -> None:
    try:
        require_production_ready(settings, listen_hosts)
    except ProductionConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
