"""Test fixtures: one private, real stack per test session (own ports, own state dir).

The stack is the same code as `icop stack up`: embedded PostgreSQL 16 + pgvector as its own OS user,
the Temporal dev server and a local Ray head, all on loopback. Nothing here is faked.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import asyncpg
import pytest

from icop.offline import apply_offline_env

apply_offline_env()

from cluster.loopback import bind_driver_to_loopback, under_shim  # noqa: E402 - after apply_offline_env
from cluster.ports import private_stack_env  # noqa: E402 - after apply_offline_env
from cluster.stack import LocalStack, ensure_stack_env, private_state_dir  # noqa: E402 - after apply_offline_env
from emulators.client import EmulatorAdmin  # noqa: E402 - after apply_offline_env
from icop.db import create_pool  # noqa: E402 - after apply_offline_env
from icop.db.migrate import setup_database  # noqa: E402 - after apply_offline_env
from icop.settings import Settings, load_settings  # noqa: E402 - after apply_offline_env

if TYPE_CHECKING:
    from cluster.dashboard import BuildResult


ROOT = Path(__file__).resolve().parents[1]
RAY_NODE_IP = os.environ.get("ICOP_RAY_NODE_IP") or str(Settings.model_fields["ray_node_ip"].default)


def pytest_configure(config: pytest.Config) -> None:
    """The test process joins Ray as a driver (``ray_session``): like every driver of ours it runs under
    the loopback bind shim (cluster/loopback.py), so its core worker's gRPC server listens on the node's
    loopback address, not on every interface. Re-executes pytest once, with the same arguments."""
    if under_shim(RAY_NODE_IP):
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # give the new process the real stdout/stderr, not pytest's capture files
        capture.stop_global_capturing()
    bind_driver_to_loopback(RAY_NODE_IP, ROOT / ".icop" / "lib", ["-m", "pytest", *sys.argv[1:]])


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The session's private stack, up and migrated."""
    import asyncio

    state = private_state_dir("icop-test-")
    # The suite signs up and logs in hundreds of times from one address; the throttles' own tests tighten
    # these again.
    throttles = {
        "ICOP_AUTH_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000",
        "ICOP_AUTH_LOGIN_ATTEMPTS_PER_ADDRESS": "1000000",
        "ICOP_AUTH_SIGNUPS_PER_ADDRESS": "1000000",
    }
    ensure_stack_env(state, private_stack_env() | throttles)
    s = LocalStack.open(state)
    try:
        s.up()
        asyncio.run(setup_database(s.s))
        # The suite's thousands of tenants are Google users of one project, minutes apart: the Sheets
        # emulator keeps each user's quota (60 requests a minute) and lifts the project's (300), as a
        # production project's raised quota would.
        admin = EmulatorAdmin(f"http://{s.s.bind_host}:{s.s.emulator_port}")
        try:
            admin.sheets_quota(per_project=1_000_000)
        finally:
            admin.close()
        yield s
    finally:
        s.down()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(stack: LocalStack) -> Settings:
    return load_settings(stack.state_dir)


@pytest.fixture(scope="session")
async def app_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool of the application role (owns nothing, NOBYPASSRLS)."""
    pool = await create_pool(settings.pg_dsn("app"), max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
async def owner_conn(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the owner role, for test set-up and catalog checks only."""
    conn = await asyncpg.connect(settings.pg_dsn("owner"))
    yield conn
    await conn.close()


async def place_throttle_hits(owner_conn: asyncpg.Connection, key: bytes, window_s: int, hits: int) -> None:
    """Sign-in throttle hits in the window before the current one, as if attempted then. The table forces
    RLS with no policy (only its SECURITY DEFINER function reaches it), so the owner lifts the force inside
    one transaction: no other session ever sees the table unforced."""
    async with owner_conn.transaction():
        await owner_conn.execute("ALTER TABLE auth_throttle NO FORCE ROW LEVEL SECURITY")
        await owner_conn.execute(
            "INSERT INTO auth_throttle (bucket, window_start, hits) VALUES ($1, date_bin(make_interval(secs"
            " => $2), now(), timestamptz 'epoch') - make_interval(secs => $2), $3)",
            key, window_s, hits,
        )  # fmt: skip
        await owner_conn.execute("ALTER TABLE auth_throttle FORCE ROW LEVEL SECURITY")


@pytest.fixture(scope="session")
def ray_session(settings: Settings) -> Iterator[None]:
    """This process as a Ray driver of the session stack's cluster (for Serve deployments)."""
    import ray

    from cluster.serve_apps import connect

    mine = not ray.is_initialized()
    if mine:
        connect(settings)
    yield
    if mine:
        ray.shutdown()


@pytest.fixture(scope="session")
def serve_apps(settings: Settings, ray_session: None) -> list[str]:
    """Every application of cluster/serve_config.yaml on the session's Ray Serve, as ``icop serve deploy``
    runs them: the product path of the end-to-end tests (activities call these deployments)."""
    from cluster.serve_apps import deploy

    return [a.name for a in deploy(settings)]


# ---- ordering, and the dashboard's build in the background -------------------------------------------
# The browser tests need the dashboard built (npm ci + next build: minutes of CPU on a fresh clone). The
# build starts in a thread as soon as the session has collected them, overlapping the suite's earlier tests
# (most of which wait on latencies, not CPU); tests/dashboard runs at the end, by which time it is done.
# The multi-node Ray tests and the stack's up/down cycles, the most sensitive to machine load (a Ray node's
# agent has 15 s to start), also run after that build has finished, when the other lane is mostly done.
# Tests marked ``audit`` (nothing left loopback, no secret in a log line) judge what the session did, so
# they come after everything else.
LAST = (
    "tests/dashboard/",
    "tests/cluster/test_multinode.py",
    "tests/foundation/test_stack.py::test_down_then_up",
)


class DashboardBuild(TypedDict, total=False):
    """The dashboard's build, once started at collection: its result to come, and its log."""

    future: Future[BuildResult]
    log: Path


DASHBOARD_BUILD: DashboardBuild = {}


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("audit"):
        return len(LAST) + 1
    path = item.nodeid
    return next((i + 1 for i, prefix in enumerate(LAST) if path.startswith(prefix)), 0)


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: build only for browser tests that will run
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    items.sort(key=_rank)  # stable: the order within each group is kept
    live = [
        i
        for i in items
        if i.nodeid.startswith(
            (
                "tests/dashboard/test_flow.py",
                "tests/dashboard/test_plans.py",
                "tests/dashboard/test_screens.py",
            )
        )
    ]
    if live and not config.option.collectonly:
        from concurrent.futures import ThreadPoolExecutor

        from cluster.dashboard import DASHBOARD_DIR, ensure_built

        log = Path(tempfile.mkdtemp(prefix="icop-dashboard-build-", dir="/tmp")) / "dashboard-build.log"
        pool = ThreadPoolExecutor(1, thread_name_prefix="dashboard-build")
        # the environment as it is now: tests that later change os.environ do not reach the build
        DASHBOARD_BUILD["future"] = pool.submit(ensure_built, log, DASHBOARD_DIR, None, dict(os.environ))
        DASHBOARD_BUILD["log"] = log
        pool.shutdown(wait=False)
