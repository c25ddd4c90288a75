"""The content calendar and the engagement charts, in a real browser against the live stack, in English and
Korean (one tenant each, time zone Asia/Seoul), from rows seeded in the database as the publisher and the
insights collector leave them (no pipeline runs):

- the calendar puts scheduled, published and failed posts on their days in the tenant's zone, coloured by
  status, and filters by platform;
- a scheduled post moved with the Move form, and another dragged onto another day, are moved (the API says
  so) and show on their new days; the article's workflow that is told is a stand-in started under its id;
- the analytics page's charts and tables carry the seeded figures, the article page shows each post's
  figures and why collection stopped (worded from its code), and the CSV export has every post (UTF-8 with
  a byte-order mark, Korean titles intact);
- at 390 px neither page is wider than the screen, the Korean pages show no English message, and axe finds
  no serious or critical violation. Screenshots go to the artifacts folder (docs/screenshots/ with
  ``make screenshots``).
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from playwright.async_api import Page, expect
from temporalio.client import Client

from icop.db import create_pool, tenant_tx
from workflows.types import article_workflow_id

from .catalogue import Catalogues, compile_catalogues
from .conftest import DESKTOP, PHONE, LiveApp, api, new_context, record
from .test_screens import axe_violations, layout_problems, log_in, settle

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Asia/Seoul")
SAYS = {
    "en": {"moved": "The post will be published at", "deleted": "The post was deleted on Facebook"},
    "ko": {"moved": "에 게시됩니다.", "deleted": "Facebook에서 게시물이 삭제되어"},
}
TITLES = {
    "en": ("Cold brew ratios", "Pour-over basics", "Grinder care"),
    "ko": ("콜드브루 비율", "핸드드립 기초", "그라인더 관리"),
}


def _day(d: datetime) -> str:
    return d.astimezone(ZONE).date().isoformat()


def _seoul(day_offset: int, hour: int) -> datetime:
    """``hour`` o'clock in Seoul, ``day_offset`` days from today there."""
    today = datetime.now(ZONE).date() + timedelta(days=day_offset)
    return datetime(today.year, today.month, today.day, hour, tzinfo=ZONE).astimezone(UTC)


async def _seed(live: LiveApp, temporal: Client, lang: str) -> dict[str, Any]:
    """A tenant with a pipeline, a run and three articles (one sub-topic each): a published Threads post with
    two collections and a failed X post on the first, a published Facebook post whose collection stopped
    (deleted on the platform) on the second, two scheduled posts (Threads, X) on the third, whose workflow
    is a stand-in that only takes the reschedule signal."""
    email, password = f"cal-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    with api(live) as c:
        r = c.post(
            "/v1/auth/signup", json={"company_name": "Calendar Lab", "email": email, "password": password}
        )
        assert r.status_code == 202, r.text
        r = c.post("/v1/auth/login", json={"email": email, "password": password})
        token = r.json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        assert c.patch("/v1/tenant", json={"timezone": "Asia/Seoul"}).status_code == 200
        tid = uuid.UUID(c.get("/v1/auth/me").json()["tenant_id"])
    unit = np.zeros(384, dtype=np.float32)
    unit[0] = 1.0
    published = {"threads": _seoul(-2, 12), "facebook": _seoul(-1, 12)}
    failed_at = _seoul(-1, 18)
    due = _seoul(3, 10)
    titles = TITLES[lang]
    pool = await create_pool(live.settings.pg_dsn("app"), 1, 1)
    try:
        async with tenant_tx(pool, tid) as conn:
            pipeline = await conn.fetchval(
                """INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id)
                   VALUES ($1, $2, 'sheet', $3) RETURNING id""",
                tid, "Coffee plan", f"cal-{uuid.uuid4().hex}",
            )  # fmt: skip
            run = await conn.fetchval(
                """INSERT INTO pipeline_runs (tenant_id, pipeline_id, kind, status)
                   VALUES ($1, $2, 'manual', 'running') RETURNING id""",
                tid, pipeline,
            )  # fmt: skip
            arts, subs = [], []
            for title in titles:
                sub = await conn.fetchval(
                    """INSERT INTO subtopics (tenant_id, pipeline_id, run_id, main_topic, label, embedding)
                       VALUES ($1, $2, $3, 'Coffee', $4, $5) RETURNING id""",
                    tid, pipeline, run, title, unit,
                )  # fmt: skip
                art = await conn.fetchval(
                    """INSERT INTO generated_articles (tenant_id, pipeline_id, run_id, subtopic_id, title,
                                                       status, language)
                       VALUES ($1, $2, $3, $4, $5, 'published', $6) RETURNING id""",
                    tid, pipeline, run, sub, title, lang,
                )  # fmt: skip
                arts.append(art)
                subs.append(sub)

            async def post(article: uuid.UUID, platform: str, status: str, **cols: Any) -> uuid.UUID:
                names = [
                    "tenant_id",
                    "article_id",
                    "platform",
                    "account_id",
                    "status",
                    "idempotency_key",
                    *cols,
                ]
                values = [tid, article, platform, f"{platform}-acct", status, f"cal-{uuid.uuid4().hex}",
                          *cols.values()]  # fmt: skip
                marks = ", ".join(
                    f"(${i}::text)::jsonb" if n == "metrics_params" else f"${i}"
                    for i, n in enumerate(names, 1)
                )
                pid: uuid.UUID = await conn.fetchval(
                    f"INSERT INTO posts ({', '.join(names)}) VALUES ({marks}) RETURNING id", *values
                )
                return pid

            th = await post(arts[0], "threads", "published", published_at=published["threads"],
                            permalink="https://www.threads.net/@lab/post/1", metrics_state="collecting",
                            metrics_collections=2, impressions=1000, engagement=80,
                            metrics_collected_at=published["threads"] + timedelta(hours=6))  # fmt: skip
            fb = await post(arts[1], "facebook", "published", published_at=published["facebook"],
                            metrics_state="stopped", metrics_collections=1,
                            metrics_collected_at=published["facebook"] + timedelta(hours=1), impressions=500,
                            engagement=20, metrics_code="insights.post_deleted",
                            metrics_params=json.dumps({"platform": "facebook"}))  # fmt: skip
            failed = await post(arts[0], "x", "failed", error="refused", error_code="post.refused",
                                updated_at=failed_at)  # fmt: skip
            sched = {
                p: await post(arts[2], p, "scheduled", not_before=due, text=f"{titles[2]} ({p})")
                for p in ("threads", "x")
            }
            for pid, points in ((th, ((3600, 400, 30), (21600, 1000, 80))), (fb, ((3600, 500, 20),))):
                start = published["threads" if pid == th else "facebook"]
                for age, views, engagement in points:
                    await conn.execute(
                        """INSERT INTO post_metrics (tenant_id, post_id, collected_at, age_s, impressions,
                                                     likes, engagement)
                           VALUES ($1, $2, $3, $4, $5, $6, $6)""",
                        tid, pid, start + timedelta(seconds=age), age, views, engagement,
                    )  # fmt: skip
    finally:
        await pool.close()
    wid = article_workflow_id(str(run), str(subs[2]))
    await temporal.start_workflow(
        "CalendarStandIn", id=wid, task_queue=f"calendar-nobody-{uuid.uuid4().hex[:8]}",
        execution_timeout=timedelta(hours=1),
    )  # fmt: skip
    return {
        "email": email, "password": password, "token": token, "workflow": wid, "titles": titles,
        "articles": [str(a) for a in arts], "published": published, "failed_at": failed_at, "due": due,
        "posts": {"threads": str(th), "facebook": str(fb), "failed": str(failed),
                  "sched_threads": str(sched["threads"]), "sched_x": str(sched["x"])},
    }  # fmt: skip


@pytest.fixture(scope="module")
async def seeded(live: LiveApp) -> AsyncIterator[dict[str, dict[str, Any]]]:
    t0 = time.monotonic()
    temporal = await Client.connect(live.settings.temporal_target, namespace=live.settings.temporal_namespace)
    tenants = {lang: await _seed(live, temporal, lang) for lang in ("en", "ko")}
    record("  calendar: two tenants seeded (database + stand-in workflows)", time.monotonic() - t0)
    try:
        yield tenants
    finally:
        for data in tenants.values():
            await temporal.get_workflow_handle(data["workflow"]).terminate()


@pytest.fixture(scope="module")
def cats(tmp_path_factory: pytest.TempPathFactory) -> Catalogues:
    return compile_catalogues(tmp_path_factory.mktemp("i18n-calendar"))


def _post(live: LiveApp, data: dict[str, Any], post_id: str) -> dict[str, Any]:
    with api(live, data["token"]) as c:
        got: dict[str, Any] = c.get(f"/v1/posts/{post_id}").json()
    return got


async def _shoot(page: Page, artifacts: Path, name: str, lang: str, cats: Catalogues) -> list[str]:
    """Screenshots at desktop and phone width; what is wrong at phone width (and axe, once per language)."""
    await settle(page)
    await page.screenshot(path=str(artifacts / f"{name}-{lang}-desktop.png"), full_page=True)
    found = [f"axe: {v['id']} {v['nodes']}" for v in await axe_violations(page)] if lang == "en" else []
    await page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    await settle(page)
    found += await layout_problems(page, lang, cats)
    if lang == "ko":
        found += [f"axe (phone): {v['id']} {v['nodes']}" for v in await axe_violations(page)]
    await page.screenshot(path=str(artifacts / f"{name}-{lang}-phone.png"), full_page=True)
    await page.set_viewport_size({"width": DESKTOP["width"], "height": DESKTOP["height"]})
    return [f"{name} {lang}: {f}" for f in found]


def _cell(page: Page, day: str) -> Any:
    return page.locator(f'[data-testid=calendar] li[data-day="{day}"]')


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_calendar_shows_posts_and_moves_them(
    browser: Any,
    live: LiveApp,
    seeded: dict[str, dict[str, Any]],
    artifacts: Path,
    cats: Catalogues,
    lang: str,
) -> None:
    t0 = time.monotonic()
    data = seeded[lang]
    ctx = await new_context(browser, lang)
    page = await ctx.new_page()
    problems: list[str] = []
    try:
        await log_in(page, live, data["email"], data["password"])
        posts, due = data["posts"], _day(data["due"])
        # every post on its day, in the tenant's zone, with its kind: published and failed ones by the link
        # to their article, scheduled ones by the id a drop needs
        first, second = (f'a[href="/articles/{a}"]' for a in data["articles"][:2])
        item = "[data-testid=calendar-post]"
        expected = [
            (_day(data["published"]["threads"]), f"{item}[data-kind=published]:has({first})"),
            (_day(data["published"]["facebook"]), f"{item}[data-kind=published]:has({second})"),
            (_day(data["failed_at"]), f"{item}[data-kind=failed]:has({first})"),
            (due, f'{item}[data-kind=scheduled][data-post="{posts["sched_threads"]}"]'),
            (due, f'{item}[data-kind=scheduled][data-post="{posts["sched_x"]}"]'),
        ]
        for day, selector in expected:
            await page.goto(live.url(f"/calendar?date={day}"))
            await expect(_cell(page, day).locator(selector), f"{selector} on {day}").to_be_visible()
        # the platform filter keeps only X
        await page.goto(live.url(f"/calendar?date={due}&platform=x"))
        await expect(_cell(page, due).locator(f'[data-post="{posts["sched_x"]}"]')).to_have_count(1)
        await expect(_cell(page, due).locator(f'[data-post="{posts["sched_threads"]}"]')).to_have_count(0)
        await page.goto(live.url(f"/calendar?date={due}"))
        problems += await _shoot(page, artifacts, "calendar-month", lang, cats)

        # the Move form: X to two days later at 15:30:20 in Seoul
        x_item = _cell(page, due).locator(f'[data-post="{posts["sched_x"]}"]')
        await x_item.locator('a[href*="move="]').click()
        form = page.locator("section#move")
        await expect(form).to_be_visible()
        target = (data["due"] + timedelta(days=2)).astimezone(ZONE).replace(minute=30, second=20)
        await form.locator("#move-at").fill(target.strftime("%Y-%m-%dT%H:%M:%S"))
        await form.locator("button[type=submit]").click()
        await expect(form.get_by_role("status")).to_contain_text(SAYS[lang]["moved"])
        moved = _post(live, data, posts["sched_x"])
        assert datetime.fromisoformat(moved["not_before"]) == target, moved
        await page.goto(live.url(f"/calendar?date={target.date().isoformat()}"))
        await expect(
            _cell(page, target.date().isoformat()).locator(f'[data-post="{posts["sched_x"]}"]')
        ).to_be_visible()

        # a drag: Threads onto another day of the same week (the next, or the one before on a Sunday)
        await page.goto(live.url(f"/calendar?view=week&date={due}"))
        step = 1 if data["due"].astimezone(ZONE).weekday() < 6 else -1
        onto = (data["due"] + timedelta(days=step)).astimezone(ZONE)
        source = _cell(page, due).locator(f'[data-post="{posts["sched_threads"]}"]')
        await source.drag_to(_cell(page, onto.date().isoformat()))
        await expect(
            _cell(page, onto.date().isoformat()).locator(f'[data-post="{posts["sched_threads"]}"]')
        ).to_be_visible()
        dragged = _post(live, data, posts["sched_threads"])
        assert datetime.fromisoformat(dragged["not_before"]) == onto, (dragged, onto)  # same time, other day
        problems += await _shoot(page, artifacts, "calendar-week", lang, cats)
    except Exception:
        await page.screenshot(
            path=str(live.logs["gateway"].parent / f"failure-calendar-{lang}.png"), full_page=True
        )
        print(live.log_tails())
        raise
    finally:
        await ctx.close()
    record(f"calendar ({lang}): posts on their days, moved by form and by drag", time.monotonic() - t0)
    assert not problems, problems


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_charts_article_figures_and_csv(
    browser: Any,
    live: LiveApp,
    seeded: dict[str, dict[str, Any]],
    artifacts: Path,
    cats: Catalogues,
    lang: str,
) -> None:
    t0 = time.monotonic()
    data = seeded[lang]
    ctx = await new_context(browser, lang, accept_downloads=True)
    page = await ctx.new_page()
    problems: list[str] = []
    titles, posts = data["titles"], data["posts"]
    try:
        await log_in(page, live, data["email"], data["password"])
        await page.goto(live.url("/analytics"))
        # engagement by day: the values table behind the chart, one row per day of publishing
        rows = page.locator("[data-testid=engagement-by-day] table tbody tr")
        await expect(rows).to_have_count(2)
        by_day = {
            await r.get_attribute("data-day"): await r.locator("td[data-value]").get_attribute("data-value")
            for r in await rows.all()
        }
        assert by_day == {
            data["published"]["threads"].date().isoformat(): "80",
            data["published"]["facebook"].date().isoformat(): "20",
        }, by_day
        chart = page.locator("[data-testid=engagement-by-day] svg[role=img]")
        await expect(chart).to_have_attribute("aria-label", re.compile(r"\b80\b"))
        platform = page.locator("[data-testid=by-platform] tbody tr")
        await expect(platform.nth(0)).to_have_attribute("data-key", "threads")
        await expect(platform.nth(0)).to_contain_text("80")
        await expect(platform.nth(1)).to_have_attribute("data-key", "facebook")
        await expect(page.locator("[data-testid=by-pipeline] tbody tr")).to_contain_text("Coffee plan")
        subs = page.locator("[data-testid=by-subtopic] tbody tr th")
        await expect(subs).to_have_text([titles[0], titles[1]])  # by engagement rate: 8 % then 4 %
        await expect(page.locator("[data-testid=by-subtopic] tbody tr").first).to_contain_text("8.0 %")
        top = page.locator("[data-testid=top-posts] tbody tr")
        await expect(top).to_have_count(2)
        await expect(top.first.get_by_role("link", name=titles[0])).to_have_attribute(
            "href", f"/articles/{data['articles'][0]}"
        )
        problems += await _shoot(page, artifacts, "analytics-charts", lang, cats)

        # the CSV: every published post, a byte-order mark, Korean intact
        async with page.expect_download() as info:
            await page.locator('a[href^="/api/analytics/export"]').click()
        download = await info.value
        raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert raw.startswith(codecs.BOM_UTF8), raw[:10]
        table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert {(r["post_id"], r["article_title"], r["engagement"]) for r in table} == {
            (posts["threads"], titles[0], "80"), (posts["facebook"], titles[1], "20"),
        }, table  # fmt: skip
        assert download.suggested_filename.startswith("analytics-") and download.suggested_filename.endswith(
            ".csv"
        )

        # the article page: each post's latest figures, its series, and why collection stopped
        await page.goto(live.url(f"/articles/{data['articles'][1]}"))
        figures = page.locator(f'[data-testid=post-metrics] li[data-post="{posts["facebook"]}"]')
        await expect(figures.locator("dd").first).to_have_text("500")
        await expect(figures.get_by_test_id("metrics-reason")).to_contain_text(SAYS[lang]["deleted"])
        await page.goto(live.url(f"/articles/{data['articles'][0]}"))
        series = page.locator(f'[data-testid=post-metrics] li[data-post="{posts["threads"]}"] table tbody tr')
        await expect(series).to_have_count(2)
        await expect(series.nth(1).locator("td").nth(1)).to_have_text("80")
    except Exception:
        await page.screenshot(
            path=str(live.logs["gateway"].parent / f"failure-analytics-{lang}.png"), full_page=True
        )
        print(live.log_tails())
        raise
    finally:
        await ctx.close()
    record(f"analytics ({lang}): charts, article figures, CSV", time.monotonic() - t0)
    assert not problems, problems
