"""Planning that learns, through the API: the pipeline's switches, and why each sub-topic was kept and
each post scheduled when it was."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
import numpy as np

from icop.db import tenant_tx

from .conftest import TenantHandle, sheet

CHOICE = {
    "mode": "exploit",
    "neighbours": 4,
    "avg_engagement_rate": 0.071,
    "similar": [{"label": "latte art heart", "engagement_rate": 0.08}],
}
TIME_CHOICE = {
    "mode": "best_hour", "at": "2030-01-02T11:00:00+00:00", "platform": "x", "timezone": "Asia/Seoul",
    "hour": 20, "engagement_rate": 0.09, "hour_posts": 9, "overall_rate": 0.05, "posts": 27,
    "best_hours": [20],
}  # fmt: skip


async def test_pipeline_learning_switches_and_the_reasons_served(
    client: httpx.AsyncClient, tenant: TenantHandle, app_pool: asyncpg.Pool
) -> None:
    r = await client.post("/v1/pipelines", headers=tenant.h, json={"name": "plain", "sheet_id": sheet()})
    assert r.status_code == 201, r.text
    plain = r.json()
    assert (plain["learn_topics"], plain["explore_share"], plain["learn_times"]) == (False, 0.3, False)
    body = {"name": "learns", "sheet_id": sheet(), "learn_topics": True, "explore_share": 0.2}
    body["learn_times"] = True
    p = (await client.post("/v1/pipelines", headers=tenant.h, json=body)).json()
    assert (p["learn_topics"], p["explore_share"], p["learn_times"]) == (True, 0.2, True)  # not 0.200000003
    for share in (-0.1, 1.5):
        r = await client.post("/v1/pipelines", headers=tenant.h, json={**body, "explore_share": share})
        assert r.status_code == 422, r.text
    r = await client.patch(f"/v1/pipelines/{p['id']}", headers=tenant.h, json={"explore_share": 0.5})
    assert r.status_code == 200 and r.json()["explore_share"] == 0.5 and r.json()["learn_topics"] is True
    r = await client.patch(f"/v1/pipelines/{p['id']}", headers=tenant.h, json={"learn_times": False})
    got = (await client.get(f"/v1/pipelines/{p['id']}", headers=tenant.h)).json()
    assert (got["learn_topics"], got["explore_share"], got["learn_times"]) == (True, 0.5, False)

    # A planned sub-topic with its choice (one without: planned before learning), an article and a post.
    run = (await client.post(f"/v1/pipelines/{p['id']}/runs", headers=tenant.h, json={})).json()
    tid, unit = UUID(tenant.tenant_id), np.zeros(384, dtype=np.float32)
    unit[0] = 1.0
    async with tenant_tx(app_pool, tid) as conn:
        subs = []
        for label, choice in (("Milk steaming", CHOICE), ("Roast levels", None)):
            sub = await conn.fetchval(
                """INSERT INTO subtopics (tenant_id, pipeline_id, run_id, row_number, main_topic, label,
                                          embedding, choice)
                   VALUES ($1, $2, $3, 2, 't', $4, $5, $6) RETURNING id""",
                tid, UUID(p["id"]), UUID(run["id"]), label, unit, choice,
            )  # fmt: skip
            subs.append(sub)
        article = await conn.fetchval(
            """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, subtopic_id, status)
               VALUES ($1, $2, $3, $4, 'ready') RETURNING id""",
            tid, UUID(p["id"]), UUID(run["id"]), subs[0],
        )  # fmt: skip
        post = await conn.fetchval(
            """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                  not_before, time_choice)
               VALUES ($1, $2, 'x', 'acct', 'pending', $3, '2030-01-02T11:00:00Z', $4) RETURNING id""",
            tid, article, f"learn-{article}", TIME_CHOICE,
        )  # fmt: skip
    async with tenant_tx(app_pool, tid) as conn:
        await conn.execute(
            "INSERT INTO run_rows (tenant_id, run_id, row_number, topic, status) "
            "VALUES ($1, $2, 2, 't', 'done')",
            tid, UUID(run["id"]),
        )  # fmt: skip
    rows = (await client.get(f"/v1/runs/{run['id']}/rows", headers=tenant.h)).json()["items"]
    # both stored in one transaction (one created_at): their order is by id, so compare by id
    assert {s["id"]: (s["label"], s["choice"]) for s in rows[0]["planned"]} == {
        str(subs[0]): ("Milk steaming", CHOICE), str(subs[1]): ("Roast levels", None),
    }  # fmt: skip
    detail = (await client.get(f"/v1/articles/{article}", headers=tenant.h)).json()
    assert detail["subtopic"] == {"id": str(subs[0]), "label": "Milk steaming", "choice": CHOICE}
    got_post = (await client.get(f"/v1/posts/{post}", headers=tenant.h)).json()
    assert got_post["time_choice"] == TIME_CHOICE | {"at": "2030-01-02T11:00:00Z"}
