"""Run and article admission: the one set of rules every entry point calls.

A run may start when the caller may start that kind of run, the pipeline exists and is active, it has no
run in progress, the tenant is under its bound of active runs, and the tenant's plan has articles left
this month. The API (``POST /v1/pipelines/{id}/runs``, retries), a schedule fire and ``icop backfill`` all
call :func:`open_run`; what differs is only what they do with a refusal (an HTTP problem, a skipped run
recorded with its reason, an error on the command line).

Articles are admitted one by one as a run creates them (:func:`admit_article`), so a back-fill of a whole
sheet stops at the plan's monthly limit instead of overshooting it by the rows it had already planned.

Outcomes are values (:class:`Admission`), not exceptions: each caller branches on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg

from icop.budgets import service as budgets
from icop.costs import DEFAULT_PRICES, PriceTable
from icop.errors import Conflict, DomainError, Forbidden, NotFound, PlanLimitExceeded
from icop.plans import PlanCatalog, plan_catalog
from icop.settings import Settings
from icop.statuses import PipelineStatus, RunKind, RunStatus

from . import repository as repo


class Refusal(StrEnum):
    ROLE = "role"
    NO_PIPELINE = "no_pipeline"
    PAUSED = "paused"
    PIPELINE_BUSY = "pipeline_busy"
    TENANT_BUSY = "tenant_busy"
    MONTHLY_ARTICLES = "monthly_articles"
    BUDGET = "budget"


class StartedBy(StrEnum):
    API = "api"
    """A user or API key through the public API (their role decides)."""
    SCHEDULE = "schedule"
    """A pipeline's cron (Temporal Schedule fire)."""
    OPERATOR = "operator"
    """An operator on the command line (``icop backfill``), acting for the tenant."""


# Which kinds of run each starter may open; API callers also need at least the editor role.
MAY_START: dict[StartedBy, frozenset[RunKind]] = {
    StartedBy.API: frozenset({RunKind.MANUAL, RunKind.BACKFILL}),
    StartedBy.SCHEDULE: frozenset({RunKind.SCHEDULED}),
    StartedBy.OPERATOR: frozenset({RunKind.MANUAL, RunKind.BACKFILL}),
}
ROLES_THAT_START = frozenset({"editor", "admin"})


@dataclass(frozen=True)
class Actor:
    started_by: StartedBy
    role: str | None = None
    """The caller's role, for :attr:`StartedBy.API`."""


@dataclass(frozen=True)
class RunLimits:
    """The figures admission reads (from settings; one object per process)."""

    max_active_runs: int
    plans: PlanCatalog
    prices: PriceTable = field(default_factory=lambda: PriceTable(DEFAULT_PRICES))
    budget_recheck_s: int = 300
    """How long an article held by a spent budget waits before it asks again."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RunLimits:
        return cls(
            settings.tenant_max_active_runs,
            plan_catalog(settings),
            PriceTable.with_overrides(settings.prices),
            settings.budget_recheck_s,
        )


@dataclass(frozen=True)
class Admission:
    refusal: Refusal | None = None
    reason: str = ""
    """What the user can do about a refusal, in a sentence."""
    retry_after_s: int | None = None

    @property
    def admitted(self) -> bool:
        return self.refusal is None


ADMITTED = Admission()


@dataclass(frozen=True)
class OpenedRun:
    run_id: UUID | None
    """The new run (or the refused fire's recorded run, when the refusal was recorded)."""
    admission: Admission


async def admit_run(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    pipeline_id: UUID,
    kind: RunKind,
    actor: Actor,
    limits: RunLimits,
) -> Admission:
    """Decide whether a run may start, holding the locks that make the decision stick until the
    transaction ends: the pipeline's row, then the tenant's run lock (the same order for every caller)."""
    if kind not in MAY_START[actor.started_by]:
        return Admission(Refusal.ROLE, f"a {actor.started_by} cannot start a {kind} run")
    if actor.started_by is StartedBy.API and actor.role not in ROLES_THAT_START:
        return Admission(Refusal.ROLE, f"starting a run needs the editor role; the caller is {actor.role}")
    status = await repo.lock_pipeline(conn, tenant_id, pipeline_id)
    if status is None:
        return Admission(Refusal.NO_PIPELINE, "no such pipeline")
    await repo.lock_tenant_runs(conn, tenant_id)
    if status != PipelineStatus.ACTIVE:
        return Admission(Refusal.PAUSED, "the pipeline is paused; resume it before starting a run")
    if await repo.active_runs(conn, tenant_id, pipeline_id):
        return Admission(
            Refusal.PIPELINE_BUSY,
            "this pipeline already has a run in progress; cancel it or wait for it to finish",
        )
    active = await repo.active_runs(conn, tenant_id)
    if active >= limits.max_active_runs:
        return Admission(
            Refusal.TENANT_BUSY,
            f"this tenant already has {active} active runs (limit {limits.max_active_runs}); wait for one "
            "to finish or cancel one",
            retry_after_s=60,
        )
    return await _articles_left(conn, tenant_id, limits)


async def _articles_left(conn: asyncpg.Connection, tenant_id: UUID, limits: RunLimits) -> Admission:
    plan = await repo.tenant_plan(conn, tenant_id)
    limit = limits.plans.limits(plan).articles_per_month
    if await repo.articles_this_month(conn, tenant_id) >= limit:
        return Admission(
            Refusal.MONTHLY_ARTICLES,
            f"the {plan} plan's {limit} articles for this month are used up; upgrade the plan or wait for "
            "next month",
        )
    spend = await budgets.check(conn, tenant_id, limits.prices)
    if spend.status == "exhausted":
        return Admission(
            Refusal.BUDGET, budgets.exhausted_reason(spend), retry_after_s=limits.budget_recheck_s
        )
    return ADMITTED


async def admit_article(conn: asyncpg.Connection, tenant_id: UUID, limits: RunLimits) -> Admission:
    """Whether one more article may be created this month. Holds the tenant's article lock until the
    transaction ends, so the caller must create the article in the same transaction."""
    await repo.lock_tenant_articles(conn, tenant_id)
    return await _articles_left(conn, tenant_id, limits)


async def open_run(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    pipeline_id: UUID,
    kind: RunKind,
    progress: dict[str, Any],
    actor: Actor,
    limits: RunLimits,
    *,
    run_id: UUID | None = None,
    workflow_id: str | None = None,
    record_refusal: bool = False,
) -> OpenedRun:
    """Admit and insert the run (``pending``). With ``record_refusal`` (schedule fires), a refused start
    is recorded too, as a ``cancelled`` run whose error is ``skipped: <reason>``. With a ``run_id`` that
    exists already (a retried activity), the first decision stands."""
    if run_id is not None and (prior := await repo.prior_run(conn, tenant_id, run_id)) is not None:
        refusal = (prior["progress"] or {}).get("refusal")
        if refusal:
            reason = (prior["error"] or "").removeprefix("skipped: ")
            return OpenedRun(run_id, Admission(Refusal(refusal), reason))
        return OpenedRun(run_id, ADMITTED)
    admission = await admit_run(conn, tenant_id, pipeline_id, kind, actor, limits)
    if not admission.admitted:
        if not record_refusal or admission.refusal is Refusal.NO_PIPELINE:
            return OpenedRun(None, admission)
        recorded = await repo.insert_run(
            conn, tenant_id, pipeline_id, kind, {**progress, "refusal": admission.refusal},
            run_id=run_id, workflow_id=workflow_id,
            status=RunStatus.CANCELLED, error=f"skipped: {admission.reason}",
        )  # fmt: skip
        return OpenedRun(recorded, admission)
    new_id = await repo.insert_run(
        conn, tenant_id, pipeline_id, kind, progress, run_id=run_id, workflow_id=workflow_id
    )
    return OpenedRun(new_id, ADMITTED)


def refusal_error(admission: Admission) -> DomainError:
    """The problem a caller outside a workflow shows for a refusal (API response, command-line error);
    its code is ``run.<refusal>`` (``run.paused``, ``run.budget``, …)."""
    code = f"run.{admission.refusal}"
    match admission.refusal:
        case Refusal.ROLE:
            return Forbidden(admission.reason, code=code)
        case Refusal.NO_PIPELINE:
            return NotFound(admission.reason, code=code)
        case Refusal.TENANT_BUSY:
            return TooManyActiveRuns(
                admission.reason, code=code, headers={"Retry-After": str(admission.retry_after_s or 60)}
            )
        case Refusal.MONTHLY_ARTICLES:
            return PlanLimitExceeded(admission.reason, code=code)
        case _:
            return Conflict(admission.reason, code=code)


class TooManyActiveRuns(DomainError):
    status, title, code = 429, "Too many active runs", "run.too_many_active"
