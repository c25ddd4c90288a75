"""`icop demo`: the main job on the embedded default stack, with no API keys.

Stack up → migrate → a demo tenant (signed up through the gateway's auth service) → the example plan
(`examples/plan.csv`, English and Korean rows and two bad rows) loaded into the Sheets emulator → read
back through the real Sheets SDK → sub-topics for every pending row through the TopicClusterer on Ray
Serve (candidates and labels from the LLM connector; the emulators when no key is configured) → statuses
and sub-topics written back with one ``values.batchUpdate`` per batch → a summary.

Articles, images and posts join this run as the agent graph and the workflows land (issues 6–9).
"""

from __future__ import annotations

import asyncio
import csv
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from icop.db.migrate import setup_database
from icop.settings import Settings, load_settings

from .stack import LocalStack

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "plan.csv"
DEMO_EMAIL = "demo@icop.example"
DEMO_SHEET = "demo-content-plan"


@dataclass
class DemoReport:
    stack_seconds: float
    migrated: list[str]
    tenant_id: str = ""
    planned_rows: int = 0
    subtopics: int = 0
    problems: list[str] = field(default_factory=list)


def run_demo(console: Console, state_dir: str | None = None, want: int = 4) -> DemoReport:
    stack = LocalStack.open(state_dir)
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
    report = DemoReport(seconds, [f"{m.version:04d}_{m.name}" for m in applied])
    asyncio.run(_plan_example(console, settings, report, want))
    return report


async def _demo_tenant(settings: Settings, pool, console: Console) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Sign the demo tenant up once (password kept in the state dir), later log in."""
    from gateway.auth.schemas import Login, SignUp
    from gateway.auth.service import AuthService
    from gateway.config import GatewayConfig
    from icop.errors import Conflict
    from icop.security import TokenCodec

    cfg = GatewayConfig()
    codec = TokenCodec(settings.jwt_secret.get_secret_value(), cfg.jwt_issuer, cfg.jwt_audience, cfg.access_ttl_s)
    auth = AuthService(pool, codec, cfg)
    pw_file = settings.state_path / "demo-password"
    if not pw_file.exists():
        pw_file.write_text(secrets.token_urlsafe(12))
        pw_file.chmod(0o600)
    password = pw_file.read_text().strip()
    try:
        pair = await auth.sign_up(SignUp(company_name="Demo Coffee Co.", plan="growth", email=DEMO_EMAIL,
                                         password=password, display_name="Demo admin"))  # type: ignore[arg-type]
        console.print(f"  signed up demo tenant {pair.tenant_id} (login {DEMO_EMAIL})")
    except Conflict:
        pair = await auth.login(Login(email=DEMO_EMAIL, password=password))  # type: ignore[arg-type]
        console.print(f"  demo tenant {pair.tenant_id} exists; logged in as {DEMO_EMAIL}")
    return str(pair.tenant_id), password


async def _plan_example(console: Console, settings: Settings, report: DemoReport, want: int) -> None:
    import uuid

    import ray
    from ray import serve

    from deployments.topics import APP_NAME, build_topics_app, cluster_call
    from emulators.client import EmulatorAdmin
    from icop.connectors.llm import make_llm
    from icop.connectors.sheets import make_sheets
    from icop.db import create_pool
    from icop.planning.run import plan_sheet
    from icop.planning.service import CandidateExpander, SubtopicPlanner
    from icop.planning.sheet_io import PlanSheet

    pool = await create_pool(settings.pg_dsn("app"))
    try:
        tenant_id, _ = await _demo_tenant(settings, pool, console)
        report.tenant_id = tenant_id
        with EXAMPLE_PLAN.open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
        admin.seed_sheet(DEMO_SHEET, {"ContentPlan": rows, "Subtopics": [["row", "topic", "sub-topic", "status", "url"]]})
        console.print(f"  loaded {EXAMPLE_PLAN.name} ({len(rows) - 1} rows) into the Sheets emulator as {DEMO_SHEET!r}")

        if not ray.is_initialized():
            ray.init(address=settings.ray_target, _node_ip_address=settings.ray_node_ip, log_to_driver=False)
        with console.status("deploying TopicClusterer on Ray Serve (loads the model, warms BERTopic)…"):
            try:
                handle = serve.get_app_handle(APP_NAME)
            except Exception:  # not deployed yet
                handle = serve.run(build_topics_app(settings), name=APP_NAME, route_prefix=None)
        llm = make_llm(settings, "gpt")
        planner = SubtopicPlanner(pool, CandidateExpander(llm, count=30), cluster_call(handle))
        sheet = PlanSheet(make_sheets(settings), DEMO_SHEET)

        def progress(outcome) -> None:  # type: ignore[no-untyped-def]
            r = outcome.row
            if outcome.error:
                console.print(f"  [red]row {r.row_number}[/] {r.topic!r}: {outcome.error}")
            else:
                labels = "; ".join(s.label for s in outcome.subtopics) or "nothing new (already covered)"
                console.print(f"  row {r.row_number} [{r.language}] {r.topic!r} → {labels}")

        with console.status("planning sub-topics…"):
            res = await plan_sheet(pool, sheet, planner, uuid.UUID(tenant_id), want=want, progress=progress)
        report.planned_rows = sum(1 for o in res.outcomes if not o.error)
        report.subtopics = sum(len(o.subtopics) for o in res.outcomes)
        report.problems = [str(p) for p in res.problems]
        for p in res.problems:
            console.print(f"  [yellow]skipped[/] {p}")
        console.print(f"  wrote statuses and sub-topics back in {res.batch_updates} batchUpdate call(s)")
        _print_sheet(console, admin.read_sheet(DEMO_SHEET))
    finally:
        await pool.close()


def _print_sheet(console: Console, book: dict[str, list[list[object]]]) -> None:
    for tab, values in book.items():
        t = Table(title=f"sheet tab {tab} (after write-back)")
        header = [str(h) for h in values[0]] if values else []
        for h in header:
            t.add_column(h, overflow="fold")
        for row in values[1:]:
            t.add_row(*[str(c) for c in row] + [""] * (len(header) - len(row)))
        console.print(t)
