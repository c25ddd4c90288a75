"""The brand-voice API: editors add and delete samples, viewers read them; validation, pagination,
another tenant's ids give 404; stored samples carry a 384-d embedding."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg
import httpx

from icop.db import tenant_tx

from .conftest import TenantHandle, remember, sheet

URL = "/v1/brand-voice/samples"
COFFEE = "Our baristas pour each cup slowly, with single-origin beans ground a minute before brewing."
TEA = "Loose-leaf green tea steeps for two minutes at eighty degrees; we never rush the second infusion."


async def _key(client: httpx.AsyncClient, t: TenantHandle, scope: str) -> dict[str, str]:
    r = await client.post("/v1/api-keys", headers=t.h, json={"name": scope, "scopes": [scope]})
    assert r.status_code == 201, r.text
    remember(r.json()["key"])
    return {"X-API-Key": r.json()["key"]}


async def test_samples_crud_roles_and_embeddings(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    r = await client.post(URL, headers=tenant.h, json={"texts": [COFFEE, TEA], "language": "en"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert [s["text"] for s in made] == [COFFEE, TEA] and all(s["pipeline_id"] is None for s in made)
    async with tenant_tx(app_pool, UUID(tenant.tenant_id)) as conn:
        dims = await conn.fetch("SELECT vector_dims(embedding) AS d FROM brand_voice_samples")
    assert [r["d"] for r in dims] == [384, 384]

    # viewers (a read key) list and get, but cannot write; a write key (editor) can
    viewer, editor = await _key(client, tenant, "read"), await _key(client, tenant, "write")
    listed = await client.get(URL, headers=viewer)
    assert listed.status_code == 200 and {s["id"] for s in listed.json()["items"]} == {s["id"] for s in made}
    assert (await client.get(f"{URL}/{made[0]['id']}", headers=viewer)).json()["text"] == COFFEE
    assert (await client.post(URL, headers=viewer, json={"texts": [COFFEE]})).status_code == 403
    assert (await client.delete(f"{URL}/{made[0]['id']}", headers=viewer)).status_code == 403
    r = await client.post(URL, headers=editor, json={"texts": [COFFEE + " Always."], "language": "ko"})
    assert r.status_code == 201
    assert [
        s["language"] for s in (await client.get(f"{URL}?language=ko", headers=viewer)).json()["items"]
    ] == ["ko"]

    # another tenant sees nothing and cannot touch these ids
    assert (await client.get(URL, headers=other.h)).json()["items"] == []
    assert (await client.get(f"{URL}/{made[0]['id']}", headers=other.h)).status_code == 404
    assert (await client.delete(f"{URL}/{made[0]['id']}", headers=other.h)).status_code == 404

    assert (await client.delete(f"{URL}/{made[0]['id']}", headers=tenant.h)).status_code == 204
    assert (await client.get(f"{URL}/{made[0]['id']}", headers=tenant.h)).status_code == 404
    assert (await client.delete(f"{URL}/{made[0]['id']}", headers=tenant.h)).status_code == 404


async def test_validation_pipelines_and_pagination(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle
) -> None:
    bad = [
        {"texts": []},
        {"texts": ["too short"]},
        {"texts": ["x" * 4001]},
        {"texts": [COFFEE] * 21},
        {"texts": [COFFEE], "language": "english"},
        {"texts": [COFFEE + "\u0000"]},
        {"texts": ["   " + "a " * 5 + "   " * 10]},  # long enough only with its blanks
    ]
    for body in bad:
        r = await client.post(URL, headers=tenant.h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")

    theirs = (
        await client.post("/v1/pipelines", headers=other.h, json={"name": "o", "sheet_id": sheet()})
    ).json()["id"]
    r = await client.post(URL, headers=tenant.h, json={"texts": [COFFEE], "pipeline_id": theirs})
    assert r.status_code == 404  # another tenant's pipeline
    mine = (
        await client.post("/v1/pipelines", headers=tenant.h, json={"name": "m", "sheet_id": sheet()})
    ).json()["id"]
    r = await client.post(URL, headers=tenant.h, json={"texts": [f"{COFFEE} ({i})" for i in range(5)],
                                                       "pipeline_id": mine})  # fmt: skip
    assert r.status_code == 201 and all(s["pipeline_id"] == mine for s in r.json())

    page1 = (await client.get(f"{URL}?limit=2", headers=tenant.h)).json()
    page2 = (await client.get(f"{URL}?limit=2&cursor={page1['next_cursor']}", headers=tenant.h)).json()
    page3 = (await client.get(f"{URL}?limit=2&cursor={page2['next_cursor']}", headers=tenant.h)).json()
    ids = [s["id"] for p in (page1, page2, page3) for s in p["items"]]
    assert len(ids) == 5 == len(set(ids)) and page3["next_cursor"] is None
    assert len((await client.get(f"{URL}?pipeline_id={mine}", headers=tenant.h)).json()["items"]) == 5
    assert (await client.get(f"{URL}?pipeline_id={uuid.uuid4()}", headers=tenant.h)).json()["items"] == []
    assert (await client.get(f"{URL}?cursor=garbage!", headers=tenant.h)).status_code == 422
