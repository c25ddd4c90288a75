"""PostRetryWorkflow: a failed post sent again when the user asks (``POST /v1/posts/{id}/retry``).

The post row was set back to ``pending`` by the API; the workflow rebuilds what the post is made from
(the article's text, its Markdown and images, links signed afresh) and publishes it exactly as the
article's own workflow does: through the quota-safe publisher, which keeps one post per target, so a
retry can never post twice."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from . import policies as P
    from .activities.publish import PublishActivities
    from .article import publish_until_resting
    from .types import PostRef, PostRetryInput, PublishResult


@workflow.defn(name="PostRetryWorkflow")
class PostRetryWorkflow:
    @workflow.run
    async def run(self, inp: PostRetryInput) -> PublishResult:
        req = await workflow.execute_activity_method(
            PublishActivities.post_input,
            PostRef(inp.tenant_id, inp.post_id),
            task_queue=inp.queues.syndication,
            **P.PUBLISH.options(),
        )
        return await publish_until_resting(req, inp.queues.syndication)
