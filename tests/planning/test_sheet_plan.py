"""A whole sheet planned through the real Sheets SDK against the emulator: bad rows reported and skipped,
exactly one values.batchUpdate per batch with the right ranges, sub-topics written to their tab."""

from __future__ import annotations

import uuid

import asyncpg

from cluster.eval_themes import candidates
from emulators.client import EmulatorAdmin
from icop.connectors.llm import make_llm
from icop.connectors.sheets import make_sheets
from icop.db import tenant_tx
from icop.embeddings import EmbeddingModel
from icop.planning.clustering import SubtopicResult, TopicClusterer
from icop.planning.run import plan_sheet
from icop.planning.service import CandidateExpander, LlmLabeler, SubtopicPlanner
from icop.planning.sheet_io import PlanSheet
from icop.settings import Settings

HEADER = ["topic", "notes", "language", "status", "result"]


async def test_sheet_is_planned_with_one_batch_update_per_batch(
    settings: Settings, app_pool: asyncpg.Pool, clusterer: TopicClusterer, e5_clusterer: TopicClusterer
) -> None:
    admin = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    sid = f"plan-{uuid.uuid4().hex[:8]}"
    admin.seed_sheet(sid, {
        "ContentPlan": [HEADER,
                        ["Home coffee", "beginners", "en", ""],
                        ["=IMPORTXML(\"http://x\")", "", "en", ""],
                        ["홈카페", "초보자", "ko", "pending"],
                        ["Old topic", "", "en", "done", "https://example.com/old"],
                        ["", "no topic here", "en", ""],
                        ["Cold brew", "", "en", "retry"]],
        "Subtopics": [["row", "topic", "sub-topic", "status", "url"]],
    })  # fmt: skip
    since = admin.last_seq()
    tenant = uuid.uuid4()
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'sheet')", tenant)
    llm = make_llm(settings, "gpt")
    labeler = LlmLabeler(llm)
    docs, _ = candidates(10)

    async def cluster(
        topic: str, lang: str, cands: list[str], want: int, model: EmbeddingModel
    ) -> list[SubtopicResult]:
        core = clusterer if model == "minilm" else e5_clusterer
        p = core.propose(cands + docs, want)  # the offline expansion is thin: add the themed set
        from icop.planning.service import label_clusters

        labels = await label_clusters(labeler, topic, lang, p.label_inputs())
        return core.finalize(p, labels)

    planner = SubtopicPlanner(app_pool, CandidateExpander(llm, count=30), cluster)
    report = await plan_sheet(
        app_pool, PlanSheet(make_sheets(settings), sid), planner, tenant, want=3, batch_size=2
    )

    assert [o.row.row_number for o in report.outcomes] == [2, 4, 7]
    assert all(o.error is None and len(o.subtopics) >= 1 for o in report.outcomes), report.outcomes
    assert sorted(p.row_number for p in report.problems) == [3, 6]
    writes = [e for e in admin.requests("sheets", since=since) if e["method"] == "POST"]
    assert len(writes) == report.batch_updates == 2  # 3 pending rows in batches of 2
    ranges = [[d["range"] for d in w["body"]["data"]] for w in writes]
    assert all(w["body"]["valueInputOption"] == "RAW" for w in writes)
    assert ranges[0][:4] == [
        "ContentPlan!D2:E2",
        "ContentPlan!D3:E3",
        "ContentPlan!D4:E4",
        "ContentPlan!D6:E6",
    ]
    assert ranges[0][4].startswith("Subtopics!A2:E") and ranges[1][0] == "ContentPlan!D7:E7"
    book = admin.read_sheet(sid)
    plan = book["ContentPlan"]
    assert (
        plan[1][3] == "planned"
        and plan[2][3].startswith("error: row 3, column A")
        and "formula" in plan[2][3]
    )
    assert plan[4][3] == "done" and plan[5][3].startswith("error: row 6")
    subs = book["Subtopics"][1:]
    assert len(subs) == sum(len(o.subtopics) for o in report.outcomes)
    assert {r[0] for r in subs} == {"2", "4", "7"}
    # Labels: the offline provider's templates are not labels, so each falls back to BERTopic keywords.
    assert all(r[2] and not r[2].startswith("[offline]") for r in subs)
