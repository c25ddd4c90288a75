"""Every error answer carries a stable code with its parameters (what a client words in its user's
language), an RFC 9457 type built from it, and the request's id (also the X-Request-Id header) for
support; field errors carry their rule's type and parameters, never the submitted value."""

from __future__ import annotations

import uuid

import httpx

from icop.planning.plan import parse_rows

from .conftest import TenantHandle, sheet

PLAN_TYPE = "urn:icop:problem:"


def _is_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["type"] == PLAN_TYPE + code, body
    assert body["request_id"] == r.headers["x-request-id"], (body, dict(r.headers))
    return dict(body)


async def test_domain_errors_carry_their_code_and_params(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    r = await client.get(f"/v1/pipelines/{uuid.uuid4()}", headers=tenant.h)
    _is_problem(r, 404, "not_found")
    body = {"name": "x", "sheet_id": sheet(), "targets": [{"platform": "threads", "account_id": "none"}]}
    p = _is_problem(
        await client.post("/v1/pipelines", headers=tenant.h, json=body), 422, "pipeline.accounts_missing"
    )
    assert p["params"] == {"accounts": "threads:none"}
    r = await client.post(
        "/v1/auth/login", json={"email": f"{uuid.uuid4().hex}@example.test", "password": "x" * 12}
    )
    _is_problem(r, 401, "auth.invalid_credentials")


async def test_field_errors_carry_rule_types_and_parameters(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    secret = "a-value-that-must-not-be-echoed"
    r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "", "sheet_id": secret})
    p = _is_problem(r, 422, "invalid_request")
    by_field = {e["loc"][-1]: e for e in p["errors"]}
    assert by_field["name"]["type"] == "string_too_short" and by_field["name"]["ctx"] == {"min_length": 1}
    assert secret not in r.text


async def test_request_ids_are_the_callers_when_plain(client: httpx.AsyncClient) -> None:
    mine = "req-" + uuid.uuid4().hex
    r = await client.get("/v1/auth/me", headers={"X-Request-Id": mine})
    assert _is_problem(r, 401, "unauthorized")["request_id"] == mine
    r = await client.get("/healthz", headers={"X-Request-Id": "evil\tvalue with spaces"})
    assert r.headers["x-request-id"] != "evil\tvalue with spaces" and len(r.headers["x-request-id"]) == 32
    a, b = (
        (await client.get("/healthz")).headers["x-request-id"],
        (await client.get("/healthz")).headers["x-request-id"],
    )
    assert a != b


def test_row_problems_have_codes() -> None:
    plan = parse_rows([["", "notes", ""], ["=SUM(A1)", "", ""], ["topic", "", "xx"], ["t" * 501, "", ""]])
    got = {(p.row_number, p.code) for p in plan.problems}
    assert got == {
        (2, "row.empty_topic"),
        (3, "row.formula"),
        (4, "row.unknown_language"),
        (5, "row.too_long"),
    }
    by_code = {p.code: p.params for p in plan.problems}
    assert by_code["row.formula"] == {"char": "="}
    assert by_code["row.unknown_language"]["language"] == "xx"
    assert by_code["row.too_long"]["length"] == 501
