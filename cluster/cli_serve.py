"""``icop serve deploy|status``: ICOP's Ray Serve applications on the stack's cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

serve_app = typer.Typer(
    help="Ray Serve applications (TopicClusterer, the three Writers, images, JPEG) from one config file.",
    no_args_is_help=True,
)
console = Console()
StateDir = Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config", exists=True, dir_okay=False, help="Serve config (default cluster/serve_config.yaml)."
    ),
]


def _table(statuses, served: dict[str, int] | None = None) -> Table:
    t = Table(title="Serve applications")
    for col in ("application", "status", "running replicas", "served", "message"):
        t.add_column(col, overflow="fold")
    for s in statuses:
        reps = ", ".join(f"{d}={n}" for d, n in s.replicas.items())
        count = ", ".join(f"{d}={(served or {}).get(f'{s.name}/{d}', 0)}" for d in s.replicas)
        t.add_row(s.name, s.status, reps, count, s.message[:200])
    return t


@serve_app.command("deploy")
def deploy(state_dir: StateDir = None, config: Config = None, timeout: float = 300.0) -> None:
    """Deploy every application of the Serve config on the stack's Ray cluster and wait until it runs.

    Needs `icop stack up`. Re-running applies changes (Serve updates what differs). The first deploy
    loads the embedding model and warms BERTopic (about a minute on 2 cores)."""
    from icop.offline import apply_offline_env
    from icop.settings import load_settings

    from .loopback import as_ray_driver
    from .serve_apps import SERVE_CONFIG
    from .serve_apps import deploy as do_deploy
    from .startup import refuse_unready

    settings = load_settings(state_dir)
    as_ray_driver(settings.ray_node_ip, settings.state_path)  # a Ray driver: its gRPC server on loopback
    apply_offline_env()
    refuse_unready(settings)  # the builders check again, in the environment the replicas get
    with console.status("deploying the Serve applications…"):
        try:
            statuses = do_deploy(settings, config or SERVE_CONFIG, timeout)
        except (RuntimeError, TimeoutError) as e:
            console.print(f"[bold red]error:[/] {e}")
            raise typer.Exit(1) from e
    console.print(_table(statuses))


@serve_app.command("status")
def status(state_dir: StateDir = None) -> None:
    """Each Serve application's status, its running replicas and the requests each deployment has served
    since the cluster started (counted by the replicas: deployments/ledger.py)."""
    from deployments.ledger import served_totals
    from icop.offline import apply_offline_env
    from icop.settings import load_settings

    from .serve_apps import status as get_status

    apply_offline_env()
    statuses = get_status(load_settings(state_dir))
    console.print(_table(statuses, served_totals()))
