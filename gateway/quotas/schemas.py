from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class AccountQuota(BaseModel):
    platform: str
    account_id: str
    used: int = Field(description="Publishes reserved in the rolling window.")
    limit: int | None = Field(description="Cap per rolling window (null: no cap known).")
    window_hours: int
    resets_at: datetime | None = Field(description="When the oldest reservation leaves the window.")
    cost_usd_month: Decimal = Field(
        description="Money spent on this account's posts this month (X pay-per-use)."
    )
