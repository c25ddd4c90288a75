"""PipelineRunWorkflow: read the plan, then one TopicWorkflow per pending row, a bounded number at a
time (per run, so one tenant's back-fill of thousands of rows cannot take every worker slot).

Progress is a query (``progress``) and is recorded in ``pipeline_runs.progress`` as rows finish.
Long back-fills continue as new every ``rows_per_execution`` rows (history stays bounded); the plan
is read again then, and rows already done are no longer pending, so the run resumes where it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from . import policies as P
    from .activities.planning import PlanningActivities
    from .article import _cause
    from .topic import TopicWorkflow
    from .types import (
        PipelineRunInput,
        Progress,
        ReadPlanInput,
        RunStatusInput,
        TopicInput,
        TopicOutcome,
        topic_workflow_id,
    )


@workflow.defn(name="PipelineRunWorkflow")
class PipelineRunWorkflow:
    def __init__(self) -> None:
        self._progress = Progress()

    @workflow.query(name="progress")
    def progress(self) -> Progress:
        return self._progress

    @workflow.run
    async def run(self, inp: PipelineRunInput) -> Progress:
        if inp.carried is not None:
            self._progress = replace(inp.carried, executions=inp.carried.executions + 1, in_flight=0)
        p = self._progress
        await self._record(inp, "running")
        try:
            try:
                plan = await workflow.execute_activity_method(
                    PlanningActivities.read_plan,
                    ReadPlanInput(
                        inp.tenant_id, inp.pipeline_id, inp.run_id, inp.from_row, inp.to_row, inp.rows
                    ),
                    task_queue=inp.queues.planning,
                    **P.READ_PLAN.options(),
                )
            except ActivityError as e:
                await self._record(inp, "failed", _cause(e))
                raise
            if inp.carried is None:
                p.rows_invalid = plan.problems
                p.rows_total = len(plan.pending)
            rows = plan.pending[: inp.rows_per_execution]
            want = plan.config.subtopics_per_topic
            running: set[asyncio.Task[TopicOutcome]] = set()
            for i, row in enumerate(rows):
                while len(running) >= max(1, inp.max_concurrent_rows):
                    running = await self._reap(inp, running)
                child = TopicInput(
                    inp.tenant_id,
                    inp.pipeline_id,
                    inp.run_id,
                    row,
                    plan.config,
                    plan.next_subtopic_row + i * want,
                    inp.queues,
                )
                running.add(asyncio.ensure_future(self._topic(child)))
                p.in_flight = len(running)
            while running:
                running = await self._reap(inp, running)
        except asyncio.CancelledError:
            await self._record(inp, "cancelled")
            raise
        if len(plan.pending) > len(rows):  # more rows than one execution takes: start afresh
            if inp.rows is not None:  # a retry goes on with the rows it has not taken yet, never again
                rest = [r.row_number for r in plan.pending[len(rows) :]]
                workflow.continue_as_new(replace(inp, carried=p, rows=rest))
            workflow.continue_as_new(replace(inp, carried=p))
        await self._record(inp, "completed")
        return p

    async def _topic(self, child: TopicInput) -> TopicOutcome:
        try:
            return await workflow.execute_child_workflow(
                TopicWorkflow.run,
                child,
                id=topic_workflow_id(child.run_id, child.row.row_number),
                task_queue=child.queues.planning,
            )
        except ChildWorkflowError as e:
            return TopicOutcome(child.row.row_number, "failed", error=_cause(e))

    async def _reap(
        self, inp: PipelineRunInput, running: set[asyncio.Task[TopicOutcome]]
    ) -> set[asyncio.Task[TopicOutcome]]:
        done, pending = await workflow.wait(running, return_when=asyncio.FIRST_COMPLETED)
        p = self._progress
        for task in done:
            out = task.result()
            if out.status == "done":
                p.rows_done += 1
            else:
                p.rows_failed += 1
            p.subtopics += out.subtopics
            p.articles_done += sum(1 for a in out.articles if a.status in ("published", "ready"))
            p.articles_failed += sum(1 for a in out.articles if a.status == "failed")
            p.posts += sum(a.posts for a in out.articles)
        p.in_flight = len(pending)
        await self._record(inp, "running")
        return set(pending)

    async def _record(self, inp: PipelineRunInput, status: str, error: str | None = None) -> None:
        await workflow.execute_local_activity_method(
            PlanningActivities.set_run_status,
            RunStatusInput(inp.tenant_id, inp.run_id, status, self._progress, error),
            start_to_close_timeout=P.LOCAL_DB.start_to_close,
            retry_policy=P.LOCAL_DB.retry,
        )
