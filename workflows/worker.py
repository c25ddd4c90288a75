"""Workers: one per module task queue (planning, agents, images, syndication), or all in one process.

``Dependencies`` builds what the activity classes need from settings (pool, Sheets, planner with the
TopicClusterer behind a Ray Serve handle or in-process, the agent graph, image providers, converter,
publisher). ``workers_for`` registers each queue's workflows and activities; local activities run on
the worker of the workflow that calls them, so they are registered there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from icop.settings import Settings

from .article import ArticleWorkflow
from .insights import AccountInsightsWorkflow
from .pipeline import PipelineRunWorkflow
from .post_retry import PostRetryWorkflow
from .scheduled import ScheduledRunWorkflow
from .telemetry import ActivityMetrics, client_interceptors
from .topic import TopicWorkflow
from .types import MODULES, Queues

if TYPE_CHECKING:  # each module's activities (and their dependencies) are imported only where built
    from .activities.articles import ArticleActivities, ImageActivities
    from .activities.insights import InsightsActivities
    from .activities.planning import PlanningActivities
    from .activities.publish import PublishActivities
    from .activities.scheduled import ScheduledRunActivities

if TYPE_CHECKING:
    from icop.images.generate import ImageMaker

log = logging.getLogger(__name__)
# The sandbox's runtime restrictions (no clocks, I/O or randomness outside Temporal's APIs) stay on, but
# modules are not re-imported for every workflow run: our workflow modules have no import-time effects
# (house style; the replay tests check determinism). Re-importing them per run cost about a sixth of a
# worker's CPU in a back-fill.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
)
ModelBackend = Literal["serve", "local"]
WORKFLOWS_BY_MODULE: dict[str, list[type]] = {
    "planning": [PipelineRunWorkflow, TopicWorkflow, ScheduledRunWorkflow],
    "agents": [ArticleWorkflow],
    "images": [],
    "syndication": [PostRetryWorkflow, AccountInsightsWorkflow],
}
ALL_WORKFLOWS = [
    PipelineRunWorkflow, TopicWorkflow, ArticleWorkflow, ScheduledRunWorkflow, PostRetryWorkflow,
    AccountInsightsWorkflow,
]  # fmt: skip


@dataclass
class Activities:
    """The activity objects a worker process holds (only those of its modules are built)."""

    planning: PlanningActivities | None = None
    articles: ArticleActivities | None = None
    images: ImageActivities | None = None
    publish: PublishActivities | None = None
    scheduled: ScheduledRunActivities | None = None
    insights: InsightsActivities | None = None
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def for_module(self, module: str) -> list[Callable[..., object]]:
        if module == "planning":
            assert self.planning is not None, "this module's activities were not built"
            return [*self.planning.all(), *(self.scheduled.all() if self.scheduled else [])]
        if module == "agents":
            assert self.articles is not None, "this module's activities were not built"
            return self.articles.all()
        if module == "images":
            assert self.images is not None, "this module's activities were not built"
            return self.images.all()
        if module == "syndication":
            assert self.publish is not None, "this module's activities were not built"
            return [*self.publish.all(), *(self.insights.all() if self.insights else [])]
        raise ValueError(f"unknown module {module!r}; one of {', '.join(MODULES)}")


def join_ray(settings: Settings) -> None:
    """This process as a driver of the stack's Ray cluster (once), so that it can reach Serve handles."""
    import ray

    if not ray.is_initialized():
        ray.init(address=settings.ray_target, _node_ip_address=settings.ray_node_ip, log_to_driver=False)


def serve_cluster_call(settings: Settings, app_name: str = "topics") -> Any:
    """The TopicClusterer deployment through a Serve handle."""
    from deployments.handles import app_handle
    from deployments.topics import cluster_call

    join_ray(settings)
    return cluster_call(app_handle(app_name))


def serve_writers(settings: Settings) -> dict[str, Any]:
    """The three Writer deployments (``writer-gpt`` …) through Serve handles, as the graph's writers."""
    from deployments.writers import writer_call, writer_handles

    join_ray(settings)
    return {name: writer_call(h) for name, h in writer_handles().items()}


def serve_image_maker(settings: Settings, app_name: str = "images") -> ImageMaker:
    """The ImageGenerator deployment (composed with its JpegConverter) through a Serve handle."""
    from deployments.handles import app_handle
    from deployments.images import ServeImageMaker

    join_ray(settings)
    return ServeImageMaker(app_handle(app_name))


def local_image_maker(settings: Settings) -> ImageMaker:
    """Generation and conversion in this process (unit tests): providers that meter nothing, since the
    activity records usage from what comes back, whichever maker made it."""
    from icop.connectors.images import OfflineImages, make_image_provider
    from icop.images.generate import ImageSources, LocalImageMaker
    from icop.images.service import StoredJpegConverter
    from icop.storage import make_store

    store = make_store(settings)
    providers = {
        "dall-e": make_image_provider(settings, "dall-e"),
        "flux": make_image_provider(settings, "flux"),
        "offline": OfflineImages("PNG"),
    }
    sources = ImageSources(providers, store, default_concurrent=settings.image_provider_concurrency)
    return LocalImageMaker(sources, StoredJpegConverter.from_settings(settings, store))


def local_cluster_call(settings: Settings, llm: Any) -> Any:
    """The clusterer in this process (unit tests and development without Ray)."""
    from icop.embeddings import EmbeddingChoice
    from icop.planning.service import InProcessClusterCall, LlmLabeler

    return InProcessClusterCall(EmbeddingChoice.from_settings(settings), LlmLabeler(llm))


async def build_activities(
    settings: Settings,
    modules: Sequence[str],
    *,
    pool: Any = None,
    models: ModelBackend = "serve",
    cluster: Any = None,
    graph: Any = None,
    writers: Mapping[str, Any] | None = None,
) -> Activities:
    """Activity objects for ``modules``, their dependencies built from settings (or passed in).

    ``models="serve"`` (the product path): sub-topic clustering, the three writers and image generation
    with JPEG conversion are the Ray Serve deployments, reached through handles. ``"local"`` runs the
    same core classes in this process: for unit tests and development without Ray only. ``writers``: the
    graph's writers by name, in place of those ``models`` picks (tests: Writer deployments of their own)."""
    from icop.db import create_pool

    acts = Activities()
    if pool is None:
        pool = await create_pool(settings.pg_dsn("app"), 1, 10)
        acts.closers.append(pool.close)
    if "planning" in modules:
        from icop.connectors.llm import make_llm
        from icop.google.access import GoogleAccess
        from icop.planning.service import CandidateExpander, SubtopicPlanner
        from icop.runs.admission import RunLimits
        from icop.storage import make_store
        from icop.vault import Vault

        from .activities.planning import PlanningActivities
        from .activities.scheduled import ScheduledRunActivities

        llm = make_llm(settings, "gpt")
        if cluster is None:
            cluster = serve_cluster_call(settings) if models == "serve" else local_cluster_call(settings, llm)
        from icop.embeddings import EmbeddingChoice
        from icop.planning.learning import LearningSettings

        planner = SubtopicPlanner(
            pool, CandidateExpander(llm, count=30), cluster, EmbeddingChoice.from_settings(settings),
            LearningSettings.from_settings(settings),
        )  # fmt: skip
        access = GoogleAccess(pool, Vault.from_spec(settings.vault_keys.get_secret_value()), settings)
        acts.planning = PlanningActivities(pool, access, planner, make_store(settings))
        acts.scheduled = ScheduledRunActivities(pool, RunLimits.from_settings(settings))
    if "agents" in modules:
        from icop.storage import make_store

        from .activities.articles import ArticleActivities, LangGraphArticleGraph

        if graph is None:
            from graphs.article.agents import make_agents
            from graphs.article.graph import local_writers

            calls: dict[str, Any]
            if writers is not None:
                calls = dict(writers)
            elif models == "serve":
                calls = serve_writers(settings)
            else:
                calls = dict(local_writers(settings))
            from icop.brandvoice import BrandVoice
            from icop.embeddings import EmbeddingChoice
            from icop.modelkeys.service import TenantModelKeys
            from icop.research.service import Researcher
            from icop.vault import Vault

            voice = BrandVoice(pool, EmbeddingChoice.from_settings(settings))
            researcher = Researcher.from_settings(settings, pool)
            keys = TenantModelKeys(pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
            graph = LangGraphArticleGraph(
                pool, calls, make_agents(settings), voice, researcher, settings.prompt_caching, keys
            )
        from icop.runs.admission import RunLimits

        acts.articles = ArticleActivities(
            pool, make_store(settings), graph, RunLimits.from_settings(settings)
        )
    if "images" in modules:
        from icop.connectors.usage import UsageRecorder

        from .activities.articles import ImageActivities

        maker = serve_image_maker(settings) if models == "serve" else local_image_maker(settings)
        acts.images = ImageActivities(pool, maker, UsageRecorder(pool))
    if "syndication" in modules:
        import httpx

        from icop.social.clients import build_clients
        from icop.social.publisher import Publisher
        from icop.social.tokens import VaultTokenStore
        from icop.vault import Vault

        from .activities.publish import PublishActivities

        http = httpx.AsyncClient(timeout=settings.social_http_timeout_s, trust_env=False)
        acts.closers.append(http.aclose)
        tokens = VaultTokenStore(pool, Vault.from_spec(settings.vault_keys.get_secret_value()))
        from icop.insights.collector import InsightsCollector
        from icop.storage import make_store

        from .activities.insights import InsightsActivities

        clients = build_clients(settings, http)
        publisher = Publisher(pool, settings, clients, tokens)
        acts.publish = PublishActivities(publisher, make_store(settings))
        acts.insights = InsightsActivities(InsightsCollector(pool, settings, clients, tokens))
    return acts


MAX_CONCURRENT_ACTIVITIES = 100
"""Activities one worker (one module's queue) runs at once: Temporal's own default. They mostly wait on
providers (an article's graph: six sequential LLM calls); at 50, a back-fill of 25 rows of 3 sub-topics
(75 graphs at once) kept graphs waiting in the agents' queue for up to 11 s (``bench/backfill.py``)."""
BLOCKING_THREADS_PER_ACTIVITY = 2
"""Threads of the event loop's default executor per activity slot. Activities block threads while they
wait: CrewAI runs each agent's LLM call as a synchronous method in ``asyncio.to_thread`` (and flushes its
event bus in another), google-api-python-client's Sheets calls and the research fetches run there too.
asyncio's default executor has ``cpu_count + 4`` threads (6 on a 2-core machine): with 50 articles in
flight the agents' calls queued for those threads, and the graph of an article took 109 s where its
six sequential 4-second LLM calls take 24 s (``bench/backfill.py``, 100 articles). Waiting threads cost
no CPU, and the pool starts them only when it needs them."""


def use_blocking_threads(n: int) -> None:
    """Give the running loop's ``asyncio.to_thread`` (its default executor) ``n`` threads."""
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=n, thread_name_prefix="icop-blocking")
    )


def workers_for(
    client: Client,
    acts: Activities,
    queues: Queues,
    modules: Sequence[str],
    max_concurrent_activities: int = MAX_CONCURRENT_ACTIVITIES,
) -> list[Worker]:
    """One worker per module queue. A queue whose workflows call local activities of another module's
    class gets those registered too (planning's run/row status; agents' article rows)."""
    workers = []
    for module in modules:
        activities = list(acts.for_module(module))
        workers.append(
            Worker(
                client,
                task_queue=queues.of(module),
                workflows=WORKFLOWS_BY_MODULE[module],
                activities=activities,
                max_concurrent_activities=max_concurrent_activities,
                workflow_runner=WORKFLOW_RUNNER,
                interceptors=[ActivityMetrics()],
            )
        )
    return workers


@contextlib.asynccontextmanager
async def running_workers(
    client: Client, acts: Activities, queues: Queues, modules: Sequence[str]
) -> AsyncIterator[list[Worker]]:
    """Workers polling in the background for the block's duration (tests, ``icop worker``), with threads
    enough for their activities' blocking calls."""
    workers = workers_for(client, acts, queues, modules)
    use_blocking_threads(len(workers) * MAX_CONCURRENT_ACTIVITIES * BLOCKING_THREADS_PER_ACTIVITY)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield workers
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)


async def close(acts: Activities) -> None:
    for c in reversed(acts.closers):
        with contextlib.suppress(Exception):
            await c()


async def connect(settings: Settings, wait_s: float = 120.0) -> Client:
    """A Temporal client; a server that is restarting (or not up yet) is waited for up to ``wait_s``."""
    deadline = asyncio.get_running_loop().time() + wait_s
    delay = 0.5
    while True:
        try:
            return await Client.connect(
                settings.temporal_target,
                namespace=settings.temporal_namespace,
                interceptors=client_interceptors(),
            )
        except RuntimeError as e:  # temporalio raises RuntimeError when it cannot connect
            if asyncio.get_running_loop().time() + delay > deadline:
                raise
            log.warning("Temporal at %s unreachable (%s); retry in %.1fs", settings.temporal_target, e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def run_worker(
    settings: Settings,
    modules: Sequence[str],
    queues: Queues | None = None,
    models: ModelBackend = "serve",
    stop: asyncio.Event | None = None,
) -> None:
    """``icop worker``: run until ``stop`` is set (or forever). Production refuses what would hurt first."""
    from icop.production import require_production_ready

    require_production_ready(settings)
    client = await connect(settings)
    acts = await build_activities(settings, modules, models=models)
    try:
        async with running_workers(client, acts, queues or Queues(), modules):
            log.info("worker up: %s", ", ".join(modules))
            await (stop or asyncio.Event()).wait()
    finally:
        await close(acts)
