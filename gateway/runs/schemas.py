from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from icop.statuses import RowStatus, RunKind, RunStatus


class SimilarSubtopic(BaseModel):
    label: str = Field(description="A past sub-topic near this one.")
    engagement_rate: float = Field(description="Its posts' engagement / impressions.")


class SubtopicChoice(BaseModel):
    """Why planning that learns (the pipeline's learn_topics) kept a sub-topic."""

    mode: Literal["exploit", "explore", "plain"] = Field(
        description="exploit: among the best by the engagement of past posts near it; explore: a new angle "
        "(nothing close was posted, or the least tried), kept for the pipeline's explore_share; plain: kept "
        "by size."
    )
    neighbours: int = Field(default=0, description="Past sub-topics with measured posts near it.")
    avg_engagement_rate: float | None = Field(
        default=None,
        description="Their posts' engagement rate, weighted by similarity and recency (null: none near).",
    )
    similar: list[SimilarSubtopic] = Field(default_factory=list, description="The closest (up to 3).")


class SubtopicOut(BaseModel):
    id: UUID
    label: str
    choice: SubtopicChoice | None = Field(
        default=None, description="Why it was kept (null: planned without learning)."
    )


class RunCreate(BaseModel):
    kind: Literal["manual", "backfill"] = "manual"
    from_row: int | None = Field(default=None, ge=2, le=1_000_000, description="Back-fill: first sheet row.")
    to_row: int | None = Field(default=None, ge=2, le=1_000_000, description="Back-fill: last sheet row.")

    @model_validator(mode="after")
    def _rows(self) -> RunCreate:
        if self.kind == "manual" and (self.from_row is not None or self.to_row is not None):
            raise ValueError("row ranges are for back-fill runs")
        if self.from_row is not None and self.to_row is not None and self.to_row < self.from_row:
            raise ValueError("to_row must not be before from_row")
        return self


class RunOut(BaseModel):
    id: UUID
    pipeline_id: UUID
    kind: RunKind
    status: RunStatus
    workflow_id: str | None
    progress: dict[str, Any]
    row_counts: dict[str, int] = Field(description="Plan rows of this run by status.")
    subtopics: int = Field(default=0, description="Sub-topics this run planned.")
    article_counts: dict[str, int] = Field(
        default_factory=dict,
        description="This run's articles by status (awaiting_approval: waiting for a person's decision).",
    )
    post_counts: dict[str, int] = Field(
        default_factory=dict,
        description="This run's posts by status (failed, retrying, waiting_quota included).",
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunRowOut(BaseModel):
    """One plan row in one run: where it is, and why it failed or was skipped."""

    row_number: int = Field(description="The sheet row (2 is the first data row).")
    topic: str
    language: str | None
    status: RowStatus
    reason: str | None = Field(description="For failed and invalid rows: what went wrong and what to do.")
    reason_code: str | None = Field(
        default=None,
        description="The reason as a stable code (row.empty_topic, row.formula, row.too_long, "
        "row.unknown_language, row.planning_failed).",
    )
    reason_params: dict[str, Any] = Field(default_factory=dict, description="The values the reason names.")
    kept_cells: list[str] = Field(
        default_factory=list,
        description="Cells of this row (A1, e.g. `ContentPlan!D7`) that someone edited after the run read "
        "them: the run left them as they were edited instead of writing its status there.",
    )
    subtopics: int = Field(default=0, description="Sub-topics this run planned for the row.")
    planned: list[SubtopicOut] = Field(
        default_factory=list,
        description="Those sub-topics, each with why it was kept (planning that learns).",
    )
    article_counts: dict[str, int] = Field(
        default_factory=dict,
        description="The row's articles in this run by status (none for a row whose sub-topics were all "
        "near-duplicates of earlier ones).",
    )
    updated_at: datetime
