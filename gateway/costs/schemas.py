from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

CostGroup = Literal["tenant", "pipeline", "run", "article", "day"]


class CostItem(BaseModel):
    id: UUID | None = Field(
        description="The pipeline, run or article (null: usage not tied to one; always null per tenant and "
        "per day)."
    )
    day: date | None = Field(default=None, description="With group_by=day: the UTC day.")
    total_usd: Decimal = Field(description="LLM, images and other usage together.")
    llm_usd: Decimal = Field(
        description="LLM input and output tokens (input read from or written to a prompt cache at its price)."
    )
    image_usd: Decimal = Field(description="Generated images.")
    other_usd: Decimal = Field(description="Other priced usage (embeddings).")
    unpriced_records: int = Field(
        description="Usage records no price covers (offline providers, unpriced models)."
    )
    input_tokens: int = Field(default=0, description="LLM input tokens, priced or not.")
    cache_read_tokens: int = Field(
        default=0,
        description="Of the input tokens, those read from the vendor's prompt cache (billed lower).",
    )
    cache_write_tokens: int = Field(
        default=0, description="Of the input tokens, those written to the vendor's prompt cache."
    )


class CostsOut(BaseModel):
    currency: Literal["USD"] = "USD"
    group_by: CostGroup
    period_start: datetime = Field(description="The period's start (included).")
    period_end: datetime = Field(description="The period's end (excluded).")
    total_usd: Decimal = Field(description="All the items together.")
    items: list[CostItem] = Field(description="Most expensive first; by day, oldest first.")


BudgetStatus = Literal["none", "ok", "warning", "exhausted"]


class BudgetIn(BaseModel):
    monthly_budget_usd: Decimal | None = Field(
        ge=0, le=Decimal("9999999999.99"), decimal_places=2,
        description="USD per calendar month (UTC); null: no budget.",
    )  # fmt: skip


class BudgetOut(BaseModel):
    currency: Literal["USD"] = "USD"
    monthly_budget_usd: Decimal | None
    spent_usd: Decimal = Field(description="This month's usage, priced (GET /v1/costs).")
    share: float | None = Field(description="spent / budget (null: no budget).")
    status: BudgetStatus = Field(
        description="warning from 80 % (event budget.warning); exhausted from 100 %: new articles and runs "
        "wait until the budget is raised or the month ends (event budget.exhausted)."
    )
    period_start: datetime
    period_end: datetime
