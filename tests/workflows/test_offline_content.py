"""What an offline provider made marks its article (``generated_articles.offline_content``): the agent graph
run by its activity with no provider keys (placeholder text), and images drawn by the offline provider. The
publisher then refuses such an article (tests/social/test_publish.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
from temporalio.testing import ActivityEnvironment

from graphs.article.agents import make_agents
from graphs.article.graph import local_writers
from icop.connectors.images import OfflineImages
from icop.connectors.usage import UsageRecorder
from icop.db import tenant_tx
from icop.images.generate import ImageSources, LocalImageMaker
from icop.images.service import StoredJpegConverter
from icop.runs.admission import RunLimits
from icop.settings import Settings
from icop.storage import LocalDirStore
from tests.graphs.conftest import new_tenant_with_article
from workflows.activities.articles import ArticleActivities, ImageActivities, LangGraphArticleGraph
from workflows.types import GraphInput, ImagesInput

NO_KEYS = {"openai_api_key": None, "anthropic_api_key": None, "gemini_api_key": None}


async def offline_content(pool: asyncpg.Pool, tenant: uuid.UUID, article: uuid.UUID) -> bool:
    async with tenant_tx(pool, tenant) as conn:
        return bool(
            await conn.fetchval("SELECT offline_content FROM generated_articles WHERE id = $1", article)
        )


async def test_text_of_the_offline_provider_marks_the_article(app_pool: asyncpg.Pool, tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, **NO_KEYS)
    graph = LangGraphArticleGraph(app_pool, local_writers(settings), make_agents(settings))
    acts = ArticleActivities(
        app_pool, LocalDirStore(tmp_path / "objects"), graph, RunLimits.from_settings(settings)
    )
    tenant, article = await new_tenant_with_article(app_pool)
    assert not await offline_content(app_pool, tenant, article)
    inp = GraphInput(str(tenant), str(article), "Balcony tomatoes", "", "en", "", "merge", ["gpt", "claude"])
    result = await ActivityEnvironment().run(acts.run_agent_graph, inp)
    assert result.title  # the article came out whole, only offline
    assert await offline_content(app_pool, tenant, article)


async def test_images_of_the_offline_provider_mark_the_article(
    app_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    store = LocalDirStore(tmp_path / "objects", public_base_url="https://media.example")
    sources = ImageSources({"offline": OfflineImages()}, store)
    maker = LocalImageMaker(sources, StoredJpegConverter.from_settings(Settings(), store))
    acts = ImageActivities(app_pool, maker, UsageRecorder(app_pool))
    tenant, article = await new_tenant_with_article(app_pool)
    inp = ImagesInput(str(tenant), str(article), ["A balcony garden at dawn"], "offline")
    [image] = await ActivityEnvironment().run(acts.generate_images, inp)
    assert image.url.startswith("https://media.example/")
    assert await offline_content(app_pool, tenant, article)
