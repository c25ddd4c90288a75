"""ArticleWorkflow: agent graph → images → Markdown → (approval) → publish per target → write-back.

Deterministic: no I/O, clocks or randomness here; every step is an activity with its own policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from . import policies as P
    from .activities.articles import ArticleActivities, ImageActivities
    from .activities.planning import PlanningActivities, subtopic_cells
    from .activities.publish import PublishActivities
    from .types import (
        Approval,
        ApprovedArticle,
        ArticleInput,
        ArticleOutcome,
        ArticleRef,
        ArticleStatusInput,
        CreateArticleInput,
        CreatedArticle,
        GraphInput,
        GraphResult,
        ImagesInput,
        MarkdownInput,
        MarkdownResult,
        PublishInput,
        PublishResult,
        Reschedule,
        ScheduledPost,
        ScheduleInput,
        SheetCells,
        SheetWriteInput,
        StoredImage,
        TargetSpec,
    )


def _cause(e: BaseException) -> str:
    while (cause := getattr(e, "cause", None)) is not None:
        e = cause
    return str(e)[:300]


@workflow.defn(name="ArticleWorkflow")
class ArticleWorkflow:
    def __init__(self) -> None:
        self._approval: Approval | None = None
        self._regenerate = False
        self._stage = "starting"
        self._sheet_row: list[str] | None = None  # what this article last wrote on the Subtopics tab
        # scheduled posts: (platform, account) → publish time (ISO), and how often it was moved
        self._due: dict[tuple[str, str], str] = {}
        self._moves: dict[tuple[str, str], int] = {}

    @workflow.signal(name="approve")
    def approve(self, decision: Approval) -> None:
        """The API's approval (or rejection) when the pipeline asks for one."""
        self._approval = decision

    @workflow.signal(name="regenerate")
    def regenerate(self) -> None:
        """Write the article again while it awaits approval (the API checks that it does)."""
        self._regenerate = True

    @workflow.signal(name="reschedule")
    def reschedule(self, move: Reschedule) -> None:
        """A scheduled post's new publish time (the API has stored it on the post already)."""
        key = (move.platform, move.account_id)
        self._due[key] = move.publish_at
        self._moves[key] = self._moves.get(key, 0) + 1

    @workflow.query(name="stage")
    def stage(self) -> str:
        return self._stage

    @workflow.run
    async def run(self, inp: ArticleInput) -> ArticleOutcome:
        cfg = inp.config
        self._stage = "writing"
        created = await self._create(inp)
        told = False
        while created.article_id is None and created.wait_s is not None:  # the month's budget is spent
            self._stage = "waiting_budget"
            if not told:  # once: the Subtopics row says why it waits and what to do
                await self._write_back(inp, f"waiting: {created.refused}", "")
                told = True
            await workflow.sleep(timedelta(seconds=created.wait_s))  # durable: survives restarts
            created = await self._create(inp)
        self._stage = "writing"
        if created.article_id is None:  # not admitted (the plan's monthly articles): nothing was written
            self._stage = "refused"
            await self._write_back(inp, f"error: {created.refused}", "")
            return ArticleOutcome(inp.subtopic_id, None, "failed", error=created.refused)
        article_id = created.article_id
        generation = 0  # how often an editor asked for the article to be written again
        while True:
            try:
                graph, images, md = await self._write(inp, article_id, generation)
            except ActivityError as e:
                return await self._failed(inp, article_id, _cause(e))
            if not cfg.approval_required:
                break
            self._stage = "awaiting_approval"
            await self._status(inp, article_id, "awaiting_approval")
            await self._write_back(inp, "awaiting approval", md.url)
            await workflow.wait_condition(lambda: self._approval is not None or self._regenerate)
            if self._approval is not None:
                break
            # Written again from the start (research, three drafts, the editor's choice), then back to
            # the editor: the API has recorded the request and cleared the article's edits.
            self._regenerate = False
            generation += 1
            self._stage = "writing"
            await self._status(inp, article_id, "writing")

        if cfg.approval_required:
            assert self._approval is not None
            if not self._approval.approved:
                await self._status(inp, article_id, "rejected", self._approval.reason or None)
                await self._write_back(inp, "rejected", md.url)
                self._stage = "rejected"
                return ArticleOutcome(inp.subtopic_id, article_id, "rejected", md.url)
            await self._status(inp, article_id, "approved")
        text = ApprovedArticle(graph.title, graph.summary, graph.hashtags)
        # An editor may have changed the article while it waited: its posts are made from what was
        # approved, read now (recorded in history, so a replay reads the same).
        if cfg.approval_required and workflow.patched("publish-approved-text"):
            text = await workflow.execute_local_activity_method(
                ArticleActivities.approved_article,
                ArticleRef(inp.tenant_id, article_id),
                start_to_close_timeout=P.LOCAL_DB.start_to_close,
                retry_policy=P.LOCAL_DB.retry,
            )
        publish_at = self._approval.publish_at if self._approval is not None else None

        self._stage = "scheduled" if publish_at else "publishing"
        results = await asyncio.gather(
            *(self._publish(inp, article_id, t, text, md, images, publish_at) for t in cfg.targets)
        )
        failed = [r for r in results if r.status not in ("published", "dry_run")]
        status = "published" if cfg.targets and not failed and not cfg.dry_run else "ready"
        error = "; ".join(f"{r.status}: {r.reason}" for r in failed)[:500] or None
        await self._status(inp, article_id, status, error)
        sheet_status = "done" if not failed else f"error: {error}"
        await self._write_back(inp, sheet_status, md.url)
        self._stage = "done"
        links = [
            f"{t.platform}: {r.permalink}" for t, r in zip(cfg.targets, results, strict=True) if r.permalink
        ]
        return ArticleOutcome(
            inp.subtopic_id, article_id, status, md.url, len(results) - len(failed), error, links
        )

    async def _write(
        self, inp: ArticleInput, article_id: str, generation: int
    ) -> tuple[GraphResult, list[StoredImage], MarkdownResult]:
        """The article written: the agent graph (a fresh one for each regeneration), its images, its
        Markdown."""
        q, cfg = inp.queues, inp.config
        self._stage = "writing"
        graph = await workflow.execute_activity_method(
            ArticleActivities.run_agent_graph,
            GraphInput(
                inp.tenant_id,
                article_id,
                inp.subtopic,
                inp.main_topic,
                inp.language,
                inp.notes,
                cfg.mode,
                list(cfg.writers),
                cfg.search_provider,
                cfg.on_research_failure,
                generation,
                list(cfg.own_keys),
            ),
            task_queue=q.agents,
            **P.AGENT_GRAPH.options(),
        )
        self._stage = "images"
        wants_ig = any(t.platform == "instagram" for t in cfg.targets)
        images = await workflow.execute_activity_method(
            ImageActivities.generate_images,
            ImagesInput(
                inp.tenant_id,
                article_id,
                graph.image_prompts[: cfg.images_per_article],
                _image_provider(cfg.image_provider),
                instagram=wants_ig,
            ),
            task_queue=q.images,
            **P.IMAGES.options(),
        )
        self._stage = "markdown"
        # short (a database read, a render, one object write): a local activity, in this worker
        md = await workflow.execute_local_activity_method(
            ArticleActivities.format_markdown,
            MarkdownInput(inp.tenant_id, article_id, [i.url for i in images]),
            start_to_close_timeout=P.MARKDOWN.start_to_close,
            retry_policy=P.MARKDOWN.retry,
        )
        return graph, images, md

    async def _publish(
        self,
        inp: ArticleInput,
        article_id: str,
        t: TargetSpec,
        text: ApprovedArticle,
        md: MarkdownResult,
        images: list[StoredImage],
        publish_at: str | None,
    ) -> PublishResult:
        req = PublishInput(
            inp.tenant_id,
            article_id,
            t.platform,
            t.account_id,
            text.title,
            text.summary,
            md.url,
            text.hashtags,
            inp.language,
            [i.url for i in images],
            inp.config.dry_run,
            media_keys=[i.key for i in images],
            markdown_key=md.key,
        )
        key = (t.platform, t.account_id)
        scheduled: ScheduledPost | None = None
        if publish_at is None and inp.config.learn_times and not inp.config.dry_run:
            # The tenant's best hour on the platform, when its engagement says which (else None: at once).
            scheduled = await workflow.execute_activity_method(
                PublishActivities.schedule_at_best_hour,
                req,
                task_queue=inp.queues.syndication,
                **P.PUBLISH.options(),
            )
            if scheduled is not None and scheduled.not_before:
                self._stage = "scheduled"
        elif publish_at is not None:
            scheduled = await workflow.execute_activity_method(
                PublishActivities.schedule_post,
                ScheduleInput(req, publish_at),
                task_queue=inp.queues.syndication,
                **P.PUBLISH.options(),
            )
        if scheduled is None or not (scheduled.not_before or publish_at):
            return await publish_until_resting(req, inp.queues.syndication)
        # A move that arrived while the post was being scheduled is newer than what the activity read.
        self._due.setdefault(key, scheduled.not_before or publish_at or "")
        await self._until_due(key)
        self._stage = "publishing"
        return await publish_until_resting(req, inp.queues.syndication, moved=lambda: self._moves.get(key, 0))

    async def _until_due(self, key: tuple[str, str]) -> None:
        """Wait on a durable timer until the post's publish time; a move restarts the wait."""
        while True:
            left = (datetime.fromisoformat(self._due[key]) - workflow.now()).total_seconds()
            if left <= 0:
                return
            await _sleep_unless_moved(lambda: self._moves.get(key, 0), left)

    async def _create(self, inp: ArticleInput) -> CreatedArticle:
        return await workflow.execute_local_activity_method(
            ArticleActivities.create_article,
            CreateArticleInput(
                inp.tenant_id, inp.pipeline_id, inp.run_id, inp.subtopic_id, inp.language, inp.config.mode
            ),
            start_to_close_timeout=P.LOCAL_DB.start_to_close,
            retry_policy=P.LOCAL_DB.retry,
        )

    async def _failed(self, inp: ArticleInput, article_id: str, reason: str) -> ArticleOutcome:
        self._stage = "failed"
        await self._status(inp, article_id, "failed", reason)
        await self._write_back(inp, f"error: {reason}", "")
        return ArticleOutcome(inp.subtopic_id, article_id, "failed", error=reason)

    async def _status(
        self, inp: ArticleInput, article_id: str, status: str, error: str | None = None
    ) -> None:
        await workflow.execute_local_activity_method(
            ArticleActivities.set_article_status,
            ArticleStatusInput(inp.tenant_id, article_id, status, error),
            start_to_close_timeout=P.LOCAL_DB.start_to_close,
            retry_policy=P.LOCAL_DB.retry,
        )

    async def _write_back(self, inp: ArticleInput, status: str, url: str) -> None:
        """The article's row on the Subtopics tab, expecting what the topic (or this article) wrote there."""
        r = inp.sheet_row
        was = self._sheet_row or subtopic_cells(inp.row_number, inp.main_topic, inp.subtopic, "writing", "")
        self._sheet_row = subtopic_cells(inp.row_number, inp.main_topic, inp.subtopic, status, url)
        cells = [SheetCells(f"Subtopics!A{r}:E{r}", [self._sheet_row], [was])]
        await workflow.execute_activity_method(
            PlanningActivities.write_sheet,
            SheetWriteInput(inp.tenant_id, inp.pipeline_id, inp.run_id, inp.row_number, inp.config, cells),
            task_queue=inp.queues.planning,
            **P.SHEETS.options(),
        )


async def publish_until_resting(
    req: PublishInput, queue: str, moved: Callable[[], int] | None = None
) -> PublishResult:
    """The publish activity until the post rests (published, failed, …): a post that must wait (quota
    window, back-off, a publish time not reached yet) is waited for on a durable timer, then tried
    again. ``moved``: a count that changes when the post's publish time is moved, which ends a wait
    early (the publisher checks the stored time again)."""
    result: PublishResult = PublishResult("", "failed", reason="not attempted")
    for _ in range(P.PUBLISH_WAITS):
        try:
            result = await workflow.execute_activity_method(
                PublishActivities.publish, req, task_queue=queue, **P.PUBLISH.options()
            )
        except ActivityError as e:
            return PublishResult("", "failed", reason=_cause(e))
        if result.retry_in_s is None:
            return result
        if moved is None:
            await workflow.sleep(timedelta(seconds=result.retry_in_s))  # durable: survives restarts
            continue
        await _sleep_unless_moved(moved, result.retry_in_s)
    return result


async def _sleep_unless_moved(moved: Callable[[], int], seconds: float) -> None:
    """A durable timer of ``seconds`` that ends early when ``moved`` changes (a post's time was moved)."""
    before = moved()
    try:
        await workflow.wait_condition(lambda: moved() != before, timeout=seconds)
    except TimeoutError:
        pass


def _image_provider(name: str) -> str:
    return {"dalle": "dall-e", "dall-e-3": "dall-e", "fal": "flux"}.get(name, name)
