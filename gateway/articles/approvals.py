"""The seam between an article's decisions and the workflow engine: a decision is the ``approve`` signal
(with the workflow's ``Approval``) to the article's ``ArticleWorkflow``, whose id comes from the run and
sub-topic; a scheduled post's new publish time is its ``reschedule`` signal.

With ``ICOP_WORKFLOW_ENGINE=none`` there is no signaller and the API answers 503.
"""

from __future__ import annotations

from typing import Protocol

from temporalio.client import Client

from workflows.schedules import ClientSource, client_source
from workflows.types import Approval, Reschedule


class ApprovalSignaller(Protocol):
    async def send(self, workflow_id: str, decision: Approval) -> None:
        """Deliver the decision; raises ``RPCError`` (NOT_FOUND: the workflow is no longer running)."""

    async def reschedule(self, workflow_id: str, move: Reschedule) -> None:
        """Deliver a post's new publish time; raises as :meth:`send` does."""

    async def regenerate(self, workflow_id: str) -> None:
        """Ask the waiting article to be written again; raises as :meth:`send` does."""


class TemporalApprovals:
    def __init__(self, client: Client | ClientSource) -> None:
        self.client = client_source(client)  # a Client, or the gateway's lazy connector

    async def send(self, workflow_id: str, decision: Approval) -> None:
        client = await self.client()
        await client.get_workflow_handle(workflow_id).signal("approve", decision)

    async def reschedule(self, workflow_id: str, move: Reschedule) -> None:
        client = await self.client()
        await client.get_workflow_handle(workflow_id).signal("reschedule", move)

    async def regenerate(self, workflow_id: str) -> None:
        client = await self.client()
        await client.get_workflow_handle(workflow_id).signal("regenerate")
