"""TopicWorkflow: one plan row → sub-topics (expanded, clustered, de-duplicated) → sheet → articles."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from icop.planning import notes
    from icop.planning.plan import ROW_PLANNING_FAILED

    from . import policies as P
    from .activities.planning import PlanningActivities, row_cells, subtopic_cells
    from .article import ArticleWorkflow, _cause
    from .types import (
        ArticleInput,
        ArticleOutcome,
        PlanRowInput,
        RowStatusInput,
        SheetCells,
        SheetWriteInput,
        SubtopicRef,
        TopicInput,
        TopicOutcome,
        article_workflow_id,
    )


@workflow.defn(name="TopicWorkflow")
class TopicWorkflow:
    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        row, cfg = inp.row, inp.config
        self._written = list(row.written)  # the row's status, result and note as last read or written
        await self._row_status(inp, "planning")
        try:
            subs = await workflow.execute_activity_method(
                PlanningActivities.plan_row,
                PlanRowInput(inp.tenant_id, inp.pipeline_id, inp.run_id, row, cfg.subtopics_per_topic),
                task_queue=inp.queues.planning,
                **P.PLAN_ROW.options(),
            )
        except ActivityError as e:
            reason = _cause(e)
            await self._sheet(inp, self._row(inp, f"error: {reason}", "", notes.planning_failed(reason)))
            await self._row_status(inp, "failed", reason, ROW_PLANNING_FAILED)
            return TopicOutcome(row.row_number, "failed", error=reason)

        subs = subs[: cfg.subtopics_per_topic]  # the row's block on the Subtopics tab has this many rows
        start = inp.subtopic_row_start
        block = (
            [
                SheetCells(
                    f"Subtopics!A{start}:E{start + len(subs) - 1}",
                    [subtopic_cells(row.row_number, row.topic, s.label, "writing", "") for s in subs],
                    [["", "", "", "", ""] for _ in subs],
                )
            ]
            if subs
            else []
        )
        await self._sheet(
            inp, [*self._row(inp, "writing", f"{len(subs)} sub-topics", notes.writing(len(subs))), *block]
        )
        await self._row_status(inp, "writing")

        outcomes = await asyncio.gather(*(self._article(inp, s, start + i) for i, s in enumerate(subs)))
        ok = [o for o in outcomes if o.status in ("published", "ready")]
        failed = [o for o in outcomes if o.status == "failed"]
        if failed and not ok:
            status, result = f"error: {failed[0].error}", ""
        else:
            status = "done"
            result = (ok[0].markdown_url or "") if len(ok) == 1 else f"{len(ok)} articles"
        note = notes.finished(
            len(ok),
            len(outcomes),
            [o.markdown_url for o in ok if o.markdown_url],
            [link for o in ok for link in o.post_links],
            [o.error or o.status for o in failed],
        )
        await self._sheet(inp, self._row(inp, status, result or "", note))
        await self._row_status(
            inp, "done" if status == "done" else "failed", failed[0].error if failed else None
        )
        return TopicOutcome(
            row.row_number,
            "done" if status == "done" else "failed",
            len(subs),
            list(outcomes),
            None if status == "done" else failed[0].error,
        )

    async def _article(self, inp: TopicInput, sub: SubtopicRef, sheet_row: int) -> ArticleOutcome:
        child = ArticleInput(
            inp.tenant_id,
            inp.pipeline_id,
            inp.run_id,
            sub.id,
            sub.label,
            inp.row.topic,
            inp.row.row_number,
            inp.row.language,
            inp.row.notes,
            sheet_row,
            inp.config,
            inp.queues,
        )
        try:
            return await workflow.execute_child_workflow(
                ArticleWorkflow.run,
                child,
                id=article_workflow_id(inp.run_id, sub.id),
                task_queue=inp.queues.agents,
            )
        except ChildWorkflowError as e:
            return ArticleOutcome(sub.id, None, "failed", error=_cause(e))

    def _row(self, inp: TopicInput, status: str, result: str, note: str) -> list[SheetCells]:
        """The row's cells, expecting what this run last read or wrote there."""
        cells = row_cells(inp.config, inp.row.row_number, self._written, status, result, note)
        self._written = ([v for c in cells for v in c.values[0]] + ["", "", ""])[:3]
        return cells

    async def _sheet(self, inp: TopicInput, cells: list[SheetCells]) -> None:
        await workflow.execute_activity_method(
            PlanningActivities.write_sheet,
            SheetWriteInput(
                inp.tenant_id, inp.pipeline_id, inp.run_id, inp.row.row_number, inp.config, cells
            ),
            task_queue=inp.queues.planning,
            **P.SHEETS.options(),
        )

    async def _row_status(
        self, inp: TopicInput, status: str, reason: str | None = None, code: str | None = None
    ) -> None:
        r = inp.row
        await workflow.execute_local_activity_method(
            PlanningActivities.set_row_status,
            RowStatusInput(
                inp.tenant_id, inp.run_id, r.row_number, r.topic, r.language, status, reason, code
            ),
            start_to_close_timeout=P.LOCAL_DB.start_to_close,
            retry_policy=P.LOCAL_DB.retry,
        )
