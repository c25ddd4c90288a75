"""CSV content plans through the API: validated like a sheet, stored per tenant, usable by a pipeline."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.gateway.conftest import TenantHandle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.csv"


async def test_upload_validates_stores_and_feeds_a_pipeline(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle
) -> None:
    r = await client.post(
        "/v1/plans", headers=tenant.h, files={"file": ("plan.csv", EXAMPLE.read_bytes(), "text/csv")}
    )
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["rows"] == 4 and up["pending"] == 4
    assert [(p["row_number"], p["column"]) for p in up["problems"]] == [(6, "A"), (7, "A")]
    assert up["plan_object_key"].startswith(f"tenants/{tenant.tenant_id}/plans/")
    body = {"name": "From CSV", "source_kind": "csv", "plan_object_key": up["plan_object_key"]}
    r = await client.post("/v1/pipelines", headers=tenant.h, json=body)
    assert r.status_code == 201, r.text
    # Another tenant cannot point a pipeline at this tenant's plan.
    r = await client.post("/v1/pipelines", headers=other.h, json=body)
    assert r.status_code == 422 and "POST /v1/plans" in r.json()["detail"]


async def test_bad_files_get_clear_errors(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    r = await client.post(
        "/v1/plans", headers=tenant.h, files={"file": ("p.csv", b"\xff\xfe\x00bad", "text/csv")}
    )
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
    r = await client.post(
        "/v1/plans", headers=tenant.h, files={"file": ("p.csv", b"topic\n=1+1\n", "text/csv")}
    )
    assert r.status_code == 422 and "no valid row" in r.json()["detail"] and "formula" in r.json()["detail"]
    r = await client.post("/v1/plans", files={"file": ("p.csv", b"topic\nx\n", "text/csv")})
    assert r.status_code == 401
