"""``icop events relay|deliver|worker``: the outbox relay and the webhook delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer

events_app = typer.Typer(
    help="Events: the outbox → RabbitMQ relay and the webhook delivery worker.", no_args_is_help=True
)
StateDir = Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")]


def _run(relay: bool, deliver: bool, state_dir: Path | None) -> None:
    """Run until SIGINT/SIGTERM (then stop gracefully: a batch in flight is finished or left unsent)."""
    from icop.db import create_pool
    from icop.events.delivery import DeliveryWorker
    from icop.events.relay import Relay
    from icop.observability.logs import configure_logging
    from icop.observability.metrics import serve_metrics
    from icop.observability.tracing import configure_tracing
    from icop.offline import apply_offline_env
    from icop.settings import load_settings
    from icop.vault import Vault

    from .startup import refuse_unready

    apply_offline_env()
    settings = load_settings(state_dir)
    configure_logging(settings, "events")
    configure_tracing(settings, "events")
    refuse_unready(settings)
    serve_metrics(settings.metrics_host, settings.events_metrics_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        pool = await create_pool(settings.pg_dsn("app"), 1, 10)
        jobs = []
        if relay:
            jobs.append(Relay(pool, settings).run(stop))
        if deliver:
            vault = Vault.from_spec(settings.vault_keys.get_secret_value())
            jobs.append(DeliveryWorker(pool, settings, vault).run(stop))
        typer.echo(f"events: {'relay ' if relay else ''}{'deliver' if deliver else ''} running", err=True)
        try:
            await asyncio.gather(*jobs)
        finally:
            await pool.close()

    asyncio.run(main())


@events_app.command("relay")
def relay_cmd(state_dir: StateDir = None) -> None:
    """Move committed outbox rows to RabbitMQ (publisher confirms; at-least-once)."""
    _run(True, False, state_dir)


@events_app.command("deliver")
def deliver_cmd(state_dir: StateDir = None) -> None:
    """Consume events from RabbitMQ and deliver them to webhook endpoints (signed, retried)."""
    _run(False, True, state_dir)


@events_app.command("worker")
def worker_cmd(state_dir: StateDir = None) -> None:
    """Both in one process (the embedded default)."""
    _run(True, True, state_dir)
