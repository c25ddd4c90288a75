from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PlanRowProblem(BaseModel):
    row_number: int
    column: str
    reason: str = Field(description="What is wrong and what to do (English).")
    code: str = Field(
        default="row.invalid",
        description="The same as a stable code: row.empty_topic, row.formula, row.too_long, "
        "row.unknown_language.",
    )
    params: dict[str, str | int] = Field(default_factory=dict, description="The values the reason names.")


class PlanPreviewRow(BaseModel):
    """A plan row as written, with its problems (none: the row will run)."""

    row_number: int
    topic: str
    notes: str
    language: str = Field(description="As written; blank: the pipeline's default language.")
    status: str
    problems: list[PlanRowProblem]


class PlanCheck(BaseModel):
    rows: int = Field(description="Valid rows in the plan.")
    pending: int = Field(description="Valid rows still to be produced (status blank, pending or retry).")
    problems: list[PlanRowProblem] = Field(description="Rows that will be skipped, with the reason.")
    preview: list[PlanPreviewRow] = Field(
        description="The plan's first rows as written, each with its problems."
    )


class PlanUpload(PlanCheck):
    plan_object_key: str = Field(
        description="Use as `plan_object_key` when creating a pipeline, with `source_kind` below."
    )
    source_kind: Literal["csv", "xlsx"] = Field(description="What the file was read as.")
