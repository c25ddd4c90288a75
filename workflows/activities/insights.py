"""Insights activity: one connected account's due posts collected (a thin shell over icop.insights)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from temporalio import activity

from icop.insights.collector import InsightsCollector

from ..types import InsightsCollected, InsightsInput
from .errors import mapped_errors


class InsightsActivities:
    def __init__(self, collector: InsightsCollector) -> None:
        self.collector = collector

    @activity.defn(name="collect_insights")
    async def collect_insights(self, inp: InsightsInput) -> InsightsCollected:
        """Safe to repeat: requests are reserved before they are sent, and a post's next collection is set
        in the transaction that stores its figures."""
        with mapped_errors():
            got = await self.collector.collect(UUID(inp.tenant_id), inp.platform, inp.account_id)
        return InsightsCollected(
            got.due, got.read, got.requests, got.stopped, got.waiting, got.thresholds_hit
        )

    def all(self) -> list[Callable[..., object]]:
        return [self.collect_insights]
