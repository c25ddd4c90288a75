"""The article graph's typed state: every intermediate product lives here and the final state is
returned whole, so that the caller can store it (``generated_articles.graph_state``).

Values are plain JSON-able dicts and lists (they are checkpointed and stored as JSON).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from icop.articles.fallbacks import StructuredRecord
from icop.modelkeys.rules import ResolvedKey
from icop.research.types import ResearchReport, Source

Mode = Literal["compare", "merge"]


class ResearchNote(TypedDict):
    """One passage the Researcher passes on, with the source it came from."""

    claim: str
    source_url: str
    source_title: str
    source: NotRequired[int]  # the source's number: writers cite it as [n]


class Draft(TypedDict):
    """One writer's draft."""

    writer: str  # "gpt" | "claude" | "gemini"
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    started: float  # epoch seconds, as the writer node saw them
    finished: float


class WriterFailure(TypedDict):
    """Why a writer's draft is missing (after that writer's retries)."""

    writer: str
    kind: str  # ProviderError kind, the exception's class name, or "key_unavailable" (not called)
    message: str
    code: NotRequired[str]
    """A stable code for a reason the tenant can act on (``icop.modelkeys.rules``: its own key refused,
    out of quota, missing, paused); absent for other failures."""
    params: NotRequired[dict[str, str]]
    """The code's parameters (``provider``; ``message``: the vendor's own words)."""


class Seo(TypedDict):
    """Search-engine data for the chosen article."""

    title: str
    meta_description: str  # at most SEO_META_MAX characters
    slug: str
    keywords: list[str]
    hashtags: list[str]


class UsageEntry(TypedDict):
    """Tokens of one LLM call made by an agent or a writer."""

    agent: str  # "researcher", "writer:gpt", "editor", ...
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    offline: NotRequired[bool]
    """Made by an offline provider (placeholder text, development without a key); absent in older states."""
    cache_read_tokens: NotRequired[int]
    """Of prompt_tokens: read from the vendor's prompt cache (absent in older states: none)."""
    cache_write_tokens: NotRequired[int]
    """Of prompt_tokens: written to it."""


class ArticleState(TypedDict, total=False):
    """State of one article through the graph."""

    topic: str
    """The (sub-)topic to write about, in the article's language."""
    language: str
    """The article's language code ("en", "ko", ...): writers, editor and SEO write in it."""
    mode: Mode
    """"compare": the Editor scores the drafts and edits the best; "merge": the Merger combines them."""
    notes: str
    """Free-form guidance from the plan row (audience, angle, brand voice)."""
    tenant_id: str | None
    """Who pays: usage is recorded for this tenant (None: not recorded in the database)."""
    article_id: str | None
    """The generated_articles row this run fills, if any (usage rows point at it)."""
    search_provider: str
    """The pipeline's search provider: "auto", "tavily" or "naver" (absent: the platform's setting)."""
    on_research_failure: str
    """When research finds no source: "continue" unsourced or "fail" the article (absent: the platform's)."""
    style_samples: list[str]
    """The tenant's brand-voice samples closest to the topic (looked up once, before the writers)."""
    sources: list[Source]
    """The pages fetched and extracted during the run, numbered [1]..[n]: what the article may cite."""
    research_report: ResearchReport
    """The searches made and pages fetched, and whether the article is sourced (with the reason if not).
    Checkpointed with the rest: a resumed graph does not search or fetch again."""
    research: list[ResearchNote]
    """The Researcher's notes: the sources' passages, each with its source's URL and number."""
    research_summary: str
    """The Researcher agent's brief to the writers, built from the notes."""
    drafts: Annotated[list[Draft], operator.add]
    """The writers' drafts, joined by the reducer as the parallel writers finish (one per writer)."""
    writer_failures: Annotated[list[WriterFailure], operator.add]
    """Writers that failed after their retries, and why."""
    scores: dict[str, dict[str, float]]
    """compare: per writer, a score (0–10) per criterion of EDITOR_CRITERIA plus "total"."""
    score_source: str
    """Where the scores came from: "editor" (the agent's structured answer) or "rubric" (the code's
    fallback when no valid answer came: recorded in ``structured``)."""
    score_reasons: dict[str, str]
    """compare: the Editor's one-line reason per writer (absent when the scores are the rubric's)."""
    merge_plan: dict[str, Any]
    """merge: the outline the Merger wrote the article from (title; sections with heading, what they cover
    and the drafts they take from), the agent's or, on a fallback, derived from the drafts' headings."""
    structured: Annotated[list[StructuredRecord], operator.add]
    """Every structured answer asked for: how many attempts it took and whether a fallback stood in."""
    chosen_writer: str | None
    """compare: the writer whose draft the Editor picked; merge: None."""
    article: str
    """The article after the Editor (compare) or the Merger (merge)."""
    seo: Seo
    """Title, meta description, slug, keywords and hashtags for the article."""
    image_prompts: list[str]
    """The Visual Director's image prompts, always in English."""
    image_prompts_original: list[str]
    """The prompts before translation (the article's language), when it is not English."""
    image_urls: list[str]
    """URLs of the images made outside the graph (given in the input), placed by the formatter."""
    markdown: str
    """The final Markdown: YAML front matter, the article and the images."""
    usage: Annotated[list[UsageEntry], operator.add]
    """Tokens per LLM call (agents and writers), in call order per branch."""


@dataclass(frozen=True)
class ArticleContext:
    """What one run of the graph needs but must never be checkpointed or stored with the state (LangGraph's
    run context: ``graph.ainvoke(input, config, context=...)``)."""

    model_keys: Mapping[str, ResolvedKey] = field(default_factory=dict)
    """Per writer that uses the tenant's own key: that key, or why it is not used (the writer is then
    skipped with the reason). A writer not named here uses the platform's key."""
