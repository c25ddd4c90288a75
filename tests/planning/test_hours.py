"""Best posting hours per platform, learnt from the tenant's published posts in its own time zone."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from icop.db import tenant_tx
from icop.planning.hours import BestHours, HourRate, best_hours, learned_time, next_best_time

SEOUL = ZoneInfo("Asia/Seoul")


def test_best_hours_need_enough_posts_and_beat_the_overall_rate() -> None:
    # (local hour, posts, engagement, impressions)
    samples = [(9, 6, 360, 6000), (13, 8, 80, 8000), (21, 5, 250, 5000), (3, 2, 200, 2000)]
    best = best_hours(samples)
    assert best is not None and best.posts == 21
    assert best.overall_rate == 890 / 21000
    # 3 a.m. drew the most per impression, from two posts: too few to count. 13h is below the overall.
    found = [(h.hour, h.posts, round(h.engagement_rate, 3)) for h in best.hours]
    assert found == [(9, 6, 0.06), (21, 5, 0.05)]
    assert best_hours(samples, min_posts=22) is None  # not enough data: nothing learnt
    assert best_hours([(h, 5, 50, 1000) for h in range(6)]) is None  # every hour alike: none is best


def test_the_next_best_hour_is_local_and_none_within_one() -> None:
    best = BestHours([HourRate(9, 6, 0.06), HourRate(21, 5, 0.05)], 0.03, 21)
    at, hour = next_best_time(datetime(2026, 3, 2, 11, 30, tzinfo=SEOUL), "Asia/Seoul", best) or (None, None)
    assert (at, hour) == (datetime(2026, 3, 2, 21, tzinfo=SEOUL), best.hours[1])
    late = next_best_time(datetime(2026, 3, 2, 22, 5, tzinfo=SEOUL), "Asia/Seoul", best)
    assert late is not None and late[0] == datetime(2026, 3, 3, 9, tzinfo=SEOUL)  # tomorrow morning
    assert next_best_time(datetime(2026, 3, 2, 9, 40, tzinfo=SEOUL), "Asia/Seoul", best) is None
    # The hours are the tenant's: 11:30 UTC is 20:30 in Seoul, so the next is 21:00 there (12:00 UTC).
    utc = next_best_time(datetime(2026, 3, 2, 11, 30, tzinfo=UTC), "Asia/Seoul", best)
    assert utc is not None and utc[0] == datetime(2026, 3, 2, 12, tzinfo=UTC)


async def seed_hourly_posts(conn: asyncpg.Connection, tenant: uuid.UUID, best: int) -> None:
    """A tenant in Seoul with 30 published posts of the last 30 days: 27 on Threads at three local hours,
    those at ``best`` o'clock drawing three times the engagement of the others; 3 on X."""
    rng = random.Random(5)
    await conn.execute("INSERT INTO tenants (id, name, timezone) VALUES ($1, 'h', 'Asia/Seoul')", tenant)
    article = await conn.fetchval(
        "INSERT INTO generated_articles (tenant_id, status) VALUES ($1, 'published') RETURNING id", tenant
    )
    day = datetime.now(SEOUL).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
    for n in range(30):
        platform = "x" if n % 10 == 0 else "threads"
        hour = (best, (best + 12) % 24, (best + 17) % 24)[n % 3]
        at = day + timedelta(days=n % 28, hours=hour, minutes=15)
        rate = 0.09 if hour == best else 0.03
        await conn.execute(
            """INSERT INTO posts (tenant_id, article_id, platform, account_id, status, idempotency_key,
                                  published_at, impressions, engagement)
               VALUES ($1, $2, $3, $4, 'published', $5, $6, 1000, $7)""",
            tenant, article, platform, f"acct-{n}", f"{tenant}:{n}", at,
            int(1000 * rate * rng.uniform(0.8, 1.2)),
        )  # fmt: skip


async def test_learned_time_reads_the_tenants_posts_by_local_hour(app_pool: asyncpg.Pool) -> None:
    """Threads posts published at 8 p.m. in Seoul drew three times the engagement of the others; X has
    too few measured posts to learn from."""
    tenant = uuid.uuid4()
    async with tenant_tx(app_pool, tenant) as conn:
        await seed_hourly_posts(conn, tenant, best=20)
        noon = datetime.now(SEOUL).replace(hour=12, minute=0, second=0, microsecond=0)
        choice = await learned_time(conn, tenant, "threads", noon)
        assert await learned_time(conn, tenant, "x", noon) is None
    assert choice is not None
    assert choice.at == noon.replace(hour=20) and choice.hour.hour == 20
    j = choice.as_json()
    assert j["mode"] == "best_hour" and j["timezone"] == "Asia/Seoul" and j["posts"] == 27
    assert j["hour_posts"] == 9 and j["engagement_rate"] > 1.5 * j["overall_rate"], j
