"""Dashboard fixtures: the Next.js build (cached across runs by cluster/dashboard.py), and on the session's
stack the product's app processes, started by the same components as `icop stack up` (cluster/apps.py):

- a live gateway (uvicorn subprocess, ``ICOP_WORKFLOW_ENGINE=temporal``) on a free loopback port;
- a worker subprocess (``icop worker all --models local``) on this package's own task queues, which
  runs the back-fills the browser starts (the example plan, dry-run posts, emulated providers);
- the dashboard (``next start``) pointed at that gateway;
- Debian's Chromium driven by Playwright (async API, on the session's event loop).

Everything is package-scoped: it starts with the first test that needs it and stops after the last test
of tests/dashboard, so the rest of the suite does not carry it. Screenshots, logs and timings go to
``ICOP_SCREENSHOTS_DIR`` when set (e.g. ``docs/screenshots``, via ``make screenshots``), otherwise to a
fresh folder under /tmp whose path the run prints at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from cluster.apps import DashboardComponent, GatewayComponent, WorkerComponent
from cluster.dashboard import DASHBOARD_DIR, BuildResult, ensure_built
from cluster.ports import free_port
from cluster.stack import LocalStack
from icop.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Headless and off the network (STACK.md "Chromium"); Playwright gives each launch its own profile dir.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
TIMINGS: dict[str, float] = {}
_PATHS: dict[str, Path] = {}  # where this run put its artifacts and logs (for the summary)


def record(name: str, seconds: float) -> None:
    TIMINGS[name] = round(seconds, 1)


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """Where screenshots, app logs and timings.json go (committed only from ``make screenshots``)."""
    wanted = os.environ.get("ICOP_SCREENSHOTS_DIR")
    if wanted:
        path = Path(wanted)
        path = path if path.is_absolute() else ROOT / path
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="icop-dashboard-", dir="/tmp"))
    _PATHS["screenshots"] = path
    return path


@pytest.fixture(scope="package")
def logs_dir(artifacts: Path) -> Path:
    """App and build logs: next to the artifacts, except in the committed screenshots folder."""
    logs = artifacts
    if os.environ.get("ICOP_SCREENSHOTS_DIR"):
        logs = Path(tempfile.mkdtemp(prefix="icop-dashboard-logs-", dir="/tmp"))
    _PATHS["logs and timings"] = logs
    return logs


@pytest.fixture(scope="package")
def dashboard_build(logs_dir: Path) -> BuildResult:
    """``npm ci`` when node_modules is missing or the lock changed, ``next build`` when a source changed."""
    t0 = time.monotonic()
    from tests.conftest import DASHBOARD_BUILD  # started in the background at collection (tests/conftest.py)

    future = DASHBOARD_BUILD.get("future")
    if future is not None:
        try:
            result = future.result()
        finally:
            log = DASHBOARD_BUILD["log"]
            if isinstance(log, Path) and log.is_file():
                (logs_dir / "dashboard-build.log").write_text(log.read_text(errors="replace"))
    else:
        result = ensure_built(logs_dir / "dashboard-build.log", DASHBOARD_DIR)
    record("dashboard build (npm ci + next build, as needed)", time.monotonic() - t0)
    record("  npm ci" + ("" if result.installed else " (cached)"), result.install_s)
    record("  next build" + ("" if result.built else " (cached)"), result.build_s)
    return result


@dataclass
class LiveApp:
    settings: Settings  # the session stack's, with this package's ports and queue prefix
    gateway: str  # http://127.0.0.1:PORT (API under /v1)
    dashboard: str  # http://127.0.0.1:PORT
    social: str  # the social emulator (OAuth pages, posts)
    logs: dict[str, Path] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.dashboard + path

    def log_tails(self, n: int = 3000) -> str:
        out = []
        for name, path in self.logs.items():
            try:
                out.append(f"--- {name} ({path}) ---\n" + path.read_text(errors="replace")[-n:])
            except OSError:
                pass
        return "\n".join(out)


@pytest.fixture(scope="package")
def live(
    stack: LocalStack, settings: Settings, dashboard_build: BuildResult, logs_dir: Path
) -> Iterator[LiveApp]:
    """Gateway, worker and dashboard on the session's stack (free ports, own task queues)."""
    s = settings.model_copy(
        update={
            "gateway_port": free_port(),
            "dashboard_port": free_port(),
            "workflow_queue_prefix": f"dash-{uuid.uuid4().hex[:10]}",
        }
    )
    # Objects (plans, Markdown, JPEGs) in a folder served over HTTP on loopback, as a bucket or CDN would
    # serve them: the platforms (the social emulator) fetch the images of the posts from there.
    objects = s.state_path / "dashboard-objects"
    objects.mkdir(exist_ok=True)
    media_port = free_port()
    media = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(media_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(objects),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    storage = {
        "ICOP_STORAGE_DIR": str(objects),
        "ICOP_STORAGE_PUBLIC_BASE_URL": f"http://127.0.0.1:{media_port}",
    }
    s = s.model_copy(
        update={"storage_dir": objects, "storage_public_base_url": storage["ICOP_STORAGE_PUBLIC_BASE_URL"]}
    )
    gateway = GatewayComponent(s, extra_env=storage)
    worker = WorkerComponent(s, models="local", extra_env=storage, deploy_serve=False)
    dashboard = DashboardComponent(s)
    for comp in (gateway, worker, dashboard):
        comp.log = logs_dir / f"{comp.name}.log"
    started: list[tuple[Any, int]] = []

    def start(comp: Any) -> None:
        t0 = time.monotonic()
        started.append((comp, comp.start()))
        record(f"start {comp.name}", time.monotonic() - t0)

    try:
        t0 = time.monotonic()
        with ThreadPoolExecutor(3) as pool:  # the worker's imports take longest: start all three at once
            for f in [pool.submit(start, c) for c in (worker, gateway, dashboard)]:
                f.result()
        record("start gateway + worker + dashboard (in parallel)", time.monotonic() - t0)
        yield LiveApp(
            s,
            gateway.address,
            dashboard.address,
            f"http://{s.bind_host}:{s.social_emulator_port}",
            {c.name: c.log for c in (gateway, worker, dashboard)},
        )
    finally:
        for comp, sid in reversed(started):
            comp.stop(sid)
        media.terminate()
        media.wait(10)


def pytest_configure(config: Any) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=15_000)  # server-rendered pages on 2 busy cores: more than the 5 s default


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install.sh (apt-get install chromium)")


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium through Playwright (no browser download)."""
    from playwright.async_api import async_playwright

    require_chromium()
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


async def new_context(browser: Any, lang: str = "en", phone: bool = False, **kw: Any) -> Any:
    """A fresh browser profile whose Accept-Language is ``lang`` (en or ko), at desktop or phone size."""
    ctx = await browser.new_context(
        locale=LOCALES[lang],
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
        timezone_id="Asia/Seoul",
        **kw,
    )
    ctx.set_default_timeout(15_000)
    ctx.set_default_navigation_timeout(30_000)
    return ctx


def api(live: LiveApp, token: str | None = None) -> httpx.Client:
    """The live gateway's public API (for set-up and cross-checks the browser cannot see)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=live.gateway, headers=headers, timeout=30, trust_env=False)


def usd(amount: float | str) -> str:
    """``formatUsd(amount, "en", true)``: cents from a dollar up, else up to four decimals (rounded as
    Intl.NumberFormat rounds the JavaScript number)."""
    exact = Decimal(float(amount))
    if abs(exact) >= 1:
        return f"${exact.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    digits = str(exact.quantize(Decimal("0.0001"), ROUND_HALF_UP)).rstrip("0")
    whole, frac = digits.split(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def set_plan(live: LiveApp, token: str, plan: str) -> None:
    """Put the token's tenant on ``plan`` as an operator does (`icop tenants set-plan`): sign-up always
    starts on starter, and four connected platforms need growth."""
    with api(live, token) as c:
        tenant_id = c.get("/v1/auth/me").json()["tenant_id"]
    env = {**os.environ, "ICOP_STATE_DIR": str(live.settings.state_path)}
    r = subprocess.run([sys.executable, "-m", "cluster.cli", "tenants", "set-plan", tenant_id, plan],
                       env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS and not _PATHS:
        return
    terminalreporter.section("dashboard")
    for name, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{name:<60} {seconds:7.1f} s")
    if "logs and timings" in _PATHS:
        (_PATHS["logs and timings"] / "timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")
    for what, path in _PATHS.items():
        terminalreporter.write_line(f"{what}: {path}")
