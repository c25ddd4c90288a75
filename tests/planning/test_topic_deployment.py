"""The TopicClusterer Serve deployment on the session's real Ray cluster, labels from the LLM emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from cluster.eval_themes import candidates, narrow_themes
from icop.settings import Settings

THEMES = narrow_themes()

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

pytestmark = pytest.mark.slow  # a replica loads the model and warms BERTopic (≈ 15-25 s)


@pytest.fixture(scope="module")
def topics_handle(ray_session: None, settings: Settings) -> Iterator[DeploymentHandle[Any]]:
    from ray import serve

    from deployments.handles import run_app
    from deployments.topics import build_topics_app

    name = f"topics-test-{uuid.uuid4().hex[:8]}"
    handle = run_app(build_topics_app(settings), name)
    try:
        yield handle
    finally:
        serve.delete(name)


async def test_concurrent_requests_through_the_deployment(topics_handle: DeploymentHandle[Any]) -> None:
    from deployments.topics import cluster_call

    call = cluster_call(topics_handle)
    docs, themes = candidates(12)
    a, b = await asyncio.gather(
        call("home coffee", "en", docs, len(THEMES), "minilm"),
        call("home coffee", "en", docs[:40], 3, "minilm"),
    )
    assert len(a) >= len(THEMES)
    top = a[: len(THEMES)]
    covered = [{themes[docs.index(e)] for e in r.examples} for r in top]
    assert all(len(c) == 1 for c in covered) and len({t for c in covered for t in c}) == len(THEMES)
    assert all(r.label and len(r.embedding) == 384 for r in top)
    assert 1 <= len(b)
