from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class AccountQuota(BaseModel):
    platform: str
    account_id: str
    used: int = Field(description="Publishes reserved in the rolling window.")
    limit: int | None = Field(
        description="Posts per rolling window the publisher enforces (null: no count cap; the platform's "
        "own live figure, where it reports one, can only be lower)."
    )
    window_hours: int
    resets_at: datetime | None = Field(description="When the oldest reservation leaves the window.")
    monthly_post_cap: int | None = Field(
        default=None, description="X legacy plans: posts per account and calendar month (null: none)."
    )
    monthly_budget_usd: float | None = Field(
        default=None, description="X pay-per-use: the tenant's budget per calendar month (UTC)."
    )
    cost_usd_month: Decimal = Field(
        description="Money spent on this account's posts this month (X pay-per-use)."
    )
