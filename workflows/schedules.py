"""Pipeline crons as Temporal Schedules: one schedule per pipeline that has a cron, kept in step with
``content_pipelines`` by the pipelines API and repaired by ``icop schedules sync``.

* id: ``pipeline-schedule-<pipeline id>``; spec: the pipeline's five-field cron in its IANA time zone;
  action: ``ScheduledRunWorkflow`` (opens a ``scheduled`` run row, then runs ``PipelineRunWorkflow``).
* paused exactly when the pipeline's status is ``paused``; deleted when the cron is cleared or the
  pipeline is deleted.
* overlap policy SKIP: a run takes every pending row of the plan, so a fire while the previous
  scheduled run is still busy has nothing of its own to do; the next fire after it picks up whatever
  is left. BUFFER_ONE would only start a run at an arbitrary moment (when the last one ends), off the
  cron the user chose, and the API refuses a second active run per pipeline anyway.
* catch-up window 30 minutes: after a short Temporal outage the missed fire still happens; a fire
  missed by days is not replayed at a random hour (the default window is a year).

The API writes the database first; the schedule call follows and, if Temporal is unreachable, is
logged and left for ``icop schedules sync`` (the database is the source of truth).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from .telemetry import client_interceptors
from .types import InsightsInput, Queues, ScheduledRunInput, insights_schedule_id, schedule_id

log = logging.getLogger(__name__)
SCHEDULE_PREFIX = schedule_id("")
INSIGHTS_PREFIX = "insights-"
OVERLAP = ScheduleOverlapPolicy.SKIP
CATCHUP_WINDOW = timedelta(minutes=30)
RPC_TIMEOUT = timedelta(seconds=5)
CONNECT_TIMEOUT_S = 5.0
API_TIMEOUT_S = 10.0  # the API's whole schedule call, connection included


@dataclass(frozen=True)
class PipelineSchedule:
    """What the database says about one pipeline's schedule."""

    tenant_id: UUID
    pipeline_id: UUID
    cron: str | None
    timezone: str
    paused: bool


@dataclass
class SyncReport:
    upserted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class PipelineSchedules(Protocol):
    async def upsert(self, p: PipelineSchedule) -> str:
        """Create, update, pause or delete the pipeline's schedule to match ``p``; returns what it did."""

    async def delete(self, pipeline_id: UUID) -> bool:
        """Delete the pipeline's schedule; False when there was none."""


class NoSchedules:
    """No workflow engine configured: crons are stored but nothing fires."""

    async def upsert(self, p: PipelineSchedule) -> str:
        return "none"

    async def delete(self, pipeline_id: UUID) -> bool:
        return False


ClientSource = Callable[[], Awaitable[Client]]


class LazyClient:
    """Connects on first use (again after a failed attempt): a process starts while Temporal is down."""

    def __init__(self, target: str, namespace: str) -> None:
        self.target, self.namespace = target, namespace
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    connecting = Client.connect(
                        self.target, namespace=self.namespace, interceptors=client_interceptors()
                    )
                    self._client = await asyncio.wait_for(connecting, CONNECT_TIMEOUT_S)
        return self._client


def client_source(client: Client | ClientSource) -> ClientSource:
    if isinstance(client, Client):

        async def fixed() -> Client:
            return client

        return fixed
    return client


class TemporalSchedules:
    def __init__(
        self, client: Client | ClientSource, queues: Queues | None = None, max_concurrent_rows: int = 4
    ) -> None:
        self.client = client_source(client)
        self.queues, self.max_concurrent_rows = queues or Queues(), max_concurrent_rows

    def schedule_of(self, p: PipelineSchedule) -> Schedule:
        assert p.cron is not None
        return Schedule(
            action=ScheduleActionStartWorkflow(
                "ScheduledRunWorkflow",
                ScheduledRunInput(
                    str(p.tenant_id), str(p.pipeline_id), self.queues, self.max_concurrent_rows
                ),
                id=schedule_id(str(p.pipeline_id)),
                task_queue=self.queues.planning,
            ),
            spec=ScheduleSpec(cron_expressions=[p.cron], time_zone_name=p.timezone),
            policy=SchedulePolicy(overlap=OVERLAP, catchup_window=CATCHUP_WINDOW),
            state=ScheduleState(paused=p.paused, note="pipeline paused" if p.paused else None),
        )

    async def upsert(self, p: PipelineSchedule) -> str:
        if p.cron is None:
            return "deleted" if await self.delete(p.pipeline_id) else "none"
        client, sid, schedule = await self.client(), schedule_id(str(p.pipeline_id)), self.schedule_of(p)
        try:
            await client.create_schedule(sid, schedule, rpc_timeout=RPC_TIMEOUT)
            return "created"
        except ScheduleAlreadyRunningError:
            pass

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(sid).update(replace, rpc_timeout=RPC_TIMEOUT)
        return "updated"

    async def delete(self, pipeline_id: UUID) -> bool:
        client = await self.client()
        try:
            await client.get_schedule_handle(schedule_id(str(pipeline_id))).delete(rpc_timeout=RPC_TIMEOUT)
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def sync(self, desired: list[PipelineSchedule]) -> SyncReport:
        """Make Temporal match the database: upsert every pipeline with a cron, delete every
        ``pipeline-schedule-*`` schedule whose pipeline has none (or no longer exists)."""
        report = SyncReport()
        wanted = {str(p.pipeline_id) for p in desired if p.cron}
        for p in desired:
            if not p.cron:
                continue
            try:
                await self.upsert(p)
                report.upserted.append(str(p.pipeline_id))
            except RPCError as e:
                report.failed[str(p.pipeline_id)] = str(e)
        client = await self.client()
        async for s in await client.list_schedules():
            if not s.id.startswith(SCHEDULE_PREFIX):
                continue
            pid = s.id[len(SCHEDULE_PREFIX) :]
            if pid not in wanted:
                try:
                    if await self.delete(UUID(pid)):
                        report.deleted.append(pid)
                except (RPCError, ValueError) as e:
                    report.failed[pid] = str(e)
        return report


async def apply_quietly(schedules: PipelineSchedules, p: PipelineSchedule | UUID) -> str:
    """The API's call: the database change stands whatever Temporal says; a failure is logged for
    ``icop schedules sync`` to repair."""
    try:
        if isinstance(p, PipelineSchedule):
            return await asyncio.wait_for(schedules.upsert(p), API_TIMEOUT_S)
        return "deleted" if await asyncio.wait_for(schedules.delete(p), API_TIMEOUT_S) else "none"
    except Exception as e:  # Temporal down, timeouts: never fail the API write over the schedule
        pid = p.pipeline_id if isinstance(p, PipelineSchedule) else p
        log.warning("schedule of pipeline %s not updated (%s); `icop schedules sync` repairs it", pid, e)
        return "failed"


# ---- insights: one schedule per connected social account -----------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    tenant_id: UUID
    platform: str
    account_id: str


class AccountSchedules(Protocol):
    async def upsert(self, a: AccountRef) -> str:
        """Create (or update) the account's insights schedule; returns what it did."""

    async def delete(self, a: AccountRef) -> bool:
        """Delete the account's insights schedule; False when there was none."""


class NoAccountSchedules:
    """No workflow engine configured: engagement is not collected."""

    async def upsert(self, a: AccountRef) -> str:
        return "none"

    async def delete(self, a: AccountRef) -> bool:
        return False


class TemporalAccountSchedules:
    """``insights-<tenant>-<platform>-<account>``: every ``every`` an ``AccountInsightsWorkflow`` collects
    the account's due posts; overlap SKIP (a fire while one runs has nothing of its own to do)."""

    def __init__(
        self, client: Client | ClientSource, queues: Queues | None = None, every_s: int = 900
    ) -> None:
        self.client = client_source(client)
        self.queues, self.every = queues or Queues(), timedelta(seconds=every_s)

    def schedule_of(self, a: AccountRef) -> Schedule:
        sid = insights_schedule_id(str(a.tenant_id), a.platform, a.account_id)
        return Schedule(
            action=ScheduleActionStartWorkflow(
                "AccountInsightsWorkflow",
                InsightsInput(str(a.tenant_id), a.platform, a.account_id, self.queues),
                id=sid,
                task_queue=self.queues.syndication,
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=self.every)]),
            policy=SchedulePolicy(overlap=OVERLAP, catchup_window=CATCHUP_WINDOW),
        )

    async def upsert(self, a: AccountRef) -> str:
        client, schedule = await self.client(), self.schedule_of(a)
        sid = insights_schedule_id(str(a.tenant_id), a.platform, a.account_id)
        try:
            await client.create_schedule(sid, schedule, rpc_timeout=RPC_TIMEOUT)
            return "created"
        except ScheduleAlreadyRunningError:
            pass

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(sid).update(replace, rpc_timeout=RPC_TIMEOUT)
        return "updated"

    async def delete(self, a: AccountRef) -> bool:
        client = await self.client()
        sid = insights_schedule_id(str(a.tenant_id), a.platform, a.account_id)
        try:
            await client.get_schedule_handle(sid).delete(rpc_timeout=RPC_TIMEOUT)
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True


async def sync_accounts(
    schedules: TemporalAccountSchedules, connected: list[AccountRef], collecting: list[AccountRef]
) -> SyncReport:
    """Make Temporal match the connected accounts: upsert the insights schedule of each account with posts
    to collect (the API makes one on connecting; this repairs), delete the ``insights-*`` schedules of
    accounts no longer connected."""
    report = SyncReport()
    wanted = {insights_schedule_id(str(a.tenant_id), a.platform, a.account_id) for a in connected}
    for a in collecting:
        try:
            await schedules.upsert(a)
            report.upserted.append(f"{a.platform}:{a.account_id}")
        except RPCError as e:
            report.failed[f"{a.platform}:{a.account_id}"] = str(e)
    client = await schedules.client()
    async for s in await client.list_schedules():
        if s.id.startswith(INSIGHTS_PREFIX) and s.id not in wanted:
            try:
                await client.get_schedule_handle(s.id).delete(rpc_timeout=RPC_TIMEOUT)
                report.deleted.append(s.id)
            except RPCError as e:
                report.failed[s.id] = str(e)
    return report


async def apply_account_quietly(schedules: AccountSchedules, a: AccountRef, *, delete: bool = False) -> str:
    """The API's call when an account is connected or removed: the database change stands whatever Temporal
    says; a failure is logged (the next connection, or ``icop schedules sync``, repairs it)."""
    try:
        if delete:
            return "deleted" if await asyncio.wait_for(schedules.delete(a), API_TIMEOUT_S) else "none"
        return await asyncio.wait_for(schedules.upsert(a), API_TIMEOUT_S)
    except Exception as e:  # Temporal down, timeouts: never fail the API write over the schedule
        log.warning("insights schedule of %s %s not updated (%s)", a.platform, a.account_id, e)
        return "failed"
