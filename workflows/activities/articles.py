"""Article activities: the article row, the agent graph, images (JPEG, stored) and the final Markdown.

The graph runs behind :class:`ArticleGraph` (LangGraph in ``graphs/article``, checkpointed in
PostgreSQL under the article id, so a retried attempt does not pay again for finished LLM calls).
Its full state stays in the database (``generated_articles.graph_state``), not in workflow history.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from icop.articles import repository as articles_repository
from icop.articles.markdown import article_markdown, store_article_markdown
from icop.connectors.usage import UsageEvent, UsageSink
from icop.db import tenant_tx
from icop.images.generate import ImageJobRequest, ImageMaker, ProviderName
from icop.modelkeys.service import TenantModelKeys
from icop.runs.admission import Refusal, RunLimits, admit_article

from .. import repository
from ..types import (
    ApprovedArticle,
    ArticleRef,
    ArticleStatusInput,
    CreateArticleInput,
    CreatedArticle,
    GraphInput,
    GraphResult,
    ImagesInput,
    MarkdownInput,
    MarkdownResult,
    StoredImage,
)
from .errors import mapped_errors
from .heartbeat import with_heartbeats

if TYPE_CHECKING:  # the graph package is imported where the graph runs
    from graphs.article.state import Mode


class ArticleGraph(Protocol):
    """Runs the agent graph for one article and returns its final state (a JSON-able dict with at
    least ``article``, ``seo`` and ``image_prompts``)."""

    async def run(self, inp: GraphInput) -> dict[str, Any]: ...


class LangGraphArticleGraph:
    """``graphs.article.graph.make_graph`` with the pipeline's writers, checkpointed per article; the
    tenant's brand voice from ``voice`` (default: ``icop.brandvoice.BrandVoice`` on the pool, whose
    model loads only once a tenant with samples writes); ``prompt_caching``: ``Settings.prompt_caching``;
    the tenant's own model keys from ``model_keys`` (decrypted here, per run, into the graph's context:
    never into its state or checkpoints)."""

    CACHED_GRAPHS = 64

    def __init__(
        self,
        pool: asyncpg.Pool,
        writers: dict[str, Any],
        agents: Any,
        voice: Any = None,
        researcher: Any = None,
        prompt_caching: bool = True,
        model_keys: TenantModelKeys | None = None,
    ) -> None:
        from icop.brandvoice import BrandVoice

        self.pool, self.writers, self.agents, self.researcher = pool, writers, agents, researcher
        self.prompt_caching = prompt_caching
        self.voice = voice if voice is not None else BrandVoice(pool)
        self.model_keys = model_keys
        self._graphs: OrderedDict[tuple[str, tuple[str, ...]], Any] = OrderedDict()

    def _graph(self, tenant_id: str, writer_names: list[str]) -> Any:
        """The compiled graph for a tenant (its checkpointer is the tenant's) and a set of writers.
        Compiling costs more than many a node does, so a back-fill's articles share one (LRU)."""
        from graphs.article.checkpoint import PgCheckpointSaver
        from graphs.article.graph import make_graph
        from icop.connectors.usage import UsageRecorder

        writers = {w: call for w, call in self.writers.items() if w in writer_names} or self.writers
        key = (tenant_id, tuple(sorted(writers)))
        graph = self._graphs.pop(key, None)
        if graph is None:
            graph = make_graph(
                writers,
                self.agents,
                usage_sink=UsageRecorder(self.pool),
                checkpointer=PgCheckpointSaver(self.pool, tenant_id),
                voice=self.voice,
                researcher=self.researcher,
                prompt_caching=self.prompt_caching,
                key_pauses=self.model_keys,
            )
        self._graphs[key] = graph
        while len(self._graphs) > self.CACHED_GRAPHS:
            self._graphs.popitem(last=False)
        return graph

    async def _context(self, inp: GraphInput) -> Any:
        """The run's context: the tenant's own keys of the writers that use them."""
        from graphs.article.state import ArticleContext

        own = [w for w in inp.own_keys if w in inp.writers]
        if not own:
            return ArticleContext()
        if self.model_keys is None:  # a worker built without the vault: refuse rather than use the platform's
            raise ApplicationError(
                "this worker cannot read tenants' model keys", type="ModelKeysUnavailable", non_retryable=True
            )
        return ArticleContext(await self.model_keys.resolve(inp.tenant_id, own))

    async def run(self, inp: GraphInput) -> dict[str, Any]:
        from graphs.article.graph import article_input

        graph = self._graph(inp.tenant_id, inp.writers)
        # One checkpointed graph per writing of the article: a regeneration starts a fresh one.
        thread = f"article-{inp.article_id}" + (f"-g{inp.generation}" if inp.generation else "")
        config = {"configurable": {"thread_id": thread}}
        context = await self._context(inp)
        snapshot = await graph.aget_state(config)
        if snapshot.next:  # an earlier attempt stopped mid-graph: resume it
            state = await graph.ainvoke(None, config, context=context)
        elif snapshot.values.get("markdown"):  # an earlier attempt finished: nothing to pay again
            state = snapshot.values
        else:
            notes = inp.notes + (f"\nPart of the series on: {inp.main_topic}" if inp.main_topic else "")
            state = await graph.ainvoke(
                article_input(
                    inp.topic,
                    cast("Mode", inp.mode),  # a plain str on the wire; the API accepts only the graph's modes
                    inp.language,
                    notes=notes.strip(),
                    tenant_id=inp.tenant_id,
                    article_id=inp.article_id,
                    search_provider=inp.search_provider,
                    on_research_failure=inp.on_research_failure,
                ),
                config,
                context=context,
            )
        return dict(state)


class ArticleActivities:
    """Built with the pool, the object store and the graph runner."""

    def __init__(self, pool: asyncpg.Pool, store: Any, graph: ArticleGraph, limits: RunLimits) -> None:
        self.pool, self.store, self.graph, self.limits = pool, store, graph, limits

    @activity.defn(name="create_article")
    async def create_article(self, inp: CreateArticleInput) -> CreatedArticle:
        """The article row of a sub-topic (one per sub-topic, whatever the retries), admitted against the
        plan's monthly articles as it is created. Local activity."""
        tenant, subtopic = UUID(inp.tenant_id), UUID(inp.subtopic_id)
        async with tenant_tx(self.pool, tenant) as conn:
            existing = await repository.subtopic_article(conn, tenant, subtopic)
            if existing is not None:
                return CreatedArticle(str(existing))
            admission = await admit_article(conn, tenant, self.limits)
            if not admission.admitted:
                waits = admission.refusal is Refusal.BUDGET
                return CreatedArticle(None, admission.reason, admission.retry_after_s if waits else None)
            aid = await repository.upsert_article(
                conn, tenant, UUID(inp.pipeline_id), UUID(inp.run_id), subtopic, inp.language, inp.mode
            )
        return CreatedArticle(str(aid))

    @activity.defn(name="set_article_status")
    async def set_article_status(self, inp: ArticleStatusInput) -> None:
        tenant = UUID(inp.tenant_id)
        async with tenant_tx(self.pool, tenant) as conn:
            await repository.set_article_status(conn, tenant, UUID(inp.article_id), inp.status, inp.error)

    @activity.defn(name="run_agent_graph")
    async def run_agent_graph(self, inp: GraphInput) -> GraphResult:
        from graphs.article.nodes import made_offline

        tenant = UUID(inp.tenant_id)
        with mapped_errors():
            try:
                state = await with_heartbeats(self.graph.run(inp))
            except Exception as e:
                if type(e).__name__ == "AllWritersFailed":  # every writer failed after its own retries
                    # skipped or refused for the tenant's own keys only: no retry helps until the tenant acts
                    for_keys = all(f.get("code") for f in getattr(e, "failures", None) or [{}])
                    raise ApplicationError(str(e), type="AllWritersFailed", non_retryable=for_keys) from e
                if type(e).__name__ == "ResearchFailed":  # no source, and the pipeline fails such articles
                    raise ApplicationError(str(e), type="ResearchFailed", non_retryable=True) from e
                raise
            seo = dict(state.get("seo") or {})
            title = str(seo.get("title") or inp.topic)
            async with tenant_tx(self.pool, tenant) as conn:
                await repository.save_graph_result(
                    conn, tenant, UUID(inp.article_id), title, seo, _jsonable(state)
                )
                if made_offline(state):
                    await articles_repository.mark_offline_content(conn, tenant, UUID(inp.article_id))
        return GraphResult(
            title=title,
            summary=str(seo.get("meta_description") or ""),
            hashtags=[str(h) for h in seo.get("hashtags") or []],
            image_prompts=[str(p) for p in state.get("image_prompts") or []],
            slug=str(seo.get("slug") or ""),
        )

    @activity.defn(name="format_markdown")
    async def format_markdown(self, inp: MarkdownInput) -> MarkdownResult:
        """The final Markdown with the stored images' URLs, written beside them; its URL on the article
        row."""
        tenant = UUID(inp.tenant_id)
        with mapped_errors():
            async with tenant_tx(self.pool, tenant) as conn:
                m = await articles_repository.material(conn, tenant, UUID(inp.article_id))
            state = m["graph_state"] if m is not None else None
            if m is None or not state or "seo" not in state:
                raise ApplicationError(
                    "the article has no graph result; run the agent graph first",
                    type="MissingGraphState",
                    non_retryable=True,
                )
            markdown = article_markdown(
                state,
                title=m["title"],
                seo=m["seo"] or {},
                edited_body=m["edited_body"],
                image_urls=inp.image_urls,
            )
            stored = await store_article_markdown(
                self.pool, self.store, tenant, UUID(inp.article_id), markdown
            )
        return MarkdownResult(stored.key, stored.url)

    @activity.defn(name="approved_article")
    async def approved_article(self, ref: ArticleRef) -> ApprovedArticle:
        """The article's title, summary and hashtags as approved (an editor may have changed them while it
        waited): what its posts are made from. Local activity."""
        tenant = UUID(ref.tenant_id)
        async with tenant_tx(self.pool, tenant) as conn:
            m = await articles_repository.material(conn, tenant, UUID(ref.article_id))
        if m is None:
            raise ApplicationError(
                f"article {ref.article_id} does not exist", type="NotFound", non_retryable=True
            )
        seo = m["seo"] or {}
        return ApprovedArticle(
            title=str(m["title"]),
            summary=str(seo.get("meta_description") or ""),
            hashtags=[str(h) for h in seo.get("hashtags") or []],
        )

    def all(self) -> list[Callable[..., object]]:
        return [
            self.create_article,
            self.set_article_status,
            self.run_agent_graph,
            self.format_markdown,
            self.approved_article,
        ]


class ImageActivities:
    """Built with the pool, the :class:`ImageMaker` (the ImageGenerator deployment through its Serve
    handle; in-process only in unit tests) and where usage is recorded."""

    def __init__(self, pool: asyncpg.Pool, maker: ImageMaker, usage: UsageSink) -> None:
        self.pool, self.maker, self.usage = pool, maker, usage

    @activity.defn(name="generate_images")
    async def generate_images(self, inp: ImagesInput) -> list[StoredImage]:
        """One image per prompt: generated, kept by key, converted to JPEG, stored content-addressed (by
        the maker); the usage and the image rows are recorded here, from what it returns."""
        tenant, article = UUID(inp.tenant_id), UUID(inp.article_id)
        # a plain str on the wire; the API accepts only known providers
        provider = cast(ProviderName, inp.provider)
        out: list[StoredImage] = []
        with mapped_errors():
            for pos, prompt in enumerate(inp.prompts):
                request = ImageJobRequest(
                    inp.tenant_id, prompt, provider, instagram=inp.instagram, article_id=inp.article_id
                )
                [made] = (await with_heartbeats(self.maker.make(request)))[:1]
                src, res = made.source, made.jpeg.raise_for_error()
                await self.usage.record(
                    tenant,
                    UsageEvent("image", src.provider, src.model, "generate", images=1, article_id=article),
                )
                async with tenant_tx(self.pool, tenant) as conn:
                    await repository.upsert_image(
                        conn, tenant, article, pos, sha256=res.sha256, key=res.key or "", url=res.url or "",
                        width=res.width, height=res.height, size_bytes=res.size_bytes, provider=src.provider,
                        prompt=prompt,
                    )  # fmt: skip
                    if src.offline:
                        await articles_repository.mark_offline_content(conn, tenant, article)
                out.append(StoredImage(res.key or "", res.url or ""))
                activity.heartbeat(pos)
        return out

    def all(self) -> list[Callable[..., object]]:
        return [self.generate_images]


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
