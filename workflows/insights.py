"""AccountInsightsWorkflow: what a connected account's insights schedule starts on each fire: one
activity that collects the account's due posts (``icop.insights.collector``). The schedule fires every
``insights_every_s`` and skips a fire while the previous one still runs; the posts' own cadence (1 h, 6 h,
24 h, 7 d, 28 d) decides which posts are due, so a fire with nothing due costs one query."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from . import policies as P
    from .activities.insights import InsightsActivities
    from .types import InsightsCollected, InsightsInput


@workflow.defn(name="AccountInsightsWorkflow")
class AccountInsightsWorkflow:
    @workflow.run
    async def run(self, inp: InsightsInput) -> InsightsCollected:
        return await workflow.execute_activity_method(
            InsightsActivities.collect_insights,
            inp,
            task_queue=inp.queues.syndication,
            **P.INSIGHTS.options(),
        )
