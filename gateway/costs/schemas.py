from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

CostGroup = Literal["tenant", "pipeline", "run", "article"]


class CostItem(BaseModel):
    id: UUID | None = Field(
        description="The pipeline, run or article (null: usage not tied to one; always null per tenant)."
    )
    total_usd: Decimal
    llm_usd: Decimal = Field(description="LLM input and output tokens.")
    image_usd: Decimal = Field(description="Generated images.")
    other_usd: Decimal
    unpriced_records: int = Field(
        description="Usage records no price covers (offline providers, unpriced models)."
    )


class CostsOut(BaseModel):
    currency: Literal["USD"] = "USD"
    group_by: CostGroup
    period_start: datetime
    period_end: datetime
    total_usd: Decimal
    items: list[CostItem] = Field(description="Most expensive first.")
