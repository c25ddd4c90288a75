"""The graph's writers as Ray Serve deployments on the session's real Ray cluster: the writer nodes
call them through deployment handles, concurrently, and a failing provider is recorded, not fatal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.client import EmulatorAdmin
from graphs.article.agents import make_agents
from graphs.article.graph import article_input, make_graph
from icop.settings import Settings

from .conftest import writer_requests

pytestmark = pytest.mark.slow  # three Serve applications start (≈ 10 s)


@pytest.fixture(scope="module")
def writer_handles(ray_session: None, emu_settings: Settings) -> Iterator[dict[str, Any]]:
    from ray import serve

    from deployments.writers import app_name, deploy_writers

    prefix = f"writers-test-{uuid.uuid4().hex[:6]}"
    small = {"ray_actor_options": {"num_cpus": 0.05}}  # the session's Ray is shared by many tests
    handles = deploy_writers(emu_settings, dict.fromkeys(("gpt", "claude", "gemini"), small), prefix=prefix)
    try:
        yield handles
    finally:
        for p in handles:
            serve.delete(app_name(p, prefix))


def test_writer_options_come_from_the_serve_config_with_explicit_overrides() -> None:
    from deployments.options import deployment_options
    from deployments.writers import build_writer_app

    declared = deployment_options("writer-claude", "Writer_claude")
    dep = build_writer_app("claude", None)._bound_deployment
    assert dep.name == "Writer_claude" and dep.max_ongoing_requests == declared["max_ongoing_requests"]
    over = build_writer_app("claude", None, {"max_ongoing_requests": 3})._bound_deployment
    assert over.max_ongoing_requests == 3


async def test_graph_calls_writers_through_handles(
    writer_handles: dict[str, Any], emu_settings: Settings, admin: EmulatorAdmin
) -> None:
    from deployments.writers import writer_call

    # latencies long enough that dispatch through the handles (a few hundred ms on a loaded 2-core
    # machine) stays small beside them: sequential calls would take 5.5 s, overlapping ones about 3 s
    for service, ms in {"gpt": 2500, "claude": 2000, "gemini": 3000}.items():
        admin.knobs(service, latency_ms=ms)
    admin.knobs("claude", error_rate=1.0, error_kind="429", retry_after_s=0.05)
    calls = {n: writer_call(h) for n, h in writer_handles.items()}
    graph = make_graph(calls, make_agents(emu_settings))
    try:
        out = await graph.ainvoke(
            article_input("Cold brew coffee at home", image_urls=["https://cdn.example/a.jpg"])
        )
    finally:
        for c in calls.values():
            await c.close()

    assert {d["writer"] for d in out["drafts"]} == {"gpt", "gemini"}
    assert out["writer_failures"] == [
        {"writer": "claude", "kind": "rate_limited", "message": out["writer_failures"][0]["message"]}
    ]
    assert len(admin.requests("claude")) == emu_settings.provider_max_attempts  # retried inside the replica
    ok = [r for r in writer_requests(admin) if r["status"] == 200]
    assert sorted(r["service"] for r in ok) == ["gemini", "gpt"]
    # the successful writers overlapped (claude's failing attempts ran alongside them)
    # (the slowest took its 3 s; run one after the other, the second would start after the first finished)
    assert max(r["finished"] - r["started"] for r in ok) >= 2.9, ok
    assert max(r["started"] for r in ok) < min(r["finished"] for r in ok), ok
    first_claude = min(r["started"] for r in admin.requests("claude"))
    assert first_claude < min(r["finished"] for r in ok)
    assert out["markdown"].startswith("---\n")
    # what a writer read from or wrote to its vendor's prompt cache crosses the handle with its tokens
    logged = {r["service"]: r["meta"]["usage"] for r in ok}
    by_writer = {u["agent"]: u for u in out["usage"]}
    assert (
        by_writer["writer:gpt"]["cache_read_tokens"] == logged["gpt"]["input_tokens_details"]["cached_tokens"]
    )
    assert by_writer["writer:gemini"]["cache_write_tokens"] == 0
