"""The public API: pipelines, runs, articles, posts, quotas, credentials, problem+json."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from fastapi import FastAPI

from icop.db import tenant_tx

from .conftest import TenantHandle, remember, sheet
from .seed import seed_article, seed_run_rows


async def _connect(client: httpx.AsyncClient, t: TenantHandle, platform: str, account: str) -> dict:
    tok = f"tok-{uuid.uuid4().hex}"
    remember(tok)
    r = await client.post(
        "/v1/credentials",
        headers=t.h,
        json={
            "platform": platform,
            "account_id": account,
            "account_name": "Acme",
            "access_token": tok,
            "expires_at": "2030-01-01T00:00:00Z",
        },
    )
    assert r.status_code == 201, r.text
    assert tok not in r.text and "access_token" not in r.json()
    return r.json()


async def test_credentials_never_return_tokens(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_conn: asyncpg.Connection
) -> None:
    c = await _connect(client, tenant, "instagram", "ig-1")
    assert set(c) == {
        "id",
        "platform",
        "account_id",
        "account_name",
        "scopes",
        "expires_at",
        "status",
        "status_reason",
        "created_at",
        "updated_at",
    }
    listed = await client.get("/v1/credentials?platform=instagram", headers=tenant.h)
    assert [x["id"] for x in listed.json()] == [c["id"]]
    await owner_conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant.tenant_id)
    raw = await owner_conn.fetchval(
        "SELECT access_token_enc FROM api_credentials WHERE id = $1", uuid.UUID(c["id"])
    )
    assert b"tok-" not in raw


async def test_pipeline_crud_validation_and_pagination(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    await _connect(client, tenant, "x", "x-acct")
    body = {
        "name": "Weekly",
        "source_kind": "sheet",
        "sheet_id": sheet(),
        "cron": "0 9 * * 1-5",
        "timezone": "Asia/Seoul",
        "mode": "merge",
        "writers": ["gpt", "claude"],
        "image_provider": "flux",
        "targets": [{"platform": "x", "account_id": "x-acct"}],
        "approval_required": True,
    }
    r = await client.post("/v1/pipelines", headers=tenant.h, json=body)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["mode"] == "merge" and p["targets"] == body["targets"] and p["dry_run"] is True
    bad = [
        {"name": "x", "source_kind": "sheet"},  # no sheet id
        {"name": "x", "source_kind": "csv", "sheet_id": sheet()},  # no plan file
        {"name": "x", "sheet_id": sheet(), "cron": "61 * * * *"},
        {"name": "x", "sheet_id": sheet(), "timezone": "Mars/Base"},
        {"name": "x", "sheet_id": sheet(), "writers": ["gpt", "gpt"]},
        {"name": "x", "sheet_id": sheet(), "targets": [{"platform": "threads", "account_id": "none"}]},
    ]
    for b in bad:
        r = await client.post("/v1/pipelines", headers=tenant.h, json=b)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (
            b,
            r.text,
        )
    r = await client.patch(
        f"/v1/pipelines/{p['id']}", headers=tenant.h, json={"status": "paused", "cron": None}
    )
    assert r.status_code == 200 and r.json()["status"] == "paused" and r.json()["cron"] is None
    r = await client.patch(f"/v1/pipelines/{p['id']}", headers=tenant.h, json={"source_kind": "csv"})
    assert r.status_code == 422  # would leave the pipeline without a plan file
    # Pagination: newest first, cursor walks the rest.
    for i in range(2):
        assert (
            await client.post("/v1/pipelines", headers=tenant.h, json={"name": f"n{i}", "sheet_id": sheet()})
        ).status_code == 201
    page1 = (await client.get("/v1/pipelines?limit=2", headers=tenant.h)).json()
    assert [x["name"] for x in page1["items"]] == ["n1", "n0"] and page1["next_cursor"]
    page2 = (
        await client.get(f"/v1/pipelines?limit=2&cursor={page1['next_cursor']}", headers=tenant.h)
    ).json()
    assert [x["name"] for x in page2["items"]] == ["Weekly"] and page2["next_cursor"] is None
    assert (await client.get("/v1/pipelines?status=paused", headers=tenant.h)).json()["items"][0]["id"] == p[
        "id"
    ]
    assert (await client.get("/v1/pipelines?cursor=garbage!", headers=tenant.h)).status_code == 422
    assert (await client.delete(f"/v1/pipelines/{p['id']}", headers=tenant.h)).status_code == 204
    assert (await client.get(f"/v1/pipelines/{p['id']}", headers=tenant.h)).status_code == 404


async def test_runs_start_progress_cancel(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    pid = (
        await client.post("/v1/pipelines", headers=tenant.h, json={"name": "r", "sheet_id": sheet()})
    ).json()["id"]
    r = await client.post(f"/v1/pipelines/{pid}/runs", headers=tenant.h, json={"kind": "manual"})
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["status"] == "pending" and run["workflow_id"] is None and run["row_counts"] == {}
    again = await client.post(f"/v1/pipelines/{pid}/runs", headers=tenant.h, json={})
    assert again.status_code == 409
    await seed_run_rows(app_pool, tenant.tenant_id, run["id"], ["done", "done", "failed", "pending"])
    got = (await client.get(f"/v1/runs/{run['id']}", headers=tenant.h)).json()
    assert got["row_counts"] == {"done": 2, "failed": 1, "pending": 1}
    c = await client.post(f"/v1/runs/{run['id']}/cancel", headers=tenant.h)
    assert c.status_code == 200 and c.json()["status"] == "cancelled" and c.json()["finished_at"]
    assert (await client.post(f"/v1/runs/{run['id']}/cancel", headers=tenant.h)).status_code == 409
    bf = await client.post(
        f"/v1/pipelines/{pid}/runs", headers=tenant.h, json={"kind": "backfill", "from_row": 2, "to_row": 9}
    )
    assert bf.status_code == 202 and bf.json()["kind"] == "backfill"
    assert bf.json()["progress"] == {"requested": {"kind": "backfill", "from_row": 2, "to_row": 9}}
    bad = await client.post(
        f"/v1/pipelines/{pid}/runs", headers=tenant.h, json={"kind": "backfill", "from_row": 9, "to_row": 2}
    )
    assert bad.status_code == 422
    runs = (await client.get(f"/v1/pipelines/{pid}/runs", headers=tenant.h)).json()["items"]
    assert [x["kind"] for x in runs] == ["backfill", "manual"]
    await client.patch(f"/v1/pipelines/{pid}", headers=tenant.h, json={"status": "paused"})
    await client.post(f"/v1/runs/{bf.json()['id']}/cancel", headers=tenant.h)
    assert (await client.post(f"/v1/pipelines/{pid}/runs", headers=tenant.h, json={})).status_code == 409


async def test_articles_posts_quotas(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    await _connect(client, tenant, "x", "acct-x")
    await _connect(client, tenant, "instagram", "ig")
    pid = (
        await client.post("/v1/pipelines", headers=tenant.h, json={"name": "a", "sheet_id": sheet()})
    ).json()["id"]
    seeded = [
        await seed_article(app_pool, tenant.tenant_id, pid, None, status=st, language=lang, title=f"T{i}")
        for i, (st, lang) in enumerate([("ready", "en"), ("published", "ko"), ("ready", "ko")])
    ]
    all_ = (await client.get("/v1/articles", headers=tenant.h)).json()
    assert [a["title"] for a in all_["items"]] == ["T2", "T1", "T0"]
    ko_ready = (await client.get("/v1/articles?language=ko&status=ready", headers=tenant.h)).json()["items"]
    assert [a["title"] for a in ko_ready] == ["T2"]
    p1 = (await client.get(f"/v1/articles?pipeline_id={pid}&limit=1", headers=tenant.h)).json()
    p2 = (
        await client.get(
            f"/v1/articles?pipeline_id={pid}&limit=2&cursor={p1['next_cursor']}", headers=tenant.h
        )
    ).json()
    assert [a["title"] for a in p1["items"] + p2["items"]] == ["T2", "T1", "T0"]
    art = (await client.get(f"/v1/articles/{seeded[0]['article']}", headers=tenant.h)).json()
    assert (
        art["markdown_url"]
        and art["images"][0]["url"].endswith("0.jpg")
        and art["seo"] == {"keywords": ["a"]}
    )
    posts = (await client.get("/v1/posts?platform=x", headers=tenant.h)).json()["items"]
    assert len(posts) == 3 and posts[0]["platform_post_id"] == "1799" and posts[0]["status"] == "published"
    post = (await client.get(f"/v1/posts/{seeded[1]['post']}", headers=tenant.h)).json()
    assert post["article_id"] == str(seeded[1]["article"]) and post["article_title"] == "T1"
    # search in the post's text or its article's title ('_' and '%' literal), and a date window
    assert [
        p["article_title"] for p in (await client.get("/v1/posts?q=T2", headers=tenant.h)).json()["items"]
    ] == ["T2"]
    assert len((await client.get("/v1/posts?q=HELLO", headers=tenant.h)).json()["items"]) == 3
    assert (await client.get("/v1/posts?q=T_", headers=tenant.h)).json()["items"] == []
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.get("/v1/posts", headers=tenant.h, params={"since": later})).json()["items"] == []
    assert (
        len((await client.get("/v1/posts", headers=tenant.h, params={"until": later})).json()["items"]) == 3
    )
    quotas = {
        (q["platform"], q["account_id"]): q for q in (await client.get("/v1/quotas", headers=tenant.h)).json()
    }
    assert quotas[("x", "acct-x")]["used"] == 3 and quotas[("x", "acct-x")]["limit"] == 300
    assert quotas[("x", "acct-x")]["window_hours"] == 3
    assert quotas[("x", "acct-x")]["resets_at"] and float(quotas[("x", "acct-x")]["cost_usd_month"]) == 0.045
    assert quotas[("instagram", "ig")]["used"] == 0 and quotas[("instagram", "ig")]["resets_at"] is None


async def test_posts_on_a_calendar(
    client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    """A post's calendar time is when it went out, when it is due, or when it last changed; a calendar
    asks for a window of it, for one account."""
    tid = uuid.UUID(tenant.tenant_id)
    day = datetime(2031, 3, 10, 9, tzinfo=UTC)
    async with tenant_tx(app_pool, tid) as conn:
        article = await conn.fetchval(
            "INSERT INTO generated_articles (tenant_id, title) VALUES ($1, 'Cal') RETURNING id", tid
        )
        ids = {}
        for status, platform, account, published, due in (
            ("published", "threads", "a-1", day, None),
            ("scheduled", "x", "a-1", None, day + timedelta(days=1)),
            ("failed", "threads", "a-2", None, day + timedelta(days=5)),  # a retry time, not its day
        ):
            ids[status] = await conn.fetchval(
                """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                      published_at, not_before)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
                tid, article, platform, account, status, f"cal-{uuid.uuid4().hex}", published, due,
            )  # fmt: skip
    h = tenant.h
    window = {"calendar_since": day.isoformat(), "calendar_until": (day + timedelta(days=2)).isoformat()}
    got = (await client.get("/v1/posts", headers=h, params=window)).json()["items"]
    assert {p["status"]: p["calendar_at"] for p in got} == {
        "published": "2031-03-10T09:00:00Z", "scheduled": "2031-03-11T09:00:00Z",
    }  # fmt: skip
    failed = (await client.get(f"/v1/posts/{ids['failed']}", headers=h)).json()
    assert failed["calendar_at"] == failed["updated_at"]
    one = (await client.get("/v1/posts", headers=h, params={**window, "account_id": "a-1"})).json()["items"]
    assert len(one) == 2
    none = await client.get("/v1/posts", headers=h, params={**window, "account_id": "a-2"})
    assert none.json()["items"] == []
    assert (await client.get("/v1/posts", headers=other.h, params=window)).json()["items"] == []


async def test_problem_json_shapes(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    r = await client.get(f"/v1/pipelines/{uuid.uuid4()}", headers=tenant.h)
    body = r.json()
    assert r.status_code == 404 and body == {
        "type": "urn:icop:problem:not_found",
        "title": "Not found",
        "status": 404,
        "detail": "no such pipeline",
        "code": "not_found",
        "params": {},
        "request_id": r.headers["x-request-id"],
    }
    r = await client.get("/v1/pipelines/not-a-uuid", headers=tenant.h)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["path", "pipeline_id"]
    secret = "do-not-echo-this-password"
    r = await client.post("/v1/auth/login", json={"email": "bad", "password": secret})
    assert r.status_code == 422 and secret not in r.text
    r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "nul\u0000", "sheet_id": sheet()})
    assert r.status_code == 422
    r = await client.post(
        "/v1/pipelines",
        headers=tenant.h,
        json={"name": "n", "sheet_id": sheet(), "settings": {"k": "\u0000"}},
    )
    assert r.status_code == 422, r.text
    r = await client.post(
        "/v1/pipelines", headers={**tenant.h, "content-type": "application/json"}, content=b"\xff{"
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_openapi_documents_errors_and_models(gw_app: FastAPI) -> None:
    from icop.planning.files import XLSX_MEDIA_TYPE

    schema = gw_app.openapi()
    assert "Problem" in schema["components"]["schemas"]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            responses = op["responses"]
            ok = [c for c in responses if c.startswith("2")]
            assert ok, (method, path)
            for code in ok:
                if code != "204":  # JSON everywhere; the live event stream is Server-Sent Events
                    media = set(responses[code]["content"])
                    want = {"text/event-stream"} if path == "/v1/events/stream" else {"application/json"}
                    if path == "/v1/articles/{article_id}/images/{position}":  # the image's bytes
                        want = {"image/jpeg"}
                    if path == "/v1/pipelines/{pipeline_id}/plan":  # the plan file, as uploaded
                        want = {"text/csv", XLSX_MEDIA_TYPE}
                    assert want <= media, (method, path, code)
            if path.startswith("/v1/") and not path.startswith("/v1/auth/") or path == "/v1/auth/me":
                assert {"401", "429"} <= set(responses), (method, path)
                assert "Retry-After" in responses["429"]["headers"]
            for code, resp in responses.items():
                if code[0] in "45":
                    assert "application/problem+json" in resp["content"], (method, path, code)
    assert json.dumps(schema).count("HTTPValidationError") == 0


async def test_readiness_waits_for_the_warm_ups(client: httpx.AsyncClient, gw_app: FastAPI) -> None:
    """Liveness is instant; readiness (what a load balancer routes by) waits for start-up warm-ups."""
    import asyncio

    assert (await client.get("/readyz")).json() == {"status": "ok"}
    pending = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(pending)
    warming = gw_app.state.services.warming
    warming.append(task)
    try:
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        assert "warming up" in r.json()["detail"]
        assert (await client.get("/healthz")).status_code == 200
        pending.set_result(None)
        await task
        assert (await client.get("/readyz")).status_code == 200
    finally:
        warming.remove(task)
