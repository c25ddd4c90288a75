"""The publish activity behind learn_times: a post without a publish time is scheduled for the tenant's
next best hour on its platform, with why; without enough data nothing is made and the post goes out at
once."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from temporalio.testing import ActivityEnvironment

from icop.db import tenant_tx
from icop.settings import Settings
from icop.social.publisher import Publisher
from workflows.activities.publish import PublishActivities
from workflows.types import PublishInput

from ..planning.test_hours import SEOUL, seed_hourly_posts


async def test_a_post_is_scheduled_for_the_next_best_hour_with_why(
    settings: Settings, app_pool: asyncpg.Pool
) -> None:
    tenant = uuid.uuid4()
    best = (datetime.now(SEOUL).hour + 6) % 24  # never the current hour: the post is not sent at once
    async with tenant_tx(app_pool, tenant) as conn:
        await seed_hourly_posts(conn, tenant, best=best)
        article = await conn.fetchval(
            "INSERT INTO generated_articles (tenant_id, title, status) VALUES ($1, 'T', 'ready') "
            "RETURNING id",
            tenant,
        )
    acts = PublishActivities(Publisher(app_pool, settings, {}, tokens=None))  # type: ignore[arg-type]  # schedules only: no platform is called

    def post(platform: str) -> PublishInput:
        return PublishInput(str(tenant), str(article), platform, f"{platform}-acct", "T", "Summary.",
                            "https://example.test/a", [], "en", [], False)  # fmt: skip

    out = await ActivityEnvironment().run(acts.schedule_at_best_hour, post("threads"))
    assert out is not None and out.status == "scheduled" and out.not_before is not None
    at = datetime.fromisoformat(out.not_before).astimezone(SEOUL)
    assert (at.hour, at.minute) == (best, 0) and 0 < (at - datetime.now(SEOUL)).total_seconds() <= 24 * 3600
    async with tenant_tx(app_pool, tenant) as conn:
        row = await conn.fetchrow(
            "SELECT status, time_choice FROM posts WHERE id = $1", uuid.UUID(out.post_id)
        )
    assert row["status"] == "scheduled" and row["time_choice"]["hour"] == best, row
    assert row["time_choice"]["platform"] == "threads" and row["time_choice"]["hour_posts"] == 9
    # Three measured posts on X: nothing learnt, no post made here (the workflow publishes at once).
    assert await ActivityEnvironment().run(acts.schedule_at_best_hour, post("x")) is None
