"""The structured answers the graph needs as data, as pydantic models: the Editor's scores, the Merger's
plan, the SEO fields and the Visual Director's image prompts.

Each is asked for through the vendor's native mechanism with the model's strict schema
(``icop.connectors.structured.output_schema``); the limits that schema cannot carry (score ranges, title
and description lengths, counts) are checked here when the answer is validated, and a broken answer is
repaired or, failing that, replaced by a rule-based value that the article records (``nodes.py``).
Models that depend on the drafts (the writers' names) are made per set of writers, once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from .prompts import EDITOR_CRITERIA, IMAGE_PROMPTS, SEO_META_MAX, SEO_TITLE_MAX

STRICT = ConfigDict(extra="forbid")
ONE_LINE_MAX = 300
MAX_SECTIONS = 12
SECTIONS = f"2 to {MAX_SECTIONS}"
MAX_KEYWORDS = 8
MAX_HASHTAGS = 6


def _one_line(text: str) -> str:
    """Whitespace collapsed (a line break inside a one-line field is harmless); empty is not an answer."""
    text = " ".join(text.split())
    if not text:
        raise ValueError("must not be empty")
    return text


OneLine = Annotated[str, AfterValidator(_one_line), Field(max_length=ONE_LINE_MAX)]


def _terms(items: list[str]) -> list[str]:
    """Trimmed, without empty items or repeats (first kept); at least one."""
    kept = list(dict.fromkeys(" ".join(i.split()) for i in items if i.strip()))
    if not kept:
        raise ValueError("must list at least one non-empty item")
    return kept


Terms = Annotated[list[str], AfterValidator(_terms)]


# -- the Editor's scores -----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _writer_scores() -> type[BaseModel]:
    criteria: dict[str, Any] = {
        c: (float, Field(ge=0, le=10, description=f"0 to 10: {why}")) for c, why in EDITOR_CRITERIA.items()
    }
    return create_model(
        "WriterScores",
        __config__=STRICT,
        __doc__="One draft's scores, each from 0 to 10, and why in one line.",
        reason=(OneLine, Field(description="One line: why these scores")),
        **criteria,
    )


@lru_cache(maxsize=32)
def editor_scores_model(writers: tuple[str, ...]) -> type[BaseModel]:
    """``{"<writer>": {<criterion>: 0–10, ..., "reason": "<one line>"}, ...}`` for exactly these drafts."""
    scores = _writer_scores()
    per: dict[str, Any] = {w: (scores, Field(description=f"The scores of draft {w}")) for w in writers}
    return create_model(
        "EditorScores",
        __config__=STRICT,
        __doc__="The Editor's scores of each draft on each criterion (0 to 10), with a one-line reason.",
        **per,
    )


def scores_of(answer: BaseModel) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Per writer: the criteria's scores plus their mean as ``total``; and the one-line reasons."""
    scores: dict[str, dict[str, float]] = {}
    reasons: dict[str, str] = {}
    for writer, per in answer:
        s = {c: float(getattr(per, c)) for c in EDITOR_CRITERIA}
        s["total"] = round(sum(s.values()) / len(s), 2)
        scores[writer], reasons[writer] = s, per.reason
    return scores, reasons


# -- the Merger's plan -------------------------------------------------------------------------------
def _sources(writers: list[str]) -> list[str]:
    kept = list(dict.fromkeys(writers))
    if not kept:
        raise ValueError("a section takes from at least one draft")
    return kept


@lru_cache(maxsize=32)
def merge_plan_model(writers: tuple[str, ...]) -> type[BaseModel]:
    """The outline the merged article follows: a title, then sections, each with its heading, what it
    covers and the drafts it takes from."""
    name = Literal[writers]  # type: ignore[valid-type]  # the drafts' writers, known per article
    section = create_model(
        "PlanSection",
        __config__=STRICT,
        __doc__="One section of the merged article.",
        heading=(OneLine, Field(description="The section's heading, in the article's language")),
        covers=(OneLine, Field(description="One line: what the section says")),
        takes_from=(
            Annotated[list[name], AfterValidator(_sources)],
            Field(description="The drafts (writers) whose material the section uses; at least one"),
        ),
    )
    return create_model(
        "MergePlan",
        __config__=STRICT,
        __doc__="The Merger's outline of one article combined from several drafts.",
        title=(OneLine, Field(description="The merged article's title, in the article's language")),
        sections=(
            list[section],  # type: ignore[valid-type]
            Field(min_length=2, max_length=MAX_SECTIONS, description=f"{SECTIONS} sections, in order"),
        ),
    )


def plan_of(answer: BaseModel) -> dict[str, Any]:
    """The plan as plain data (kept in the graph state)."""
    return answer.model_dump()


# -- SEO -----------------------------------------------------------------------------------------------
class SeoFields(BaseModel):
    """Search-engine fields for one article, in the article's language."""

    model_config = STRICT

    title: OneLine = Field(
        max_length=SEO_TITLE_MAX, description=f"The search title, at most {SEO_TITLE_MAX} characters"
    )
    meta_description: OneLine = Field(
        max_length=SEO_META_MAX, description=f"The meta description, at most {SEO_META_MAX} characters"
    )
    slug: OneLine = Field(description="A short URL slug: lower-case words joined by hyphens")
    keywords: Terms = Field(description=f"5 to {MAX_KEYWORDS} search keywords")
    hashtags: Terms = Field(description=f"3 to {MAX_HASHTAGS} hashtags")


# -- image prompts --------------------------------------------------------------------------------------
def _prompts(items: list[str]) -> list[str]:
    cleaned = [" ".join(i.split()) for i in items]
    if any(not p for p in cleaned):
        raise ValueError("every prompt must say something")
    return cleaned


class ImagePrompts(BaseModel):
    """Image prompts for one article: concrete, photographable scenes, in English."""

    model_config = STRICT

    prompts: Annotated[list[str], AfterValidator(_prompts)] = Field(
        min_length=IMAGE_PROMPTS,
        max_length=IMAGE_PROMPTS,
        description=f"Exactly {IMAGE_PROMPTS} image prompts in English, one scene each",
    )
