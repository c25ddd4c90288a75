from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from icop.articles.fallbacks import FallbackReason, StructuredNode
from icop.statuses import ArticleStatus

from ..runs.schemas import SubtopicOut

WriterName = Literal["gpt", "claude", "gemini"]
NO_NUL = r"^[^\x00]*$"
# Output models: a field with a default is still always present in a response (required in the schema).
ALWAYS_PRESENT = ConfigDict(json_schema_serialization_defaults_required=True)


class ArticleSummary(BaseModel):
    id: UUID
    pipeline_id: UUID | None
    run_id: UUID | None
    subtopic_id: UUID | None
    language: str
    title: str
    status: ArticleStatus
    mode: Literal["compare", "merge"]
    markdown_url: str | None
    created_at: datetime
    updated_at: datetime


class ImageOut(BaseModel):
    id: UUID
    position: int
    url: str
    width: int
    height: int
    provider: str


class DraftOut(BaseModel):
    """One writer's draft, as the writer returned it."""

    model_config = ALWAYS_PRESENT

    writer: WriterName
    model: str
    title: str = Field(description="The draft's first line (its heading).")
    markdown: str


class PlanSectionOut(BaseModel):
    """One section of a merged article's plan."""

    model_config = ALWAYS_PRESENT

    heading: str
    covers: str = Field(description="What the section says, in one line.")
    takes_from: list[WriterName] = Field(description="The drafts whose material it uses.")


class WriterFailureOut(BaseModel):
    """A writer whose draft is missing, and why (the article was written by the others)."""

    model_config = ALWAYS_PRESENT

    writer: WriterName
    kind: str = Field(
        description="The failure's kind (auth, rate_limited, timeout, …), or key_unavailable: the writer was "
        "not called because the tenant's own key for it is not set or is paused."
    )
    message: str
    code: str | None = Field(
        default=None,
        description="For a reason the tenant can act on: model_key.rejected, model_key.quota, "
        "model_key.missing, model_key.unreadable (see /v1/model-keys); null otherwise.",
    )
    params: dict[str, str] = Field(default_factory=dict)


class EditorOut(BaseModel):
    """How the article was chosen (compare) or combined (merge)."""

    model_config = ALWAYS_PRESENT

    mode: Literal["compare", "merge"]
    winner: WriterName | None = Field(description="compare: the writer whose draft was edited; merge: null.")
    scores: dict[str, float] = Field(description="compare: each writer's total score (0–10).")
    criteria: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="compare: each writer's score per criterion (0–10)."
    )
    score_source: Literal["editor", "rubric"] | None = Field(
        default=None,
        description="editor: the Editor agent's scores; rubric: computed from the text because the Editor's "
        "answer was unusable.",
    )
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="compare: the Editor's one-line reason per writer (absent with rubric scores).",
    )
    plan: list[PlanSectionOut] = Field(
        default_factory=list,
        description="merge: the outline the Merger wrote the article from, section by section.",
    )
    rationale: str = Field(description="Why this article, in words derived from the recorded decision.")


class FallbackOut(BaseModel):
    """A structured answer the graph could not get (after its repair turns): a rule-based value stands in."""

    model_config = ALWAYS_PRESENT

    node: StructuredNode = Field(
        description="Whose answer: editor (scores), merger (plan), seo (SEO fields), visual_director (image "
        "prompts) or translator (their English translation)."
    )
    reason: FallbackReason = Field(
        description="invalid_answer: every answer broke the schema or its limits; offline: no model answered "
        "(the agents' provider has no key)."
    )
    attempts: int = Field(description="Answers asked for (each one was paid for).")
    message: str = Field(description="What stood in and what to do about it (English).")
    problem: str | None = Field(description="What was wrong with the last answer, as the model was told.")


class SourceOut(BaseModel):
    """A page the article cites as [n]: found by the search provider, fetched and extracted in the run."""

    model_config = ALWAYS_PRESENT

    n: int = Field(description="The number the article cites it by.")
    url: str
    title: str
    site: str
    published: str | None = Field(description="ISO date from the page's metadata (or the search result).")
    passages: list[str] = Field(description="The extracted passages the writers were given.")
    provider: str = Field(description="The search provider that found it: tavily or naver.")


class ResearchOut(BaseModel):
    """Whether the article is grounded in sources, and why not when it is not."""

    model_config = ALWAYS_PRESENT

    status: Literal["sourced", "unsourced"]
    provider: str | None = Field(description="The search provider used (or tried first).")
    reason: str | None = Field(description="unsourced: what failed, e.g. a used-up search quota.")
    searches: int = Field(description="Search requests made.")
    pages_fetched: int = Field(description="Pages fetched, from the cache included.")


class ArticleOut(ArticleSummary):
    model_config = ALWAYS_PRESENT

    markdown_key: str | None
    seo: dict[str, Any]
    error: str | None
    images: list[ImageOut]
    markdown: str | None = Field(default=None, description="The final Markdown (null until it is written).")
    drafts: list[DraftOut] = Field(default_factory=list)
    writer_failures: list[WriterFailureOut] = Field(
        default_factory=list, description="Writers whose draft is missing, and why."
    )
    editor: EditorOut | None = None
    sources: list[SourceOut] = Field(default_factory=list, description="What the article cites, by number.")
    research: ResearchOut | None = Field(
        default=None, description="The research step's outcome (null until the graph has run)."
    )
    fallbacks: list[FallbackOut] = Field(
        default_factory=list,
        description="Structured answers (scores, plan, SEO fields, image prompts) that stayed unusable after "
        "their repair turns, each replaced by a rule-based value: check those parts before approving.",
    )
    body: str | None = Field(
        default=None,
        description="The article's text under its title (Markdown, with [n] citation markers): the chosen "
        "draft as the Editor finished it, or as a person edited it. Null until the graph has run.",
    )
    draft_writer: WriterName | None = Field(
        default=None, description="The writer whose draft a person chose instead (null: the Editor's choice)."
    )
    edited_at: datetime | None = Field(default=None, description="When a person last edited the article.")
    subtopic: SubtopicOut | None = Field(
        default=None, description="The sub-topic it was written on, with why it was planned."
    )


class ApproveBody(BaseModel):
    publish_at: AwareDatetime | None = Field(
        default=None,
        description="When to publish its posts (with a time zone or offset; stored in UTC; in the future, at "
        "most 366 days ahead). Omitted: at once. Each post's time can be moved until it is published "
        "(PATCH /v1/posts/{post_id}).",
    )


TITLE_MAX, SUMMARY_MAX, BODY_MAX = 200, 500, 100_000


class ArticleEdit(BaseModel):
    """What an editor changes before approving; fields left out stay as they are."""

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX, pattern=NO_NUL)
    summary: str | None = Field(
        default=None,
        max_length=SUMMARY_MAX,
        pattern=NO_NUL,
        description="The meta description, which the posts' text is made from.",
    )
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=BODY_MAX,
        pattern=NO_NUL,
        description="The text under the title, in Markdown ([n] cites source n).",
    )

    @model_validator(mode="after")
    def _something(self) -> ArticleEdit:
        if self.title is None and self.summary is None and self.body is None:
            raise ValueError("nothing to change: give title, summary or body")
        return self


class DraftChoice(BaseModel):
    writer: WriterName = Field(description="Whose draft becomes the article (its heading becomes the title).")


class RejectBody(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, pattern=NO_NUL, description="Why (kept on the article)."
    )


class PreviewOut(BaseModel):
    """One post as the platform will see it (or saw it), with its length in the platform's own unit."""

    model_config = ALWAYS_PRESENT

    platform: Literal["facebook", "instagram", "threads", "x"]
    account_id: str
    text: str
    length: int = Field(description="As the platform counts it (see counted_as).")
    limit: int
    counted_as: Literal["weighted", "characters"] = Field(
        description="weighted: X's weighted length (twitter-text: a URL counts 23, CJK, Hangul and emoji 2); "
        "characters: Unicode code points (Meta's platforms)."
    )
    within_limit: bool
    source: Literal["post", "composed"] = Field(
        description="post: the text stored with the post; composed: what the publisher will send."
    )
    post_status: str | None = Field(default=None, description="The post's status when source is post.")
    link: str | None = Field(default=None, description="Facebook: the link sent beside the text.")
    cost_usd: Decimal = Field(description="What sending it costs (X pay-per-use; zero elsewhere).")
