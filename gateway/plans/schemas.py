from __future__ import annotations

from pydantic import BaseModel, Field


class PlanRowProblem(BaseModel):
    row_number: int
    column: str
    reason: str = Field(description="What is wrong and what to do.")


class PlanUpload(BaseModel):
    csv_object_key: str = Field(
        description="Use as `csv_object_key` when creating a pipeline with source_kind=csv."
    )
    rows: int = Field(description="Valid rows in the plan.")
    pending: int = Field(description="Valid rows still to be produced.")
    problems: list[PlanRowProblem] = Field(description="Rows that will be skipped, with the reason.")
