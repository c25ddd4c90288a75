"""Fixtures for the orchestration tests: a Temporal client on the session stack, the Sheets emulator's
admin, task queues of the test's own, and the ``icop`` command in a subprocess. A tenant with a sheet
pipeline comes from ``cluster.sheet_pipeline.make_pipeline``."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from emulators.client import EmulatorAdmin
from icop.settings import Settings
from workflows.types import Queues


@pytest.fixture(scope="session")
async def temporal(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace)


async def api_engine(settings: Settings, queues: Queues) -> tuple[Settings, Client]:
    """Settings for a gateway whose runs and decisions go to Temporal on this test's task queues, and a
    client (traced when the process traces) for the test's workers and workflow handles."""
    from workflows.telemetry import client_interceptors

    engine = settings.model_copy(
        update={
            "workflow_engine": "temporal",
            "workflow_queue_prefix": queues.planning.removesuffix("-planning"),
        }
    )
    client = await Client.connect(
        settings.temporal_target, namespace=settings.temporal_namespace, interceptors=client_interceptors()
    )
    return engine, client


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


def fresh_targets() -> list[dict[str, str]]:
    """An X and a Threads account that no other test posts to (the social emulator's state is the
    session's), so that what the platform holds for them is this test's alone."""
    n = uuid.uuid4().int % 10**8
    return [
        {"platform": "x", "account_id": f"44{n:08d}"},
        {"platform": "threads", "account_id": f"27{n:08d}"},
    ]


@dataclass
class PlatformCount:
    """Posts counted in the social emulator's own state against the posts rows of the run."""

    articles: int
    posts: dict[str, int]  # platform → posts the platform holds for the target account
    duplicates: int  # posts beyond one per (article, platform, account)
    missing: int  # (article, platform, account) with no post on the platform

    def note(self) -> str:
        per = ", ".join(f"{p} {n}" for p, n in self.posts.items())
        return (
            f"{self.articles} articles; posts on the platforms' side: {per}; "
            f"duplicates {self.duplicates}, missing {self.missing}"
        )


async def count_on_platforms(
    settings: Settings, targets: list[dict[str, str]], rows: list[Any], articles: int
) -> PlatformCount:
    """``rows``: the run's posts rows (article_id, platform, platform_post_id)."""
    ours = {(r["platform"], r["platform_post_id"]): r["article_id"] for r in rows if r["platform_post_id"]}
    base = f"http://{settings.bind_host}:{settings.social_emulator_port}"
    posts: dict[str, int] = {}
    duplicates = missing = 0
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        for t in targets:
            r = await http.get("/_admin/posts", params=t)
            r.raise_for_status()
            held = r.json()["posts"]
            posts[t["platform"]] = len(held)
            found = {ours[t["platform"], x["id"]] for x in held if (t["platform"], x["id"]) in ours}
            duplicates += len(held) - len(found)
            missing += articles - len(found)
    return PlatformCount(articles, posts, duplicates, missing)


SOCIAL_KNOB_DEFAULTS = {
    "error_next": 0, "error_rate": 0.0, "error_status": 503, "retry_after_s": 30, "lose_response_next": 0,
    "lose_mode": "drop", "hang_s": 30.0, "platform": None,
}  # fmt: skip


def social_knobs(settings: Settings, *, reset: bool = False, **knobs: Any) -> dict[str, Any]:
    """The social emulator's fault knobs after setting ``knobs`` (``reset``: back to the defaults;
    neither: just read them)."""
    base = f"http://{settings.bind_host}:{settings.social_emulator_port}/_admin/knobs"
    with httpx.Client(timeout=10, trust_env=False) as http:
        r = (
            http.post(base, json=SOCIAL_KNOB_DEFAULTS if reset else knobs)
            if reset or knobs
            else http.get(base)
        )
    r.raise_for_status()
    return dict(r.json())
