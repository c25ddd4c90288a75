"""The ``icop`` command: the local stack, the database, and (as modules land) the product's jobs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from icop.offline import apply_offline_env

apply_offline_env()

app = typer.Typer(
    help="ICOP — Intelligent Content Orchestration Platform.\n\n"
    "Start with `icop stack up`, then `icop db migrate`; `make demo` runs the whole demo.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
stack_app = typer.Typer(help="The embedded local stack (PostgreSQL + pgvector, Temporal, Ray), on loopback.")
db_app = typer.Typer(help="Database bootstrap and migrations.")
app.add_typer(stack_app, name="stack")
app.add_typer(db_app, name="db")
from .cli_gateway import gateway_app  # noqa: E402 - after apply_offline_env
from .cli_keys import keys_app  # noqa: E402 - after apply_offline_env

app.add_typer(keys_app, name="keys")
app.add_typer(gateway_app, name="gateway")
from .cli_graph import graph_app  # noqa: E402 - after apply_offline_env

app.add_typer(graph_app, name="graph")
from .cli_worker import worker_app  # noqa: E402 - after apply_offline_env

app.add_typer(worker_app, name="worker")
from .cli_serve import serve_app  # noqa: E402 - after apply_offline_env

app.add_typer(serve_app, name="serve")
from .cli_embeddings import embeddings_app  # noqa: E402 - after apply_offline_env
from .cli_events import events_app  # noqa: E402 - after apply_offline_env

app.add_typer(events_app, name="events")
app.add_typer(embeddings_app, name="embeddings")
from .cli_backfill import BACKFILL_HELP, backfill, schedules_app  # noqa: E402 - after apply_offline_env

app.command("backfill", help=BACKFILL_HELP)(backfill)
app.add_typer(schedules_app, name="schedules")
from .cli_tenants import tenants_app  # noqa: E402 - after apply_offline_env

app.add_typer(tenants_app, name="tenants")

console = Console()
err = Console(stderr=True)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", envvar="ICOP_STATE_DIR", help="Folder for the stack's state (default .icop)."
    ),
]


def _fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}")  # paths like app/[id]/page.tsx stay intact
    raise typer.Exit(code)


def _status_table(rows: list) -> Table:
    t = Table(title="ICOP stack")
    for col in ("component", "address", "state", "pid", "detail"):
        t.add_column(col)
    for st in rows:
        state = (
            "[green]healthy[/]"
            if st.healthy
            else ("[yellow]unhealthy[/]" if st.running else "[red]stopped[/]")
        )
        t.add_row(st.name, st.address, state, str(st.pid or "-"), st.detail)
    return t


Apps = Annotated[
    bool,
    typer.Option(
        "--apps/--no-apps",
        envvar="ICOP_STACK_APPS",
        help="Also run the product: the gateway, a worker and the dashboard (built on first use; "
        "ports ICOP_GATEWAY_PORT, ICOP_DASHBOARD_PORT).",
    ),
]


WithMetrics = Annotated[
    bool,
    typer.Option(
        "--with-metrics",
        envvar="ICOP_STACK_METRICS",
        help="Also run Prometheus on loopback (ICOP_PROMETHEUS_PORT), scraping the gateway, the worker, the "
        "events worker, Temporal, Ray and SeaweedFS, with the alert rules of cluster/prometheus/alerts.yml "
        "(needs Debian's prometheus: scripts/install.sh).",
    ),
]


@stack_app.command("up")
def stack_up(state_dir: StateDir = None, apps: Apps = True, with_metrics: WithMetrics = False) -> None:
    """Start every component (idempotent: what already runs is reported, not restarted).

    With the apps (the default), the database is migrated and the gateway, a worker (after the Serve
    applications are deployed) and the dashboard start too; the dashboard is built first when its
    sources changed (npm ci + next build, a few minutes the first time). With --with-metrics, a Prometheus
    scrapes them all (its URL is printed; the Grafana dashboard is cluster/grafana/icop.json)."""
    from .processes import StackError
    from .stack import LocalStack

    stack = LocalStack.open(state_dir, apps=apps, metrics=with_metrics)
    t0 = time.monotonic()
    try:
        with console.status("starting the stack…") as status:
            results = stack.up(progress=lambda name: status.update(f"starting {name}…"))
    except StackError as e:
        _fail(str(e))
    for r in results:
        if r.started:
            console.print(f"[green]started[/] {r.name} at {r.status.address} in {r.seconds:.1f}s")
        else:
            console.print(f"[cyan]already running[/] {r.name} at {r.status.address}")
    console.print(_status_table([r.status for r in results]))
    console.print(f"stack ready in {time.monotonic() - t0:.1f}s; state in {stack.state_dir}")
    if stack.app_running("dashboard"):
        from .apps import dashboard_url

        console.print(f"dashboard: [bold]{dashboard_url(stack.s)}[/] (sign up there, or run `icop demo`)")
    if with_metrics:
        console.print(f"Prometheus: [bold]http://{stack.s.bind_host}:{stack.s.prometheus_port}[/]")


@stack_app.command("down")
def stack_down(state_dir: StateDir = None) -> None:
    """Stop what `icop stack up` started in this state folder, and nothing else."""
    from .stack import LocalStack

    stopped = LocalStack.open(state_dir).down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@stack_app.command("status")
def stack_status(state_dir: StateDir = None) -> None:
    """Show each component, its address and its health (exit 1 if any is not healthy)."""
    from .stack import LocalStack

    rows = LocalStack.open(state_dir).status()
    console.print(_status_table(rows))
    if not all(r.healthy for r in rows):
        raise typer.Exit(1)


@db_app.command("migrate")
def db_migrate(state_dir: StateDir = None) -> None:
    """Bootstrap roles and pgvector (when a superuser is configured) and apply pending migrations."""
    from icop.db.migrate import MigrationError, setup_database
    from icop.settings import load_settings

    settings = load_settings(state_dir)
    try:
        applied = asyncio.run(setup_database(settings))
    except (MigrationError, OSError) as e:
        _fail(f"{e}. Is the database running (`icop stack status`)?")
    except Exception as e:  # asyncpg errors: show the server's message
        _fail(f"migration failed: {e}")
    if applied:
        for m in applied:
            console.print(f"[green]applied[/] {m.version:04d}_{m.name}")
    else:
        console.print("database is up to date")


@app.command("demo")
def demo(
    state_dir: StateDir = None,
    subtopics: Annotated[int, typer.Option(min=1, max=10, help="Sub-topics (articles) per plan row.")] = 2,
    apps: Apps = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render and check the posts, send none.")
    ] = False,
) -> None:
    """Run the whole product on the embedded default stack (no API keys needed).

    Starts the stack, signs up a demo tenant, connects the four platforms, back-fills the example plan
    (examples/plan.csv) through Temporal: sub-topics, articles, images and JPEGs in the stack's S3 server,
    posts to Facebook, Instagram, Threads and X (emulated; `--dry-run` sends none) and sheet write-back,
    then prints what was produced and where, each post with its platform id and permalink. Providers
    with a key configured are used for real; the others run against the local emulators.
    """
    from icop.settings import load_settings

    from .demo import DemoError, run_demo
    from .loopback import as_ray_driver
    from .processes import StackError
    from .stack import LocalStack

    settings = load_settings(state_dir)
    as_ray_driver(settings.ray_node_ip, settings.state_path)  # a Ray driver: its gRPC server on loopback
    console.rule("ICOP demo — embedded stack")
    try:
        r = run_demo(
            console, str(state_dir) if state_dir else None, want=subtopics, apps=apps, dry_run=dry_run
        )
    except (StackError, DemoError) as e:
        _fail(str(e))
        return
    console.print(_status_table(LocalStack.open(state_dir, apps=apps).status()))
    console.print(
        f"Run {r.run_id} {r.run_status} in {r.seconds:.0f} s: {r.articles} articles, {r.images} images, "
        + (
            f"{r.posts} dry-run posts, "
            if r.dry_run
            else f"{r.posts} posts ({', '.join(f'{p} {n}' for p, n in r.published.items())} on the "
            "platforms' side), "
        )
        + f"{len(r.problems)} plan rows skipped with a reason. "
        f"Log in to the API as {r.email} (password in the state folder's demo-logins.txt)."
    )
    if r.dashboard_url:
        console.print(
            f"Dashboard: [bold]{r.dashboard_url}[/] — log in as [bold]{r.email}[/] with password "
            f"[bold]{r.password}[/] (also in the state folder's demo-logins.txt)."
        )
    console.print("Stop everything with [bold]icop stack down[/] (or `make stack-down`).")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()  # typer exits with the command's status
