"""ScheduledRunWorkflow: what a pipeline's Temporal Schedule starts on each cron fire.

It opens the fire's ``pipeline_runs`` row (kind ``scheduled``) through a local activity whose run id
is derived from this workflow's id (a retry opens the same row), then runs the ordinary
``PipelineRunWorkflow`` as a child under the run's usual workflow id, so the API's status, progress
and cancel work on scheduled runs exactly as on manual ones. A fire that the rules refuse (pipeline
paused, a run already in progress, the tenant at its bound of active runs) is recorded as a
cancelled run whose error starts with ``skipped:``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from . import policies as P
    from .activities.scheduled import ScheduledRunActivities
    from .pipeline import PipelineRunWorkflow
    from .types import (
        OpenScheduledRunInput,
        PipelineRunInput,
        ScheduledRunInput,
        run_workflow_id,
    )


@workflow.defn(name="ScheduledRunWorkflow")
class ScheduledRunWorkflow:
    @workflow.run
    async def run(self, inp: ScheduledRunInput) -> str:
        opened = await workflow.execute_local_activity_method(
            ScheduledRunActivities.open_scheduled_run,
            OpenScheduledRunInput(inp.tenant_id, inp.pipeline_id, workflow.info().workflow_id),
            start_to_close_timeout=P.LOCAL_DB.start_to_close,
            retry_policy=P.LOCAL_DB.retry,
        )
        if opened.run_id is None:
            workflow.logger.info("scheduled fire skipped: %s", opened.reason)
            return f"skipped: {opened.reason}"
        try:
            await workflow.execute_child_workflow(
                PipelineRunWorkflow.run,
                PipelineRunInput(
                    inp.tenant_id,
                    inp.pipeline_id,
                    opened.run_id,
                    inp.queues,
                    inp.max_concurrent_rows,
                ),
                id=run_workflow_id(opened.run_id),
                task_queue=inp.queues.planning,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            )
        except ChildWorkflowError as e:  # the run recorded its own failure or cancellation
            return f"run {opened.run_id} ended: {e.cause or e}"
        return f"run {opened.run_id} completed"
