"""``icop graph``: run the article graph on one topic and print the final Markdown.

With the embedded stack up and no provider keys configured, the writers and agents talk to the
stack's emulators; with ``--tenant-id`` the run is checkpointed in PostgreSQL under ``--thread-id``
(run it again with the same id after a crash: finished nodes are not paid for twice) and its token
usage is recorded for that tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

graph_app = typer.Typer(
    help="The article agent graph (research → writers ×3 → editor|merger → SEO → …).", no_args_is_help=True
)


def graph_settings(state_dir: Path | None, offline: bool = False):
    """Settings for the CLI: the stack's emulators stand in for every LLM provider that has no key,
    when they are running; ``offline`` uses the in-process offline provider instead."""
    import httpx

    from cluster.emulators import provider_env
    from icop.settings import load_settings

    settings = load_settings(state_dir)
    llm_keys = ("openai_api_key", "anthropic_api_key", "gemini_api_key")
    search_keys = ("tavily_api_key", "naver_client_id", "naver_client_secret")
    if offline:
        return load_settings(state_dir, **{k: None for k in (*llm_keys, *search_keys)})
    if any(getattr(settings, k) for k in llm_keys):
        return settings
    try:
        with httpx.Client(trust_env=False, timeout=2) as c:
            up = (
                c.get(f"http://{settings.bind_host}:{settings.emulator_port}/_admin/health").status_code
                == 200
            )
    except httpx.HTTPError:
        up = False
    if not up:
        return settings
    prefixes = (
        "ICOP_OPENAI_",
        "ICOP_ANTHROPIC_",
        "ICOP_GEMINI_",
        "ICOP_TAVILY_",
        "ICOP_NAVER_",
        "ICOP_RESEARCH_",
    )
    env = {
        k.removeprefix("ICOP_").lower(): v
        for k, v in provider_env(settings).items()
        if k.startswith(prefixes)
    }
    return load_settings(state_dir, **env)


async def run_graph(
    settings: Any,
    topic: str,
    mode: Literal["compare", "merge"],
    language: str,
    notes: str,
    image_urls: list[str],
    tenant_id: str | None,
    thread_id: str,
    article_id: str | None,
    search_provider: str = "",
) -> dict[str, Any]:
    from graphs.article.checkpoint import PgCheckpointSaver
    from graphs.article.graph import article_input, default_graph
    from icop.connectors.usage import UsageRecorder
    from icop.db import create_pool

    pool = await create_pool(settings.pg_dsn("app"), 1, 4) if tenant_id else None
    try:
        graph = default_graph(
            settings,
            pool,
            checkpointer=PgCheckpointSaver(pool, tenant_id) if pool and tenant_id else None,
            usage_sink=UsageRecorder(pool) if pool else None,
        )
        config = {"configurable": {"thread_id": thread_id}}
        resume = False
        if pool is not None:
            snapshot = await graph.aget_state(config)
            resume = bool(snapshot.next)  # an unfinished run under this thread: resume it
        inp = (
            None
            if resume
            else article_input(
                topic,
                mode,
                language,
                notes=notes,
                image_urls=image_urls,
                tenant_id=tenant_id,
                article_id=article_id,
                search_provider=search_provider,
            )
        )
        return dict(await graph.ainvoke(inp, config))
    finally:
        if pool is not None:
            await pool.close()


@graph_app.command("run")
def run(
    topic: Annotated[str, typer.Option("--topic", help="The topic, in the article's language.")],
    mode: Annotated[
        str, typer.Option("--mode", help="compare (Editor picks the best draft) or merge.")
    ] = "compare",
    language: Annotated[str, typer.Option("--language", help="Article language code, e.g. en, ko.")] = "en",
    notes: Annotated[str, typer.Option("--notes", help="Editorial notes for the writers.")] = "",
    image_url: Annotated[
        list[str] | None, typer.Option("--image-url", help="Image URL to place (repeatable).")
    ] = None,
    tenant_id: Annotated[
        str | None, typer.Option("--tenant-id", help="Checkpoint and bill this tenant.")
    ] = None,
    thread_id: Annotated[
        str | None, typer.Option("--thread-id", help="Resume key (with --tenant-id).")
    ] = None,
    article_id: Annotated[
        str | None, typer.Option("--article-id", help="generated_articles row to bill.")
    ] = None,
    search_provider: Annotated[
        str, typer.Option("--search-provider", help="auto (Naver for Korean, else Tavily), tavily or naver.")
    ] = "",
    offline: Annotated[
        bool, typer.Option("--offline", help="In-process offline provider, no emulators.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole final state as JSON.")] = False,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", envvar="ICOP_STATE_DIR")] = None,
) -> None:
    """Run the graph on one topic and print the final Markdown (progress and agent logs on stderr)."""
    from icop.offline import apply_offline_env

    apply_offline_env()
    if mode not in ("compare", "merge"):
        raise typer.BadParameter("--mode must be compare or merge")
    if search_provider not in ("", "auto", "tavily", "naver"):
        raise typer.BadParameter("--search-provider must be auto, tavily or naver")
    graph_mode: Literal["compare", "merge"] = "merge" if mode == "merge" else "compare"
    settings = graph_settings(state_dir, offline)
    thread = thread_id or str(uuid.uuid4())
    from graphs.article.nodes import AllWritersFailed, ResearchFailed

    try:
        with contextlib.redirect_stdout(sys.stderr):  # agent frameworks print panels: keep stdout clean
            state = asyncio.run(
                run_graph(
                    settings,
                    topic,
                    graph_mode,
                    language,
                    notes,
                    list(image_url or []),
                    tenant_id,
                    thread,
                    article_id,
                    search_provider,
                )
            )
    except (AllWritersFailed, ResearchFailed) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for f in state.get("writer_failures", []):
        typer.echo(f"warning: writer {f['writer']} failed ({f['kind']}): {f['message']}", err=True)
    report = state.get("research_report") or {}
    if state.get("sources"):
        typer.echo(f"research: {len(state['sources'])} sources via {report.get('provider')}", err=True)
    else:
        typer.echo(f"warning: the article is unsourced: {report.get('reason')}", err=True)
    typer.echo(f"thread {thread}", err=True)
    if as_json:
        typer.echo(json.dumps(state, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(state["markdown"], nl=False)
