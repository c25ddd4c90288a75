"""No paying twice: the graph's process is killed after the writers finished and while the SEO agent
waits for its answer (or after research, while the Researcher agent writes its brief); the same thread
run again resumes from the PostgreSQL checkpoint and makes no new writer, search, page fetch (nor
research, nor editor) calls — the emulator's request log is the witness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from cluster.stack import LocalStack
from emulators.client import EmulatorAdmin
from graphs.article.checkpoint import PgCheckpointSaver
from icop.offline import apply_offline_env

from .conftest import agent_requests, new_tenant_with_article, writer_requests

ICOP = str(Path(sys.executable).parent / "icop")
ROOT = Path(__file__).resolve().parents[2]


def cli(
    stack: LocalStack, tenant: uuid.UUID, thread: str, topic: str = "Cold brew coffee at home"
) -> subprocess.Popen[str]:
    env = apply_offline_env(dict(os.environ))
    env["ICOP_STATE_DIR"] = str(stack.state_dir)
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whichever checkout the venv was installed from
    argv = [ICOP, "graph", "run", "--topic", topic, "--mode", "compare",
            "--tenant-id", str(tenant), "--thread-id", thread,
            "--image-url", "https://cdn.example/a.jpg"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(pred: Any, timeout: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if proc.poll() is not None:
            assert proc.stderr is not None  # cli() pipes it
            raise AssertionError(
                f"the graph process ended early ({proc.returncode}): {proc.stderr.read()[-3000:]}"
            )
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the graph")


@pytest.mark.slow
async def test_killed_graph_resumes_without_new_writer_calls(
    stack: LocalStack, admin: EmulatorAdmin, app_pool: Any
) -> None:
    tenant, _ = await new_tenant_with_article(app_pool)
    thread = f"article-{uuid.uuid4()}"
    admin.knobs(
        "gpt", latency_ms=1500
    )  # the agents' provider: SEO's answer takes long enough to kill during it

    proc = cli(stack, tenant, thread)
    try:
        wait_for(lambda: any(e["status"] is None for e in agent_requests(admin, "SEOAgent")), 120, proc)
        finished_writers = writer_requests(admin)
        assert len(finished_writers) == 3 and all(e["status"] == 200 for e in finished_writers)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    saver = PgCheckpointSaver(app_pool, tenant)
    saved = await saver.aget_tuple({"configurable": {"thread_id": thread}})
    assert saved is not None and len(saved.checkpoint["channel_values"]["drafts"]) == 3
    assert "seo" not in saved.checkpoint["channel_values"]

    admin.knobs("gpt", latency_ms=0)
    mark = admin.last_seq()
    rerun = cli(stack, tenant, thread)
    out, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err[-3000:]
    assert out.startswith("---\ntitle: ") and "](https://cdn.example/a.jpg)" in out

    assert writer_requests(admin, since=mark) == []  # no writer paid twice
    assert agent_requests(admin, "Researcher", since=mark) == []
    assert agent_requests(admin, "Editor", since=mark) == []
    assert len(agent_requests(admin, "SEOAgent", since=mark)) == 1  # the interrupted step runs again

    # checkpoints are the tenant's own: another tenant sees none of them
    other, _ = await new_tenant_with_article(app_pool)
    assert (
        await PgCheckpointSaver(app_pool, other).aget_tuple({"configurable": {"thread_id": thread}}) is None
    )


@pytest.mark.slow
async def test_killed_after_research_resumes_without_searching_or_fetching_again(
    stack: LocalStack, admin: EmulatorAdmin, app_pool: Any
) -> None:
    tenant, _ = await new_tenant_with_article(app_pool)
    thread = f"article-{uuid.uuid4()}"
    admin.knobs("gpt", latency_ms=1500)  # the Researcher agent's brief takes long enough to kill during it

    proc = cli(stack, tenant, thread, topic=f"Winter care for {uuid.uuid4().hex[:6]} hedges")
    try:
        wait_for(lambda: any(e["status"] is None for e in agent_requests(admin, "Researcher")), 120, proc)
        assert len(admin.requests("tavily")) == 1
        fetched = [e for e in admin.requests("web") if e["path"] != "/robots.txt" and e["status"] == 200]
        assert len(fetched) >= 3
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    saved = await PgCheckpointSaver(app_pool, tenant).aget_tuple({"configurable": {"thread_id": thread}})
    assert saved is not None
    values = saved.checkpoint["channel_values"]
    assert len(values["sources"]) >= 3 and values["research_report"]["status"] == "sourced"
    assert "research_summary" not in values

    admin.knobs("gpt", latency_ms=0)
    mark = admin.last_seq()
    rerun = cli(stack, tenant, thread)
    out, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err[-3000:]
    assert admin.requests("tavily", since=mark) == [] and admin.requests("naver", since=mark) == []
    assert admin.requests("web", since=mark) == []  # no page fetched again (nor robots.txt)
    assert len(agent_requests(admin, "Researcher", since=mark)) == 1  # the interrupted brief runs again
    for src in values["sources"]:
        assert src["url"] in out  # the printed article lists the sources found before the crash
