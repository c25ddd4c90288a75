"""Input the parsers never see (over-long or over-deep bodies), free-form settings kept small, security
headers on every response, and object keys and URLs that give nothing of the host away."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import httpx
import pytest

from .conftest import TenantHandle, sheet


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [40, 300, 900])
async def test_deep_json_is_a_422_problem_not_a_500(
    client: httpx.AsyncClient, tenant: TenantHandle, depth: int
) -> None:
    body = f'{{"name": "deep", "sheet_id": "{sheet()}", "settings": {_nested(depth)}}}'
    r = await client.post(
        "/v1/pipelines", headers={**tenant.h, "content-type": "application/json"}, content=body
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "deep" in r.json()["detail"] or "nest" in r.json()["detail"]
    assert (await client.get("/v1/pipelines", headers=tenant.h)).status_code == 200


async def test_large_body_is_a_413_problem(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    blob = {"name": "big", "sheet_id": sheet(), "settings": {"x": "y" * (5 * 1024 * 1024)}}
    r = await client.post("/v1/pipelines", headers=tenant.h, json=blob)
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")

    async def chunks():  # no Content-Length: the limit counts what arrives
        for _ in range(40):
            yield b" " * 65536

    r = await client.post(
        "/v1/pipelines", headers={**tenant.h, "content-type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413, r.text[:300]


@pytest.mark.parametrize(
    "extra",
    [
        {"x": "y" * 40_000},  # under the request limit, over the settings' size
        json.loads(_nested(12)),  # under the request depth, over the settings' depth
        {f"k{i}": i for i in range(500)},  # too many keys
    ],
)
async def test_pipeline_settings_are_bounded(
    client: httpx.AsyncClient, tenant: TenantHandle, extra: dict
) -> None:
    body = {"name": "s", "sheet_id": sheet(), "settings": extra}
    r = await client.post("/v1/pipelines", headers=tenant.h, json=body)
    assert r.status_code == 422, r.text[:300]
    ok = await client.post(
        "/v1/pipelines", headers=tenant.h, json={**body, "settings": {"default_language": "ko"}}
    )
    assert ok.status_code == 201, ok.text
    r = await client.patch(f"/v1/pipelines/{ok.json()['id']}", headers=tenant.h, json={"settings": extra})
    assert r.status_code == 422, r.text[:300]


async def test_security_headers_on_the_api(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for r in (
        await client.get("/healthz"),
        await client.get("/v1/tenant", headers=tenant.h),
        await client.get("/v1/tenant"),  # a problem response too
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in r.headers  # plain http: no HSTS
    email, pw = f"h-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    for path, body in (
        ("/v1/auth/signup", {"company_name": "H", "email": email, "password": pw}),
        ("/v1/auth/login", {"email": email, "password": pw}),
    ):
        r = await client.post(path, json=body)
        assert r.status_code < 300 and r.headers["cache-control"] == "no-store", (path, r.headers)
    r = await client.post("/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    async with httpx.AsyncClient(transport=client._transport, base_url="https://gw.test") as tls:
        r = await tls.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_csv_key_with_dot_dot_is_refused(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for key in (
        f"tenants/{tenant.tenant_id}/plans/../../{uuid.uuid4()}/plans/x.csv",
        f"tenants/{tenant.tenant_id}/plans/./x.csv",
        f"tenants/{tenant.tenant_id}/plans/a/../b.csv",
        f"tenants/{tenant.tenant_id}/plans/%2e%2e/x.csv",
    ):
        r = await client.post(
            "/v1/pipelines",
            headers=tenant.h,
            json={"name": "c", "source_kind": "csv", "plan_object_key": key},
        )
        assert r.status_code == 422, (key, r.text)


def test_local_objects_are_private_and_urls_name_no_host_path(tmp_path: Path) -> None:
    from icop.storage import LocalDirStore, put_article_markdown

    root = tmp_path / "objects"
    obj = put_article_markdown(LocalDirStore(root), uuid.uuid4(), uuid.uuid4(), "# hi")
    assert not obj.url.startswith("file:") and str(tmp_path) not in obj.url
    assert obj.key in obj.url
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o077 == 0, (p, oct(mode))  # nothing for other local users
