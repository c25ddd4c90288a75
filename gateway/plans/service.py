"""CSV content plans: validated like a sheet (same columns, same rules), stored content-addressed."""

from __future__ import annotations

import asyncio
import hashlib
import re

from icop.errors import InvalidRequest
from icop.planning.plan import parse_csv
from icop.storage import ObjectStore

from .schemas import PlanRowProblem, PlanUpload

MAX_BYTES = 5 * 1024 * 1024


def plan_key(tenant_id: object, digest: str) -> str:
    return f"tenants/{tenant_id}/plans/{digest}.csv"


def is_plan_key(tenant_id: object, key: str) -> bool:
    """Exactly a key :func:`plan_key` makes for this tenant: no ``..``, no other folder, no other tenant."""
    return re.fullmatch(re.escape(f"tenants/{tenant_id}/plans/") + r"[0-9a-f]{64}\.csv", key) is not None


async def upload(store: ObjectStore, tenant_id: object, data: bytes) -> PlanUpload:
    if len(data) > MAX_BYTES:
        raise InvalidRequest(
            f"the plan is {len(data)} bytes; the limit is {MAX_BYTES} (split it into several plans)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidRequest(
            f"the plan is not UTF-8 text (byte {e.start}); export the sheet as CSV UTF-8"
        ) from e
    if "\x00" in text:
        raise InvalidRequest("the plan contains NUL bytes; export the sheet as CSV UTF-8")
    plan = parse_csv(text)
    if not plan.rows:
        detail = "; ".join(str(p) for p in plan.problems[:5]) or "the file has no rows"
        raise InvalidRequest(f"the plan has no valid row: {detail}")
    key = plan_key(tenant_id, hashlib.sha256(data).hexdigest())
    await asyncio.to_thread(store.put, key, data, "text/csv; charset=utf-8", if_absent=True)
    problems = [
        PlanRowProblem(row_number=p.row_number, column=p.column, reason=p.reason) for p in plan.problems
    ]
    return PlanUpload(csv_object_key=key, rows=len(plan.rows), pending=len(plan.pending), problems=problems)
