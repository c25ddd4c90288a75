"""Re-embedding stored vectors after a model change, on the session's PostgreSQL and the real models:
batches commit one by one, an interrupted run resumes, rows already on their model are skipped."""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np
import pytest
from typer.testing import CliRunner

from icop.brandvoice.repository import BrandVoiceRepository
from icop.db import tenant_tx
from icop.embeddings import EmbeddingChoice
from icop.embeddings.reembed import Reembedder
from icop.planning import repository as planning_repo
from icop.settings import Settings

MINILM = "all-MiniLM-L6-v2"
KO_SUBTOPICS = [
    ("에스프레소 · 크레마", ["에스프레소 크레마 가이드", "에스프레소 추출 압력 팁"]),
    ("콜드브루 · 원액", ["콜드브루 원액 만들기", "콜드브루 추출 시간"]),
    ("라떼아트 · 우유", ["하트 라떼아트 연습", "라떼아트용 스팀 우유"]),
    ("로스팅 · 원두", []),  # stored before examples were kept: its label stands in
    ("그라인더 · 분쇄도", ["버 그라인더 고르기"]),
]
KO_SAMPLES = [
    "저희는 매주 월요일 아침 소량씩 원두를 볶고, 바리스타가 한 잔씩 천천히 내립니다.",
    "이번 분기 실적은 시장 예상을 웃돌았고 배당 수익률도 올랐습니다.",
    "가이드와 함께 관광객이 몰리기 전 새벽의 구시가지를 걷습니다.",
]


async def _tenant_on_minilm(pool: asyncpg.Pool) -> uuid.UUID:
    """A tenant whose Korean and English rows were all stored by MiniLM (before the multilingual model)."""
    minilm = EmbeddingChoice().embedder("minilm")
    tenant = uuid.uuid4()
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'reembed')", tenant)
        for language, items in (
            ("ko", KO_SUBTOPICS),
            ("en", [("espresso · crema", ["espresso crema guide"])]),
        ):
            vectors = minilm.encode([" ".join(ex) or label for label, ex in items])
            await planning_repo.insert_subtopics(
                conn, tenant, pipeline_id=None, run_id=None, row_number=2, main_topic="coffee",
                language=language, model_id=MINILM,
                items=[(label, [], ex, v) for (label, ex), v in zip(items, vectors, strict=True)],
            )  # fmt: skip
        await BrandVoiceRepository().insert_many(
            conn, tenant, None, "ko", KO_SAMPLES, minilm.encode(KO_SAMPLES), MINILM
        )
    return tenant


async def _models(pool: asyncpg.Pool, tenant: uuid.UUID) -> dict[tuple[str, str, str], int]:
    async with tenant_tx(pool, tenant) as conn:
        rows = await conn.fetch(
            """SELECT 'subtopics' AS t, language, embedding_model, count(*) AS n
                 FROM subtopics GROUP BY 1, 2, 3
               UNION ALL
               SELECT 'samples', language, embedding_model, count(*)
                 FROM brand_voice_samples GROUP BY 1, 2, 3"""
        )
    return {(r["t"], r["language"], r["embedding_model"]): r["n"] for r in rows}


class Interrupted(Exception):
    pass


async def test_reembed_is_resumable_and_skips_rows_on_their_model(app_pool: asyncpg.Pool) -> None:
    choice = EmbeddingChoice()  # auto: Korean rows belong on e5, English rows stay on MiniLM
    e5 = choice.embedder("e5-small")
    tenant = await _tenant_on_minilm(app_pool)
    r = Reembedder(app_pool, choice, batch=2)
    assert tenant in await r.tenants()
    plan = await r.plan(tenant)
    assert {(g.table, g.language, g.target, g.pending) for g in plan} == {
        ("subtopics", "ko", "e5-small", 5),
        ("brand_voice_samples", "ko", "e5-small", 3),
    }

    def stop_after_first_batch(table: str, n: int, total: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await r.run(tenant, progress=stop_after_first_batch)
    assert await _models(app_pool, tenant) == {  # the first batch committed, nothing else changed
        ("subtopics", "ko", e5.model_id): 2, ("subtopics", "ko", MINILM): 3, ("subtopics", "en", MINILM): 1,
        ("samples", "ko", MINILM): 3,
    }  # fmt: skip

    seen: list[tuple[str, int, int]] = []
    report = await r.run(tenant, progress=lambda t, n, total: seen.append((t, n, total)))
    assert report.rewritten == {"subtopics": 3, "brand_voice_samples": 3}
    assert seen == [("subtopics", 2, 3), ("subtopics", 1, 3), ("brand_voice_samples", 2, 3),
                    ("brand_voice_samples", 1, 3)]  # fmt: skip
    assert await _models(app_pool, tenant) == {
        ("subtopics", "ko", e5.model_id): 5, ("subtopics", "en", MINILM): 1,
        ("samples", "ko", e5.model_id): 3,
    }  # fmt: skip
    # a sub-topic's new vector is the centre of its kept candidates under the new model
    async with tenant_tx(app_pool, tenant) as conn:
        stored = await conn.fetchval("SELECT embedding FROM subtopics WHERE label = $1", KO_SUBTOPICS[0][0])
    want = e5.encode(KO_SUBTOPICS[0][1]).mean(axis=0)
    assert np.allclose(stored.to_numpy(), want / np.linalg.norm(want), atol=1e-5)
    assert (await r.run(tenant)).rewritten == {"subtopics": 0, "brand_voice_samples": 0}  # nothing left


def test_reembed_command_moves_a_tenant_to_the_model_asked_for(settings: Settings) -> None:
    import asyncio

    from cluster.cli import app

    tenant = asyncio.run(_seed(settings))
    env = {"ICOP_STATE_DIR": str(settings.state_path)}
    out = CliRunner().invoke(
        app, ["embeddings", "reembed", "--tenant", str(tenant), "--model", "e5-small"], env=env
    )
    assert out.exit_code == 0, out.output
    assert "re-embedded 6 subtopics, 3 brand_voice_samples" in out.output
    again = CliRunner().invoke(
        app,
        ["embeddings", "reembed", "--tenant", str(tenant)],
        env={**env, "ICOP_EMBEDDING_MODEL": "e5-small"},
    )
    assert again.exit_code == 0 and "every vector is on its model" in again.output, again.output
    bad = CliRunner().invoke(app, ["embeddings", "reembed", "--model", "bert"], env=env)
    assert bad.exit_code != 0 and "use one of e5-small, minilm" in bad.output


async def _seed(settings: Settings) -> uuid.UUID:
    from icop.db import create_pool

    pool = await create_pool(settings.pg_dsn("app"), 1, 2)
    try:
        return await _tenant_on_minilm(pool)
    finally:
        await pool.close()
