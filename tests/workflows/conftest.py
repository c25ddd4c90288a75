"""Fixtures for the orchestration tests: a Temporal client on the session stack, a tenant with a sheet
pipeline seeded on the Sheets emulator, and workers on task queues of the test's own."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client

from emulators.client import EmulatorAdmin
from icop.db import tenant_tx
from icop.settings import Settings
from workflows.types import Queues

HEADER = ["topic", "notes", "language", "status", "result"]
TARGETS = [{"platform": "x", "account_id": "4400001"}, {"platform": "threads", "account_id": "27000001"}]


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


@dataclass
class PipelineFixture:
    tenant_id: uuid.UUID
    pipeline_id: uuid.UUID
    run_id: uuid.UUID
    sheet_id: str


async def make_pipeline(
    pool: asyncpg.Pool,
    admin: EmulatorAdmin,
    rows: list[list[str]],
    *,
    subtopics: int = 2,
    targets: list[dict[str, Any]] | None = None,
    approval: bool = False,
) -> PipelineFixture:
    tenant, sid = uuid.uuid4(), f"wf-{uuid.uuid4().hex[:10]}"
    admin.seed_sheet(
        sid, {"ContentPlan": [HEADER, *rows], "Subtopics": [["row", "topic", "sub-topic", "status", "url"]]}
    )
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'workflows')", tenant)
        pipeline = await conn.fetchval(
            """INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id, targets, dry_run,
                                              subtopics_per_topic, approval_required)
               VALUES ($1, 'wf', 'sheet', $2, $3::jsonb, true, $4, $5) RETURNING id""",
            tenant,
            sid,
            json.loads(json.dumps(TARGETS if targets is None else targets)),
            subtopics,
            approval,
        )
        run = await conn.fetchval(
            "INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind) "
            "VALUES ($1, $2, 'backfill') RETURNING id",
            tenant,
            pipeline,
        )
    return PipelineFixture(tenant, pipeline, run, sid)


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
