"""`icop demo`: the main job, the whole product on the embedded default stack, with no API keys.

Stack up → migrate → a demo tenant signed up through the public API → the four platforms' accounts
connected (tokens issued by the social emulator, stored encrypted) → the tenant's Google account connected
through the API's OAuth flow and the Google emulator's consent page (PKCE, offline access) → the example
plan (`examples/plan.csv`: English and Korean rows and two bad rows) loaded into the Sheets emulator as a
spreadsheet that account owns (the run reads and writes it as that account) → a pipeline on it → a
back-fill started through the API, which starts a durable ``PipelineRunWorkflow`` in Temporal → workers
in this process run it, calling the Ray Serve applications of cluster/serve_config.yaml: sub-topics
(TopicClusterer), articles (the LangGraph/CrewAI graph with the three Writer deployments), images and
JPEGs stored in the stack's S3 server, posts to the four emulated platforms (which fetch the images from
presigned URLs, as the real ones do), sheet write-back → a summary of what was produced and where, each
post with its platform id and permalink. ``dry_run`` renders the posts and sends nothing.

Providers without a key talk to the emulators through their real SDKs; the same command with keys in
the environment (or `.env`) uses the real providers.
"""

from __future__ import annotations

import asyncio
import csv
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from icop.db.migrate import setup_database
from icop.settings import Settings, load_settings

from .stack import LocalStack

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "plan.csv"
PLATFORM_ACCOUNTS = {"facebook": "1010001", "instagram": "1780001", "threads": "27000001", "x": "4400001"}


@dataclass
class DemoReport:
    stack_seconds: float
    migrated: list[str]
    tenant_id: str = ""
    email: str = ""
    password: str = field(default="", repr=False)
    dashboard_url: str = ""  # set when the stack's dashboard runs (``icop stack up`` with its apps)
    run_id: str = ""
    run_status: str = ""
    progress: dict[str, Any] = field(default_factory=dict)
    articles: int = 0
    images: int = 0
    posts: int = 0
    published: dict[str, int] = field(default_factory=dict)  # posts the platforms hold, by platform
    post_links: list[tuple[str, str, str]] = field(default_factory=list)  # (platform, id, permalink)
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cost_usd: str = ""  # what the run's usage cost (GET /v1/costs?run_id=…), priced by the price table
    cost_detail: str = ""


def run_demo(
    console: Console,
    state_dir: str | None = None,
    want: int = 2,
    apps: bool = False,
    dry_run: bool = False,
) -> DemoReport:
    """``apps``: also bring up the gateway, the stack's worker and the dashboard (as ``icop stack up``
    does); the report then carries the dashboard's URL, where the demo login works too. ``dry_run``:
    the posts are rendered and checked against each platform's rules, and not sent."""
    stack = LocalStack.open(state_dir, apps=apps)
    t0 = time.monotonic()
    with console.status("starting the embedded stack…") as status:
        results = stack.up(progress=lambda name: status.update(f"starting {name}…"))
    for r in results:
        verb = "started" if r.started else "already running"
        console.print(f"  {verb:>15} {r.name:<9} {r.status.address}")
    seconds = time.monotonic() - t0
    settings = load_settings(stack.state_dir)
    applied = asyncio.run(setup_database(settings))
    console.print(f"  database migrated ({len(applied)} new migrations)")
    report = DemoReport(seconds, [f"{m.version:04d}_{m.name}" for m in applied], dry_run=dry_run)
    t1 = time.monotonic()
    asyncio.run(_main_job(console, settings, report, want))
    report.seconds = time.monotonic() - t1
    if stack.app_running("dashboard"):
        from .apps import dashboard_url

        report.dashboard_url = dashboard_url(settings)
    return report


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and why."""


class Api:
    """The public API, in this process (the same app `icop gateway serve` runs), as a tenant's admin."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        r = await self.http.request(method, path, **kw)
        if r.status_code >= 400:
            raise DemoError(f"{method} {path} → {r.status_code}: {r.text[:2000]}")
        return r.json() if r.content else None

    def authorize(self, access_token: str) -> None:
        self.http.headers["Authorization"] = f"Bearer {access_token}"


def demo_sheet_id() -> str:
    """A sheet id nobody can guess (128 random bits): the emulator's sheets are reachable by id alone."""
    return f"demo-plan-{secrets.token_hex(16)}"


async def _sign_up(
    api: Api, settings: Settings, console: Console, report: DemoReport, pool: asyncpg.Pool
) -> None:
    """A fresh demo tenant per run (so every run shows the whole pipeline); logins kept in the state dir.
    Sign-up starts every tenant on starter; the demo, as the operator, puts it on growth (four accounts)."""
    from icop.tenants import set_plan

    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    email, password = f"demo-{stamp}@icop.example", secrets.token_urlsafe(12)
    await api.call(
        "POST",
        "/v1/auth/signup",
        json={"company_name": f"Demo Coffee Co. {stamp}", "email": email, "password": password,
              "display_name": "Demo admin"},
    )  # fmt: skip
    pair = await api.call("POST", "/v1/auth/login", json={"email": email, "password": password})
    await set_plan(pool, uuid.UUID(pair["tenant_id"]), "growth")
    api.authorize(pair["access_token"])
    logins = settings.state_path / "demo-logins.txt"
    with logins.open("a", encoding="utf-8") as f:
        f.write(f"{email} {password} tenant={pair['tenant_id']}\n")
    logins.chmod(0o600)
    report.tenant_id, report.email, report.password = str(pair["tenant_id"]), email, password
    console.print(f"  signed up tenant {pair['tenant_id']} as {email} (password in {logins})")


async def _connect_accounts(api: Api, settings: Settings, console: Console) -> list[dict[str, str]]:
    """Each platform's account: a token issued by the social emulator, stored through the API."""
    social = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    async with httpx.AsyncClient(base_url=social, trust_env=False, timeout=10) as emu:
        for platform, account_id in PLATFORM_ACCOUNTS.items():
            r = await emu.post("/_admin/tokens", json={"platform": platform, "account_id": account_id})
            r.raise_for_status()
            tok = r.json()
            body = {"platform": platform, "account_id": account_id, "account_name": f"Demo {platform}",
                    "access_token": tok["token"], "refresh_token": tok.get("refresh_token")}  # fmt: skip
            await api.call("POST", "/v1/credentials", json={k: v for k, v in body.items() if v})
    console.print(f"  connected {', '.join(f'{p}:{a}' for p, a in PLATFORM_ACCOUNTS.items())}")
    return [{"platform": p, "account_id": a} for p, a in PLATFORM_ACCOUNTS.items()]


async def _connect_google(api: Api, settings: Settings, console: Console, report: DemoReport) -> str:
    """The tenant's Google account, connected the way a user does it in the dashboard: the API's authorize
    URL, Allow on the Google (emulator) consent page, the callback with the code. Returns its e-mail."""
    from emulators.client import google_consent

    email = f"demo-{report.tenant_id[:8]}@gmail.example"
    redirect = f"http://{settings.bind_host}:{settings.dashboard_port}/settings/accounts/callback/google"
    started = await api.call("POST", "/v1/credentials/oauth/google/start", json={"redirect_uri": redirect})
    answer = await asyncio.to_thread(google_consent, started["authorize_url"], email)
    await api.call("POST", "/v1/credentials/oauth/google/callback", json=answer)
    console.print(f"  connected Google as {email} (OAuth consent, offline access; tokens in the vault)")
    return email


def _seed_sheet(settings: Settings, sheet_id: str, owner: str, console: Console) -> None:
    """The plan, as a spreadsheet in the demo Google account's Drive (only that account can open it)."""
    from emulators.client import EmulatorAdmin

    with EXAMPLE_PLAN.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    try:
        admin.seed_sheet(
            sheet_id,
            {"ContentPlan": rows, "Subtopics": [["row", "topic", "sub-topic", "status", "url"]]},
            owner=owner,
            title="ICOP demo: content plan",
        )
    finally:
        admin.close()
    console.print(
        f"  loaded {EXAMPLE_PLAN.name} ({len(rows) - 1} rows) into the Sheets emulator as {sheet_id!r}, "
        f"owned by {owner}"
    )


def _deploy_serve_apps(settings: Settings, console: Console) -> None:
    """Every application of cluster/serve_config.yaml on the stack's Ray Serve (updated in place)."""
    from .serve_apps import deploy

    t0 = time.monotonic()
    with console.status("deploying cluster/serve_config.yaml on Ray Serve (TopicClusterer warms BERTopic)…"):
        try:
            statuses = deploy(settings)
        except (RuntimeError, TimeoutError) as e:
            raise DemoError(
                f"Ray Serve: {e}; see `icop serve status` and the Ray logs under the state folder"
            ) from e
    seconds = time.monotonic() - t0
    console.print(f"  Ray Serve: {', '.join(s.name for s in statuses)} running (deployed in {seconds:.0f} s)")


async def _main_job(console: Console, settings: Settings, report: DemoReport, want: int) -> None:
    from gateway.app import create_app
    from icop.db import create_pool
    from workflows.starter import TemporalRunStarter
    from workflows.types import MODULES, Queues
    from workflows.worker import build_activities, close, connect, running_workers

    from .progress import follow_run

    pool = await create_pool(settings.pg_dsn("app"))
    client = await connect(settings)
    queues = Queues()
    app = create_app(settings, pool=pool, run_starter=TemporalRunStarter(client, queues))
    transport = httpx.ASGITransport(app=app)
    acts = None
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60) as http:
            api = Api(http)
            await _sign_up(api, settings, console, report, pool)
            targets = await _connect_accounts(api, settings, console)
            google = await _connect_google(api, settings, console, report)
            sheet_id = demo_sheet_id()
            _seed_sheet(settings, sheet_id, google, console)
            pipeline = await api.call(
                "POST",
                "/v1/pipelines",
                json={"name": "Demo content plan", "source_kind": "sheet", "sheet_id": sheet_id,
                      "mode": "compare", "image_provider": "dalle", "targets": targets,
                      "dry_run": report.dry_run, "subtopics_per_topic": want},
            )  # fmt: skip
            posting = "dry-run posts" if report.dry_run else "posts to the four emulated platforms"
            console.print(f"  pipeline {pipeline['id']}: compare mode, DALL-E images, {posting}")
            await asyncio.to_thread(_deploy_serve_apps, settings, console)
            acts = await build_activities(settings, MODULES, pool=pool, models="serve")
            async with running_workers(client, acts, queues, MODULES):
                run = await api.call(
                    "POST", f"/v1/pipelines/{pipeline['id']}/runs", json={"kind": "backfill"}
                )
                report.run_id = run["id"]
                console.print(f"  back-fill {run['id']} started as workflow {run['workflow_id']}")
                await follow_run(client, pool, uuid.UUID(report.tenant_id), uuid.UUID(run["id"]), console)
            run = await api.call("GET", f"/v1/runs/{report.run_id}")
            report.run_status, report.progress = run["status"], run["progress"]
            # the figure the dashboard's run page shows: this run's usage since it started
            query = {"group_by": "run", "run_id": report.run_id, "since": run["created_at"]}
            costs = await api.call("GET", "/v1/costs", params=query)
            item = next((i for i in costs["items"] if i["id"] == report.run_id), None)
            if item is not None:
                report.cost_usd = item["total_usd"]
                report.cost_detail = f"LLM ${item['llm_usd']}, images ${item['image_usd']}"
        await _summary(console, settings, pool, report, sheet_id)
    finally:
        if acts is not None:
            await close(acts)
        await pool.close()


async def _summary(
    console: Console, settings: Settings, pool: Any, report: DemoReport, sheet_id: str
) -> None:
    from emulators.client import EmulatorAdmin
    from icop.db import tenant_tx

    tenant = uuid.UUID(report.tenant_id)
    async with tenant_tx(pool, tenant) as conn:
        arts = await conn.fetch(
            """SELECT a.id, a.language, a.title, a.status, a.markdown_url, s.row_number,
                      (SELECT count(*) FROM images i WHERE i.article_id = a.id) AS images
                 FROM generated_articles a LEFT JOIN subtopics s ON s.id = a.subtopic_id
                WHERE a.run_id = $1 ORDER BY s.row_number, a.created_at""",
            uuid.UUID(report.run_id),
        )
        posts = await conn.fetch(
            """SELECT p.platform, p.account_id, p.status, p.platform_post_id, p.permalink, p.error, a.title
                 FROM posts p JOIN generated_articles a ON a.id = p.article_id
                WHERE p.tenant_id = $1 AND a.run_id = $2 ORDER BY a.created_at, p.platform""",
            tenant,
            uuid.UUID(report.run_id),
        )
        skipped = await conn.fetch(
            "SELECT row_number, reason FROM run_rows WHERE run_id = $1 AND status = 'invalid' ORDER BY 1",
            uuid.UUID(report.run_id),
        )
    report.articles, report.images = len(arts), sum(int(a["images"]) for a in arts)
    report.posts = len(posts)
    report.post_links = [
        (p["platform"], p["platform_post_id"], p["permalink"] or "") for p in posts if p["platform_post_id"]
    ]
    if not report.dry_run:
        report.published = await _platform_posts(settings, list(posts))
    report.problems = [f"row {r['row_number']}: {r['reason']}" for r in skipped]

    t = Table(title="articles")
    for h in ("row", "lang", "title", "status", "images", "markdown"):
        t.add_column(h, overflow="fold")
    for a in arts:
        t.add_row(
            str(a["row_number"]),
            a["language"],
            a["title"],
            a["status"],
            str(a["images"]),
            a["markdown_url"] or "",
        )
    console.print(t)
    if report.dry_run:
        pt = Table(title="posts (dry run: rendered and checked against each platform's rules, not sent)")
        for h in ("platform", "status", "posts"):
            pt.add_column(h)
        counts: dict[tuple[str, str], int] = {}
        for p in posts:
            counts[p["platform"], p["status"]] = counts.get((p["platform"], p["status"]), 0) + 1
        for (platform, status), n in sorted(counts.items()):
            pt.add_row(platform, status, str(n))
    else:
        pt = Table(title="posts (sent to the emulated platforms; permalinks are their post pages)")
        for h in ("article", "platform", "account", "status", "platform id", "permalink"):
            pt.add_column(h, overflow="fold")
        for p in posts:
            status = p["status"] if p["status"] == "published" else f"{p['status']}: {p['error'] or ''}"
            pt.add_row(
                p["title"], p["platform"], p["account_id"], status, p["platform_post_id"] or "",
                p["permalink"] or "",
            )  # fmt: skip
    console.print(pt)
    for line in report.problems:
        console.print(f"  [yellow]skipped[/] {line}")
    if report.cost_usd:
        per = f" (${float(report.cost_usd) / report.articles:.4f} per article)" if report.articles else ""
        console.print(
            f"  Cost of the run at the providers' list prices: [bold]${float(report.cost_usd):.4f}[/]{per}: "
            f"{report.cost_detail} (GET /v1/costs?group_by=run&run_id=…; the dashboard's run page shows it)"
        )
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    try:
        _print_sheet(console, admin.read_sheet(sheet_id))
    finally:
        admin.close()


async def _platform_posts(settings: Settings, posts: list[Any]) -> dict[str, int]:
    """This run's posts that the social emulator holds, by platform: counted on the platforms' side."""
    base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    ours = {(p["platform"], p["platform_post_id"]) for p in posts if p["platform_post_id"]}
    out: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        for platform, account_id in PLATFORM_ACCOUNTS.items():
            r = await http.get("/_admin/posts", params={"platform": platform, "account_id": account_id})
            r.raise_for_status()
            out[platform] = sum((platform, x["id"]) in ours for x in r.json()["posts"])
    return out


def _print_sheet(console: Console, book: dict[str, list[list[object]]]) -> None:
    for tab, values in book.items():
        t = Table(title=f"sheet tab {tab} (after write-back)")
        header = [str(h) for h in values[0]] if values else []
        for h in header:
            t.add_column(h, overflow="fold")
        for row in values[1:]:
            t.add_row(*[str(c) for c in row] + [""] * (len(header) - len(row)))
        console.print(t)
