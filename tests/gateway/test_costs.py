"""What usage cost, served by the API: usage priced with the price in force on its day (a setting adds a
later price without re-pricing earlier usage), summed per article, run, pipeline and tenant; usage no
price covers is counted, not priced; another tenant sees none of it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from icop.connectors.usage import UsageEvent, UsageRecorder
from icop.costs import DEFAULT_PRICES, Price, PriceTable, UsageLine, price_usage
from icop.db import tenant_tx
from icop.settings import Settings

from .conftest import TenantHandle, client_for


async def seed(pool: asyncpg.Pool, tenant_id: str, today: datetime) -> dict[str, uuid.UUID]:
    """A pipeline with one run of two articles, and their usage (one call yesterday, the rest today)."""
    tid = uuid.UUID(tenant_id)
    async with tenant_tx(pool, tid) as conn:
        pipeline = await conn.fetchval(
            "INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id)"
            " VALUES ($1, 'costs', 'sheet', $2) RETURNING id",
            tid,
            f"sheet-{uuid.uuid4()}",
        )
        run = await conn.fetchval(
            "INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind) VALUES ($1, $2, 'manual') RETURNING id",
            tid,
            pipeline,
        )
        a1, a2 = [
            await conn.fetchval(
                "INSERT INTO generated_articles (tenant_id, title, pipeline_id, run_id)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                tid,
                title,
                pipeline,
                run,
            )
            for title in ("one", "two")
        ]
        usage = [  # article, kind, provider, model, prompt, completion, images, when
            (a1, "llm", "gpt", "gpt-4o", 1_000_000, 100_000, 0, today - timedelta(days=1)),
            (a1, "llm", "gpt", "gpt-4o", 1_000_000, 100_000, 0, today),
            (a2, "image", "dall-e", "dall-e-3", 0, 0, 2, today),
            (a2, "image", "offline", "procedural-png", 0, 0, 1, today),
        ]
        await conn.executemany(
            "INSERT INTO usage_records (tenant_id, article_id, kind, provider, model, prompt_tokens,"
            " completion_tokens, images, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [(tid, *u) for u in usage],
        )
    return {"pipeline": pipeline, "run": run, "a1": a1, "a2": a2}


async def test_costs_per_article_run_pipeline_and_tenant(
    settings: Settings, app_pool: asyncpg.Pool, tenant: TenantHandle, other: TenantHandle
) -> None:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    cheaper = Price(provider="gpt", model="gpt-4o", since=today.date(),
                    input_usd_per_mtok=Decimal("2.00"), output_usd_per_mtok=Decimal("8.00"))  # fmt: skip
    app = create_app(settings.model_copy(update={"prices": [cheaper]}), pool=app_pool)
    ids = await seed(app_pool, tenant.tenant_id, today)
    window = {
        "since": (today - timedelta(days=2)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }
    async with client_for(app) as api:

        async def costs(who: TenantHandle, group_by: str) -> dict:
            r = await api.get("/v1/costs", headers=who.h, params={**window, "group_by": group_by})
            assert r.status_code == 200, r.text
            return r.json()

        # yesterday's call at the list price (2.50 + 1.00), today's at the new one (2.00 + 0.80)
        by_article = {i["id"]: i for i in (await costs(tenant, "article"))["items"]}
        assert Decimal(by_article[str(ids["a1"])]["llm_usd"]) == Decimal("6.30")
        a2 = by_article[str(ids["a2"])]
        assert Decimal(a2["image_usd"]) == Decimal("0.08") and a2["unpriced_records"] == 1
        for group, key in (("run", "run"), ("pipeline", "pipeline")):
            (item,) = (await costs(tenant, group))["items"]
            assert item["id"] == str(ids[key]) and Decimal(item["total_usd"]) == Decimal("6.38")
        whole = await costs(tenant, "tenant")
        assert whole["currency"] == "USD" and Decimal(whole["total_usd"]) == Decimal("6.38")
        assert [Decimal(whole["items"][0][k]) for k in ("llm_usd", "image_usd")] == [
            Decimal("6.30"),
            Decimal("0.08"),
        ]
        # over time: one item per UTC day with usage, oldest first (yesterday's call, today's)
        days = (await costs(tenant, "day"))["items"]
        assert [d["day"] for d in days] == sorted(d["day"] for d in days) and len(days) == 2, days
        assert all(d["id"] is None for d in days)
        assert sum(Decimal(d["total_usd"]) for d in days) == Decimal("6.38")
        assert (await costs(other, "article"))["items"] == []  # none of another tenant's usage
        bad = await api.get(
            "/v1/costs", headers=tenant.h, params={"since": window["until"], "until": window["since"]}
        )
        assert bad.status_code == 422


def test_a_price_holds_from_its_date_until_the_next() -> None:
    table = PriceTable.with_overrides(
        [
            Price(provider="gpt", model="gpt-4o", since=date(2027, 1, 1), input_usd_per_mtok=Decimal(1)),
            Price(provider="gpt", model="*", since=date(2020, 1, 1), input_usd_per_mtok=Decimal(9)),
        ]
    )
    default = next(p for p in DEFAULT_PRICES if p.model == "gpt-4o")
    assert (
        table.price("gpt", "gpt-4o", date(2023, 1, 1)) is not None
    )  # before the list price: the provider's *
    assert table.price("gpt", "gpt-4o", date(2026, 12, 31)) == default
    assert table.price("gpt", "gpt-4o", date(2027, 1, 1)).input_usd_per_mtok == 1  # type: ignore[union-attr]
    assert table.price("gpt", "gpt-5", date(2027, 1, 1)).input_usd_per_mtok == 9  # type: ignore[union-attr]
    assert table.price("offline", "procedural-png", date(2027, 1, 1)) is None


async def test_costs_of_one_pipeline_run_or_article(
    app_pool: asyncpg.Pool, client: httpx.AsyncClient, tenant: TenantHandle, other: TenantHandle
) -> None:
    """The filters narrow the usage priced to one pipeline, run or article (the dashboard's run, pipeline
    and article pages); another tenant's ids find nothing, and no error tells it they exist."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    first = await seed(app_pool, tenant.tenant_id, today)
    second = await seed(app_pool, tenant.tenant_id, today)
    window = {
        "since": (today - timedelta(days=2)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }

    async def costs(who: TenantHandle, **params: str) -> dict:
        r = await client.get("/v1/costs", headers=who.h, params={**window, **params})
        assert r.status_code == 200, r.text
        return r.json()

    whole = await costs(tenant)
    one = await costs(tenant, group_by="run", run_id=str(first["run"]))
    (item,) = one["items"]
    assert item["id"] == str(first["run"]) and Decimal(one["total_usd"]) * 2 == Decimal(whole["total_usd"])
    assert item["unpriced_records"] == 1 and Decimal(item["image_usd"]) == Decimal("0.08")
    runs = await costs(tenant, group_by="run", pipeline_id=str(second["pipeline"]))
    assert [i["id"] for i in runs["items"]] == [str(second["run"])]
    article = await costs(tenant, group_by="article", article_id=str(first["a2"]))
    assert [i["id"] for i in article["items"]] == [str(first["a2"])]
    # a pipeline and a run that do not go together: nothing
    assert (await costs(tenant, run_id=str(first["run"]), pipeline_id=str(second["pipeline"])))["items"] == []
    for name in ("pipeline_id", "run_id", "article_id"):
        key = {"pipeline_id": "pipeline", "run_id": "run", "article_id": "a1"}[name]
        theirs = await costs(other, group_by="run", **{name: str(first[key])})
        assert theirs["items"] == [] and Decimal(theirs["total_usd"]) == 0, (name, theirs)
    bad = await client.get("/v1/costs", headers=tenant.h, params={"run_id": "not-a-uuid"})
    assert bad.status_code == 422


def test_prompt_cache_reads_and_writes_are_priced_apart() -> None:
    """Uncached input at the input price, cache reads and writes at the vendor's own prices (a vendor with
    no write price bills a write as input), output at the output price."""
    table = PriceTable.with_overrides([])
    day = date(2026, 12, 3)
    claude, gpt, gemini = (
        table.price(p, m, day) for p, m in (("claude", "claude-sonnet-4-5"), ("gpt", "gpt-4o"),
                                            ("gemini", "gemini-2.5-flash"))
    )  # fmt: skip
    assert claude and gpt and gemini
    # 1M input tokens of which 0.6M read from the cache and 0.2M written to it, 0.1M output
    # Claude: 0.2M x $3 + 0.6M x $0.30 + 0.2M x $3.75 + 0.1M x $15
    assert claude.cost(1_000_000, 100_000, 0, 600_000, 200_000) == Decimal("3.03")
    # GPT: (0.2M uncached + 0.2M written, billed as input) x $2.50 + 0.6M x $1.25
    assert gpt.cost(1_000_000, 0, 0, 600_000, 200_000) == Decimal("1.75")
    assert gemini.cost(1_000_000, 0, 0, 1_000_000) == Decimal("0.03")
    assert gpt.cost(1_000_000, 0, 0) == Decimal("2.5")  # nothing cached: the input price
    with pytest.raises(ValueError, match="parts of prompt_tokens"):
        gpt.cost(100, 0, 0, 80, 30)
    lines = [
        UsageLine("a", "llm", "claude", "claude-sonnet-4-5", day, 1_000_000, 100_000, 0, 1, 600_000, 200_000),
        UsageLine("a", "llm", "gpt", "gpt-4o", day, 1_000_000, 0, 0, 1, 600_000, 200_000),
    ]
    [group] = price_usage(lines, table)
    assert group.llm_usd == Decimal("3.03") + Decimal("1.75")
    assert (group.input_tokens, group.cache_read_tokens, group.cache_write_tokens) == (
        2_000_000,
        1_200_000,
        400_000,
    )


async def test_cache_tokens_are_recorded_and_served_with_the_cost(
    app_pool: asyncpg.Pool, client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    """The recorder writes a call's cache reads and writes; GET /v1/costs prices them and shows them; the
    database refuses cache tokens beyond the call's input tokens."""
    tid = uuid.UUID(tenant.tenant_id)
    async with tenant_tx(app_pool, tid) as conn:
        article = await conn.fetchval(
            "INSERT INTO generated_articles (tenant_id, title) VALUES ($1, 'cached') RETURNING id", tid
        )
    recorder = UsageRecorder(app_pool)
    await recorder.record(tid, UsageEvent("llm", "claude", "claude-sonnet-4-5", "writer:claude", 1_000_000,
                                          100_000, article_id=article, cache_read_tokens=600_000,
                                          cache_write_tokens=200_000))  # fmt: skip
    async with tenant_tx(app_pool, tid) as conn:
        row = await conn.fetchrow(
            "SELECT cache_read_tokens, cache_write_tokens FROM usage_records WHERE article_id = $1", article
        )
    assert tuple(row) == (600_000, 200_000)
    r = await client.get(
        "/v1/costs", headers=tenant.h, params={"group_by": "article", "article_id": str(article)}
    )
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert Decimal(item["llm_usd"]) == Decimal("3.03")
    assert (item["input_tokens"], item["cache_read_tokens"], item["cache_write_tokens"]) == (
        1_000_000,
        600_000,
        200_000,
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await recorder.record(tid, UsageEvent("llm", "gpt", "gpt-4o", "chat", 10, 0, cache_read_tokens=11))
