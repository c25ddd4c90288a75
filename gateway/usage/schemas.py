from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class UsageOut(BaseModel):
    plan: str
    period_start: datetime = Field(description="The calendar month (UTC) the monthly figures cover.")
    period_end: datetime
    articles_used: int = Field(description="Articles created this month (what the plan counts).")
    articles_limit: int | None = Field(description="The plan's articles per month (null: unlimited).")
    active_runs: int = Field(description="Runs pending or running now.")
    active_runs_limit: int
    pipelines: int
    pipelines_limit: int
    connected_accounts: int
    connected_accounts_limit: int
    x_cost_usd_month: Decimal = Field(description="X pay-per-use spend reserved this month.")
    x_budget_usd_month: Decimal | None = Field(description="The tenant's monthly X budget (null: none).")
