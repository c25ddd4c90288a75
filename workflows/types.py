"""Data that crosses the workflow boundary: one dataclass per workflow and activity input, plain
fields only (str, int, bool, lists, nested dataclasses) so that fields can be added compatibly.

No imports beyond the standard library: workflow modules import this inside Temporal's sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_QUEUE_PREFIX = "icop"


@dataclass(frozen=True)
class Queues:
    """The task queue of each module (planning, agents, images, syndication)."""

    planning: str = f"{DEFAULT_QUEUE_PREFIX}-planning"
    agents: str = f"{DEFAULT_QUEUE_PREFIX}-agents"
    images: str = f"{DEFAULT_QUEUE_PREFIX}-images"
    syndication: str = f"{DEFAULT_QUEUE_PREFIX}-syndication"

    @classmethod
    def with_prefix(cls, prefix: str) -> Queues:
        return cls(f"{prefix}-planning", f"{prefix}-agents", f"{prefix}-images", f"{prefix}-syndication")

    def of(self, module: str) -> str:
        return str(getattr(self, module))


MODULES = ("planning", "agents", "images", "syndication")


def run_workflow_id(run_id: str) -> str:
    """The one workflow id of a run: starting it twice (an API retry) can never start two."""
    return f"pipeline-run-{run_id}"


def schedule_id(pipeline_id: str) -> str:
    """The Temporal Schedule of a pipeline's cron (its fires get ``-<timestamp>`` appended by the server)."""
    return f"pipeline-schedule-{pipeline_id}"


def topic_workflow_id(run_id: str, row_number: int) -> str:
    return f"pipeline-run-{run_id}-row-{row_number}"


def article_workflow_id(run_id: str, subtopic_id: str) -> str:
    return f"pipeline-run-{run_id}-article-{subtopic_id}"


# ---- the pipeline and its plan -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    platform: str  # facebook | instagram | threads | x
    account_id: str


@dataclass(frozen=True)
class PipelineConfig:
    """What a run needs from ``content_pipelines`` (read once, at the start of an execution)."""

    sheet_id: str
    sheet_range: str = "ContentPlan!A2:E"
    mode: str = "compare"
    writers: list[str] = field(default_factory=lambda: ["gpt", "claude", "gemini"])
    image_provider: str = "offline"
    targets: list[TargetSpec] = field(default_factory=list)
    approval_required: bool = False
    dry_run: bool = True
    subtopics_per_topic: int = 5
    default_language: str = "en"
    images_per_article: int = 1
    search_provider: str = ""  # auto | tavily | naver; "": the platform's ICOP_RESEARCH_SEARCH_PROVIDER
    on_research_failure: str = ""  # continue | fail; "": the platform's ICOP_RESEARCH_ON_SEARCH_FAILURE
    source_kind: str = "sheet"  # sheet | csv | xlsx
    plan_key: str = ""  # the uploaded plan file's object key (csv, xlsx)
    note_column: str = "F"  # the plan tab's column for the status note; "": none
    learn_times: bool = False  # a post without a publish time goes out at the tenant's next best hour
    own_keys: list[str] = field(default_factory=list)  # writers on the tenant's own model key


@dataclass(frozen=True)
class RowSpec:
    row_number: int
    topic: str
    notes: str
    language: str
    written: list[str] = field(default_factory=lambda: ["", "", ""])
    """The row's status, result and note cells as the run read them: what a write-back expects to find."""


@dataclass(frozen=True)
class PlanSnapshot:
    config: PipelineConfig
    pending: list[RowSpec]
    problems: int
    next_subtopic_row: int


# ---- inputs ----------------------------------------------------------------------------------------


@dataclass
class Progress:
    """A run's counters: queryable from the workflow, stored in ``pipeline_runs.progress``."""

    rows_total: int = 0
    rows_done: int = 0
    rows_failed: int = 0
    rows_invalid: int = 0
    subtopics: int = 0
    articles_done: int = 0
    articles_failed: int = 0
    posts: int = 0
    in_flight: int = 0
    executions: int = 1


@dataclass(frozen=True)
class PipelineRunInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    queues: Queues = field(default_factory=Queues)
    max_concurrent_rows: int = 4
    """Rows (TopicWorkflows) in flight at once for this run: one tenant's back-fill cannot flood the
    workers."""
    from_row: int | None = None
    to_row: int | None = None
    rows_per_execution: int = 200
    """After this many rows, the run continues as new (bounded history for sheets of thousands of rows)."""
    carried: Progress | None = None
    rows: list[int] | None = None
    """Only these plan rows (a retry of a run's failed rows): each is taken when it is pending or failed
    (its sheet status ``error: …``), whatever ``from_row``/``to_row`` say."""


@dataclass(frozen=True)
class ScheduledRunInput:
    """What a pipeline's Temporal Schedule starts on each fire (``ScheduledRunWorkflow``)."""

    tenant_id: str
    pipeline_id: str
    queues: Queues = field(default_factory=Queues)
    max_concurrent_rows: int = 4


@dataclass(frozen=True)
class OpenScheduledRunInput:
    tenant_id: str
    pipeline_id: str
    fire_id: str
    """The fire's workflow id: the run id is derived from it, so a retried activity opens the same run."""


@dataclass(frozen=True)
class ScheduledRunOpened:
    run_id: str | None
    """None: the fire was skipped (``reason``); a skip is still recorded when the pipeline exists."""
    reason: str = ""


@dataclass(frozen=True)
class TopicInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    row: RowSpec
    config: PipelineConfig
    subtopic_row_start: int
    """First row of this plan row's block on the Subtopics tab (``subtopics_per_topic`` rows are its own)."""
    queues: Queues = field(default_factory=Queues)


@dataclass(frozen=True)
class ArticleInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    subtopic_id: str
    subtopic: str
    main_topic: str
    row_number: int
    language: str
    notes: str
    sheet_row: int
    """The Subtopics tab row this article's status and URL go to."""
    config: PipelineConfig
    queues: Queues = field(default_factory=Queues)


@dataclass(frozen=True)
class Approval:
    approved: bool
    reason: str = ""
    publish_at: str | None = None
    """When to publish the posts (ISO 8601, UTC); None: at once. Each post can be moved later
    (``Reschedule``)."""


@dataclass(frozen=True)
class Reschedule:
    """A scheduled post's new publish time (``PATCH /v1/posts/{id}``), sent to the article's workflow."""

    platform: str
    account_id: str
    publish_at: str
    """ISO 8601, UTC."""


# ---- activity inputs and results -----------------------------------------------------------------


@dataclass(frozen=True)
class ReadPlanInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    from_row: int | None = None
    to_row: int | None = None
    rows: list[int] | None = None
    """See ``PipelineRunInput.rows``."""


@dataclass(frozen=True)
class RunStatusInput:
    tenant_id: str
    run_id: str
    status: str  # running | completed | failed | cancelled
    progress: Progress
    error: str | None = None


@dataclass(frozen=True)
class RowStatusInput:
    tenant_id: str
    run_id: str
    row_number: int
    topic: str
    language: str | None
    status: str
    reason: str | None = None
    reason_code: str | None = None  # stable, for a client's own wording


@dataclass(frozen=True)
class PlanRowInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    row: RowSpec
    want: int


@dataclass(frozen=True)
class SubtopicRef:
    id: str
    label: str


@dataclass(frozen=True)
class SheetCells:
    range: str
    values: list[list[str]]
    expected: list[list[str]]
    """What the run believes the cells hold now (what it read or last wrote): a cell found otherwise was
    edited after the run read it and is left alone (``icop.planning.feedback``)."""


@dataclass(frozen=True)
class SheetWriteInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    row_number: int
    """The plan row the cells belong to: cells left alone are recorded on it."""
    config: PipelineConfig
    cells: list[SheetCells]


@dataclass(frozen=True)
class CreateArticleInput:
    tenant_id: str
    pipeline_id: str
    run_id: str
    subtopic_id: str
    language: str
    mode: str


@dataclass(frozen=True)
class CreatedArticle:
    article_id: str | None
    """None: the article was not admitted (``refused`` says why, e.g. the plan's monthly articles)."""
    refused: str = ""
    wait_s: int | None = None
    """Set when the refusal passes by itself (the tenant's budget): ask again after this long."""


@dataclass(frozen=True)
class ArticleStatusInput:
    tenant_id: str
    article_id: str
    status: str
    error: str | None = None


@dataclass(frozen=True)
class GraphInput:
    tenant_id: str
    article_id: str
    topic: str
    main_topic: str
    language: str
    notes: str
    mode: str
    writers: list[str]
    search_provider: str = ""
    on_research_failure: str = ""
    generation: int = 0  # 0: the first writing; n: the n-th regeneration an editor asked for (a fresh graph)
    own_keys: list[str] = field(default_factory=list)
    """Writers that use the tenant's own model key (the pipeline's ``model_keys``): names only, never keys
    (the activity decrypts them from the vault)."""


@dataclass(frozen=True)
class GraphResult:
    title: str
    summary: str
    hashtags: list[str]
    image_prompts: list[str]
    slug: str


@dataclass(frozen=True)
class ImagesInput:
    tenant_id: str
    article_id: str
    prompts: list[str]
    provider: str
    instagram: bool = False


@dataclass(frozen=True)
class StoredImage:
    key: str
    url: str


@dataclass(frozen=True)
class MarkdownInput:
    tenant_id: str
    article_id: str
    image_urls: list[str]


@dataclass(frozen=True)
class MarkdownResult:
    key: str
    url: str


@dataclass(frozen=True)
class PublishInput:
    tenant_id: str
    article_id: str
    platform: str
    account_id: str
    title: str
    summary: str
    url: str | None
    hashtags: list[str]
    language: str
    media_urls: list[str]
    dry_run: bool
    media_keys: list[str] = field(default_factory=list)
    """The images' storage keys: the activity signs fresh URLs from them (what a platform fetches)."""
    markdown_key: str = ""
    """The article's storage key: its link is signed afresh too."""


@dataclass(frozen=True)
class ScheduleInput:
    """A post to create (if it does not exist yet) as ``scheduled`` for ``publish_at`` (ISO 8601, UTC)."""

    post: PublishInput
    publish_at: str


@dataclass(frozen=True)
class ScheduledPost:
    post_id: str
    status: str
    not_before: str | None
    """The post's publish time as stored (ISO 8601): the API may have moved it since it was scheduled."""


@dataclass(frozen=True)
class PublishResult:
    post_id: str
    status: str
    platform_post_id: str | None = None
    reason: str | None = None
    retry_in_s: float | None = None
    """Set when the post waits (quota window, back-off): the workflow sleeps durably, then tries again."""
    permalink: str | None = None


@dataclass(frozen=True)
class ArticleOutcome:
    subtopic_id: str
    article_id: str | None
    status: str  # published | ready | rejected | failed
    markdown_url: str | None = None
    posts: int = 0
    error: str | None = None
    post_links: list[str] = field(default_factory=list)
    """``platform: permalink`` of each published post."""


@dataclass(frozen=True)
class TopicOutcome:
    row_number: int
    status: str  # done | failed
    subtopics: int = 0
    articles: list[ArticleOutcome] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class PostRetryInput:
    """A failed post the user asked to send again (``POST /v1/posts/{id}/retry``)."""

    tenant_id: str
    post_id: str
    queues: Queues = field(default_factory=Queues)


@dataclass(frozen=True)
class ArticleRef:
    tenant_id: str
    article_id: str


@dataclass(frozen=True)
class ApprovedArticle:
    """What an article's posts are made from, read after approval (an editor may have changed it)."""

    title: str
    summary: str
    hashtags: list[str]


@dataclass(frozen=True)
class PostRef:
    tenant_id: str
    post_id: str


def post_retry_workflow_id(post_id: str, attempt: int) -> str:
    """One retry workflow per post and attempt count: a repeated request starts nothing twice."""
    return f"post-retry-{post_id}-{attempt}"


# ---- engagement (insights) ---------------------------------------------------------------------------


def insights_schedule_id(tenant_id: str, platform: str, account_id: str) -> str:
    """The Temporal Schedule that collects one connected account's posts' metrics."""
    return f"insights-{tenant_id}-{platform}-{account_id}"


@dataclass(frozen=True)
class InsightsInput:
    """One connected account whose due posts' metrics are collected."""

    tenant_id: str
    platform: str
    account_id: str
    queues: Queues = field(default_factory=Queues)


@dataclass(frozen=True)
class InsightsCollected:
    due: int = 0
    read: int = 0
    requests: int = 0
    stopped: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    thresholds_hit: int = 0
