"""``icop worker all|planning|agents|images|syndication``: the Temporal workers of the module queues."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer

worker_app = typer.Typer(
    help="Temporal workers: one per module queue, or `all` in one process.", no_args_is_help=True
)


QueuePrefix = Annotated[str, typer.Option("--queue-prefix", help="Task queue prefix (one queue per module).")]
Models = Annotated[
    str,
    typer.Option(
        "--models",
        help="serve (default, the product path): sub-topic clustering, the writers, image generation and "
        "JPEG conversion on their Ray Serve deployments (`icop serve deploy`); local: the same work in "
        "this process, for development without Ray.",
    ),
]
StateDir = Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")]
FastFailover = Annotated[
    bool,
    typer.Option(
        "--fast-failover",
        help="Shorter timeouts of short activities (10 s) and retry intervals: a killed worker's "
        "work is retried sooner (workflows.policies.use_fast_failover).",
    ),
]


MetricsPort = Annotated[
    int | None,
    typer.Option(
        "--metrics-port", help="Prometheus /metrics port (0: none); default ICOP_WORKER_METRICS_PORT."
    ),
]


def _run(
    module: str,
    queue_prefix: str,
    models: str,
    state_dir: Path | None,
    fast_failover: bool = False,
    metrics_port: int | None = None,
) -> None:
    """Poll the module's task queue(s) until interrupted (SIGINT/SIGTERM stop gracefully)."""
    from icop.offline import apply_offline_env
    from icop.settings import load_settings

    from .loopback import as_ray_driver

    settings = load_settings(state_dir)
    as_ray_driver(settings.ray_node_ip, settings.state_path)  # a Ray driver: its gRPC server on loopback
    apply_offline_env()
    if models not in ("serve", "local"):
        raise typer.BadParameter("--models must be serve or local")
    from workflows import policies
    from workflows.types import MODULES, Queues
    from workflows.worker import ModelBackend, run_worker

    from .startup import refuse_unready

    if fast_failover:
        policies.use_fast_failover()

    from icop.observability.logs import configure_logging
    from icop.observability.metrics import serve_metrics
    from icop.observability.tracing import configure_tracing

    configure_logging(settings, "worker")
    configure_tracing(settings, "worker")
    refuse_unready(settings)
    port = settings.worker_metrics_port if metrics_port is None else metrics_port
    serve_metrics(settings.metrics_host, port)
    modules = list(MODULES) if module == "all" else [module]

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        typer.echo(f"worker: {', '.join(modules)} on queues {queue_prefix}-*", err=True)
        backend: ModelBackend = "local" if models == "local" else "serve"
        await run_worker(settings, modules, Queues.with_prefix(queue_prefix), backend, stop)

    asyncio.run(main())


def _command(module: str, help_text: str) -> None:
    def command(
        queue_prefix: QueuePrefix = "icop",
        models: Models = "serve",
        state_dir: StateDir = None,
        fast_failover: FastFailover = False,
        metrics_port: MetricsPort = None,
    ) -> None:
        _run(module, queue_prefix, models, state_dir, fast_failover, metrics_port)

    command.__doc__ = help_text
    worker_app.command(module)(command)


_command("all", "Every module's queue in one process (the embedded default).")
_command("planning", "Plan reading, sub-topics and sheet write-back; runs PipelineRun and Topic workflows.")
_command("agents", "The agent graph and the Markdown; runs Article workflows.")
_command("images", "Image generation and JPEG conversion.")
_command("syndication", "Publishing to the social platforms.")
