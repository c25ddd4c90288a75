"""``icop embeddings reembed``: rewrite stored vectors after the embedding model changed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from icop.embeddings import EmbeddingModel
    from icop.embeddings.reembed import Reembedder

embeddings_app = typer.Typer(help="Embedding models of stored vectors.", no_args_is_help=True)
StateDir = Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="One tenant's id (default: every tenant).")]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", help="e5-small or minilm for every row (default: ICOP_EMBEDDING_MODEL's choice)."
    ),
]


async def _reembed_tenant(
    r: Reembedder, tenant: UUID, model: EmbeddingModel | None, console: Console
) -> None:
    groups = await r.plan(tenant, model)
    if not groups:
        console.print(f"tenant {tenant}: every vector is on its model")
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip
    with bar:
        tasks: dict[str, TaskID] = {
            table: bar.add_task(
                f"{str(tenant)[:8]} {table}", total=sum(g.pending for g in groups if g.table == table)
            )
            for table in sorted({g.table for g in groups})
        }
        report = await r.run(tenant, model, lambda table, n, _total: bar.advance(tasks[table], n))
    console.print(
        f"tenant {tenant}: re-embedded " + ", ".join(f"{n} {t}" for t, n in report.rewritten.items())
    )


@embeddings_app.command("reembed")
def reembed(
    tenant: TenantOpt = None,
    model: ModelOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Rows per transaction.")] = 64,
    state_dir: StateDir = None,
) -> None:
    """Re-embed stored sub-topics and brand-voice samples that are not on their model.

    Each batch commits on its own: an interrupted run keeps its work, and running it again resumes (rows
    already on their target model are skipped)."""
    from icop.db import create_pool
    from icop.embeddings import EMBEDDING_MODELS, EmbeddingChoice
    from icop.embeddings.reembed import Reembedder
    from icop.settings import load_settings

    if model is not None and model not in EMBEDDING_MODELS:
        raise typer.BadParameter(f"use one of {', '.join(EMBEDDING_MODELS)}", param_hint="--model")
    try:
        tenant_id = UUID(tenant) if tenant else None
    except ValueError:
        raise typer.BadParameter("a tenant id is a UUID", param_hint="--tenant") from None
    settings = load_settings(state_dir)
    console = Console(stderr=True, soft_wrap=True)

    async def main() -> None:
        pool = await create_pool(settings.pg_dsn("app"), 1, 4)
        try:
            r = Reembedder(pool, EmbeddingChoice.from_settings(settings), batch)
            for t in [tenant_id] if tenant_id else await r.tenants():
                await _reembed_tenant(r, t, model, console)
        finally:
            await pool.close()

    asyncio.run(main())
