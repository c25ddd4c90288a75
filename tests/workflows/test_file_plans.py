"""Plans uploaded as files run like sheets: a CSV plan (and an XLSX one) uploaded through the API,
back-filled end to end on the session stack (Temporal, the Serve deployments, the emulated providers), then
downloaded through the API with every row's status, result and note filled in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import asyncpg
import httpx
import openpyxl
import pytest
from temporalio.client import Client

from gateway.app import create_app
from icop.db import tenant_tx
from icop.settings import Settings
from tests.gateway.conftest import TenantHandle, client_for, sign_up
from workflows.types import MODULES, PipelineRunInput, Progress, Queues, run_workflow_id
from workflows.worker import build_activities, close, running_workers

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _pipeline(client: httpx.AsyncClient, t: TenantHandle, name: str, data: bytes, mime: str) -> dict:
    r = await client.post("/v1/plans", headers=t.h, files={"file": (name, data, mime)})
    assert r.status_code == 201, r.text
    up = r.json()
    body = {
        "name": name, "source_kind": up["source_kind"], "plan_object_key": up["plan_object_key"],
        "subtopics_per_topic": 1, "image_provider": "dalle",
    }  # fmt: skip
    r = await client.post("/v1/pipelines", headers=t.h, json=body)
    assert r.status_code == 201, r.text
    run = await client.post(f"/v1/pipelines/{r.json()['id']}/runs", headers=t.h, json={"kind": "backfill"})
    assert run.status_code == 202, run.text
    return {"upload": up, "pipeline": r.json()["id"], "run": run.json()["id"]}


async def test_csv_and_xlsx_plans_are_back_filled_and_downloaded_with_every_rows_status(
    settings: Settings, app_pool: asyncpg.Pool, temporal: Client, queues: Queues, serve_apps: list[str]
) -> None:
    app = create_app(settings, pool=app_pool)
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "ContentPlan"
    for row in (
        ["topic", "notes", "language"],
        ["제주 올레길 걷기", "가족 여행객", "ko"],
        ["", "no topic", "en"],
    ):
        ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    async with client_for(app) as client:
        t = await sign_up(client)
        by_csv = await _pipeline(client, t, "plan.csv", EXAMPLE.read_bytes(), "text/csv")
        by_xlsx = await _pipeline(client, t, "plan.xlsx", buf.getvalue(), XLSX)
        assert by_csv["upload"]["source_kind"] == "csv" and by_xlsx["upload"]["source_kind"] == "xlsx"
        assert by_csv["upload"]["preview"][0]["topic"] == "Home coffee brewing"
        assert [p["row_number"] for p in by_csv["upload"]["problems"]] == [6, 7]

        acts = await build_activities(settings, MODULES, pool=app_pool, models="serve")
        try:
            async with running_workers(temporal, acts, queues, MODULES):
                for made in (by_csv, by_xlsx):
                    progress = await temporal.execute_workflow(
                        "PipelineRunWorkflow",
                        PipelineRunInput(t.tenant_id, made["pipeline"], made["run"], queues),
                        id=run_workflow_id(made["run"]),
                        task_queue=queues.planning,
                        result_type=Progress,
                    )
                    made["progress"] = progress
        finally:
            await close(acts)
        p = by_csv["progress"]
        assert (p.rows_total, p.rows_done, p.rows_failed, p.rows_invalid) == (4, 4, 0, 2)
        assert p.articles_done == 4 and p.articles_failed == 0

        # the run page's counts are read from what exists
        run = (await client.get(f"/v1/runs/{by_csv['run']}", headers=t.h)).json()
        assert run["row_counts"] == {"done": 4, "invalid": 2} and run["subtopics"] == 4, run
        assert run["article_counts"] == {"ready": 4} and run["post_counts"] == {}, run
        rows = (await client.get(f"/v1/runs/{by_csv['run']}/rows?status=invalid", headers=t.h)).json()[
            "items"
        ]
        # examples/plan.csv: a formula and an empty topic, said with codes a client words itself
        assert {r["reason_code"] for r in rows} == {"row.formula", "row.empty_topic"}, rows
        assert all(r["reason_params"]["column"] == "A" for r in rows), rows

        r = await client.get(f"/v1/pipelines/{by_csv['pipeline']}/plan", headers=t.h)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        plan = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert plan[0][:5] == ["topic", "notes", "language", "status", "result"] and len(plan) == 7
        for row in plan[1:5]:  # every valid row: done, its article's link, a note with the link
            assert row[3] == "done" and row[4].startswith("http") and row[4] in row[5], row
        for row in plan[5:7]:  # the two invalid rows: why, and what to do
            assert row[3].startswith("error: row") and row[5].startswith("skipped: "), row
        subs = await client.get(f"/v1/pipelines/{by_csv['pipeline']}/plan?tab=Subtopics", headers=t.h)
        sub_rows = list(csv.reader(io.StringIO(subs.content.decode("utf-8-sig"))))[1:]
        assert sorted(r[0] for r in sub_rows) == ["2", "3", "4", "5"] and all(
            r[3] == "done" for r in sub_rows
        )

        r = await client.get(f"/v1/pipelines/{by_xlsx['pipeline']}/plan", headers=t.h)
        assert r.status_code == 200 and r.headers["content-type"] == XLSX
        got = openpyxl.load_workbook(io.BytesIO(r.content))
        rows = [[c or "" for c in row] for row in got["ContentPlan"].iter_rows(values_only=True)]
        assert rows[1][3] == "done" and rows[1][4].startswith("http"), rows
        assert rows[2][3].startswith("error: row 3, column A") and "skipped" in rows[2][5], rows
        assert [r[2] for r in got["Subtopics"].iter_rows(min_row=2, values_only=True)][0]  # its sub-topic

        async with tenant_tx(app_pool, t.tenant_id) as conn:
            cells = await conn.fetchval(
                "SELECT count(*) FROM plan_cells WHERE pipeline_id = $1", by_csv["pipeline"]
            )
        assert cells >= 6 * 3  # status, result and note of each of the 6 rows, kept apart from the file
