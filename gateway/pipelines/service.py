"""Rules: pipelines count against the plan; targets must be accounts the tenant has connected.

A pipeline's cron is mirrored as a Temporal Schedule (``workflows.schedules``) after each write: the
database change stands even when Temporal is unreachable (logged; ``icop schedules sync`` repairs).
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from icop.errors import Conflict, DomainError, InvalidRequest, NotFound, PlanLimitExceeded
from icop.storage import plan_kind_of_key
from workflows.schedules import NoSchedules, PipelineSchedule, apply_quietly

from ..context import Tx
from ..pagination import decode_cursor, page_of
from ..timezones import check_timezone
from .cron import next_fire_times
from .repository import FIELDS, PipelineRepository
from .schemas import CronPreview, PipelineCreate, PipelineFields, PipelineOut, PipelineUpdate, check_cron

repo = PipelineRepository()


def to_out(row: asyncpg.Record) -> PipelineOut:
    return PipelineOut(**dict(row))


async def _sync_schedule(tx: Tx, row: asyncpg.Record, had_cron: bool) -> None:
    if row["cron"] is None and not had_cron:
        return
    paused = row["status"] == "paused"
    wanted = PipelineSchedule(tx.tenant_id, row["id"], row["cron"], row["timezone"], paused)
    await apply_quietly(tx.services.engine.schedules, wanted)


async def _check_targets(tx: Tx, fields: PipelineFields) -> None:
    missing = await repo.missing_accounts(tx.conn, tx.tenant_id, [t.model_dump() for t in fields.targets])
    if missing:
        names = ", ".join(f"{m['platform']}:{m['account_id']}" for m in missing)
        raise InvalidRequest(
            f"connect these accounts before targeting them: {names}",
            code="pipeline.accounts_missing",
            params={"accounts": names},
        )


def _check_plan_key(tx: Tx, fields: PipelineFields) -> None:
    """A plan file must be one this tenant uploaded (POST /v1/plans), never another tenant's object:
    exactly the key the upload returned (no ``..``, nothing else), of the pipeline's kind."""
    key = fields.plan_object_key
    if key is None:
        return
    kind = plan_kind_of_key(tx.tenant_id, key)
    if kind is None:
        raise InvalidRequest(
            "plan_object_key must come from POST /v1/plans of this tenant", code="pipeline.plan_file_unknown"
        )
    if fields.source_kind != "sheet" and kind != fields.source_kind:
        raise InvalidRequest(
            f"plan_object_key is a {kind} file; set source_kind to {kind}",
            code="pipeline.plan_file_kind",
            params={"kind": kind},
        )


def _check_image_provider(tx: Tx, fields: PipelineFields) -> None:
    """The offline image provider draws placeholders that are never published: development only."""
    if fields.image_provider == "offline" and tx.services.settings.env == "production":
        raise InvalidRequest(
            "image_provider 'offline' makes placeholders only; choose dalle or flux",
            code="pipeline.image_provider_offline",
        )


# The database refuses a pipeline whose sheet another tenant connected first (migration 0015's trigger).
SHEET_TAKEN = "IC409"


async def _write(write: Coroutine[Any, Any, asyncpg.Record | None]) -> asyncpg.Record | None:
    try:
        return await write
    except asyncpg.PostgresError as e:
        if getattr(e, "sqlstate", None) == SHEET_TAKEN:
            raise Conflict(
                "this sheet is connected to another account; use a sheet of your own (a copy of it works)",
                code="sheet.taken",
            ) from None
        raise


async def create(tx: Tx, body: PipelineCreate) -> PipelineOut:
    limit = tx.services.config.plan(tx.who.plan).pipelines
    if await repo.count(tx.conn, tx.tenant_id) >= limit:
        raise PlanLimitExceeded(
            f"the {tx.who.plan} plan allows {limit} pipelines; delete one or upgrade the plan",
            code="plan_limit.pipelines",
            params={"plan": tx.who.plan, "limit": limit},
        )
    await _check_targets(tx, body)
    _check_plan_key(tx, body)
    _check_image_provider(tx, body)
    row = await _write(repo.insert(tx.conn, tx.tenant_id, body.model_dump(mode="json")))
    assert row is not None
    await _sync_schedule(tx, row, had_cron=False)
    return to_out(row)


async def get(tx: Tx, pipeline_id: UUID) -> PipelineOut:
    row = await repo.get(tx.conn, tx.tenant_id, pipeline_id)
    if row is None:
        raise NotFound("no such pipeline")
    return to_out(row)


async def list_page(tx: Tx, status: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
    rows = await repo.list(tx.conn, tx.tenant_id, status, decode_cursor(cursor), limit)
    return page_of(rows, limit, to_out)


async def update(tx: Tx, pipeline_id: UUID, body: PipelineUpdate) -> PipelineOut:
    row = await repo.get(tx.conn, tx.tenant_id, pipeline_id, for_update=True)
    if row is None:
        raise NotFound("no such pipeline")
    merged: dict[str, Any] = {f: row[f] for f in FIELDS} | body.model_dump(exclude_unset=True, mode="json")
    try:
        fields = PipelineFields(**merged)
    except ValidationError as e:
        raise InvalidRequest("; ".join(err["msg"] for err in e.errors())) from None
    await _check_targets(tx, fields)
    _check_plan_key(tx, fields)
    _check_image_provider(tx, fields)
    out = await _write(repo.update(tx.conn, tx.tenant_id, pipeline_id, fields.model_dump(mode="json")))
    assert out is not None
    await _sync_schedule(tx, out, had_cron=row["cron"] is not None)
    return to_out(out)


async def delete(tx: Tx, pipeline_id: UUID) -> None:
    if not await repo.delete(tx.conn, tx.tenant_id, pipeline_id):
        raise NotFound("no such pipeline")
    if not isinstance(tx.services.engine.schedules, NoSchedules):
        await apply_quietly(tx.services.engine.schedules, pipeline_id)


class InvalidCron(DomainError):
    status, title, code = 400, "Invalid schedule", "pipeline.invalid_cron"


def cron_preview(cron: str, timezone: str, count: int, now: datetime | None = None) -> CronPreview:
    """The next fire times of a cron, validated exactly as a pipeline's cron and time zone are."""
    try:
        normalized = check_cron(cron)
        zone = check_timezone(timezone)
    except ValueError as e:
        raise InvalidCron(str(e)) from None
    assert normalized is not None and zone is not None
    runs = next_fire_times(normalized, zone, now or datetime.now(UTC), count)
    return CronPreview(cron=normalized, timezone=zone, next_runs=runs)
