"""Fixtures for the orchestration tests: a Temporal client on the session stack, the Sheets emulator's
admin, task queues of the test's own, and the ``icop`` command in a subprocess. A tenant with a sheet
pipeline comes from ``cluster.sheet_pipeline.make_pipeline``."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from emulators.client import EmulatorAdmin
from icop.settings import Settings
from workflows.types import Queues


@pytest.fixture(scope="session")
async def temporal(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace)


@pytest.fixture
def queues() -> Queues:
    return Queues.with_prefix(f"tq-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sheets_admin(settings: Settings) -> Iterator[EmulatorAdmin]:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    yield admin
    admin.close()


ROOT = Path(__file__).resolve().parents[2]


async def run_icop(*args: str, limit_s: float = 300) -> tuple[int, str]:
    """``python -m cluster.cli ARGS`` in a subprocess: exit status and output (stderr folded in)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cluster.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
        cwd=str(ROOT),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
    return proc.returncode or 0, out.decode()
