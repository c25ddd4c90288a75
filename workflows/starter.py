"""A ``RunStarter`` backed by Temporal: a run is one ``PipelineRunWorkflow`` whose id comes from the
run id, so an API retry (or two gateways racing) can never start the same run twice. Used by the
gateway and by ``icop backfill`` alike."""

from __future__ import annotations

from uuid import UUID

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from icop.runs.service import EngineUnavailable, RunRequest

from .schedules import ClientSource, client_source
from .types import PipelineRunInput, PostRetryInput, Queues, post_retry_workflow_id, run_workflow_id


class TemporalRunStarter:
    def __init__(
        self, client: Client | ClientSource, queues: Queues | None = None, max_concurrent_rows: int = 4
    ) -> None:
        self.client = client_source(client)  # a Client, or a lazy connector (the gateway's)
        self.queues, self.max_concurrent_rows = queues or Queues(), max_concurrent_rows

    async def start(self, run: RunRequest) -> str | None:
        wid = run_workflow_id(str(run.run_id))
        inp = PipelineRunInput(
            str(run.tenant_id),
            str(run.pipeline_id),
            str(run.run_id),
            self.queues,
            self.max_concurrent_rows,
            run.from_row,
            run.to_row,
            rows=list(run.rows) if run.rows is not None else None,
        )
        try:
            client = await self.client()
            await client.start_workflow(
                "PipelineRunWorkflow",
                inp,
                id=wid,
                task_queue=self.queues.planning,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass  # started by an earlier attempt: the same run, not a second one
        except (OSError, RuntimeError, RPCError) as e:  # OSError includes timeouts
            raise EngineUnavailable(f"the run could not be started ({type(e).__name__}); try again") from e
        return wid

    async def cancel(self, tenant_id: UUID, run_id: UUID, workflow_id: str | None) -> None:
        try:
            client = await self.client()
            await client.get_workflow_handle(workflow_id or run_workflow_id(str(run_id))).cancel()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise EngineUnavailable(f"the run could not be cancelled ({e.status.name}); try again") from e
        except (OSError, RuntimeError) as e:
            raise EngineUnavailable(f"the run could not be cancelled ({type(e).__name__}); try again") from e


class TemporalPostRetrier:
    """Starts the PostRetryWorkflow of a post the user asked to send again; its id comes from the post and
    its attempt count, so a repeated request (a double click, an API retry) starts it once."""

    def __init__(self, client: Client | ClientSource, queues: Queues | None = None) -> None:
        self.client = client_source(client)
        self.queues = queues or Queues()

    async def start(self, tenant_id: UUID, post_id: UUID, attempt: int) -> str:
        wid = post_retry_workflow_id(str(post_id), attempt)
        try:
            client = await self.client()
            await client.start_workflow(
                "PostRetryWorkflow",
                PostRetryInput(str(tenant_id), str(post_id), self.queues),
                id=wid,
                task_queue=self.queues.syndication,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass
        except (OSError, RuntimeError, RPCError) as e:
            raise EngineUnavailable(f"the retry could not be started ({type(e).__name__}); try again") from e
        return wid
