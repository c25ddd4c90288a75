"""The dashboard tells the truth, and failures are actionable: one small back-fill (two rows and an invalid
one, approval required, published to X and Threads on the social emulator) is shared by every test here.

Set-up (module fixture): one article approved through the articles page's bulk approve while X refuses
every post, so the run has an article awaiting approval, an invalid row, a published post and a failed one.

- the run page's counts equal what the database and the API hold (rows, sub-topics, articles and posts by
  state), with the awaiting approval and failed posts linked; its cost is what ``GET /v1/costs`` prices
  for the run, and the pipeline page's cost chart has a bar for the run, linked to it;
- the failed post is found with the posts page's filters and retried from there once X takes posts again:
  it ends published, with a link to it, and X holds it exactly once;
- with the plan's accounts all in use, Connect is disabled and says why (in Korean) before any consent page;
- at 390 px no page is wider than the viewport, and in Korean no table header wraps a syllable per line.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from cluster.sheet_pipeline import HEADER, seed_tenant_sheet
from emulators.client import EmulatorAdmin
from icop.db import create_pool, tenant_tx

from .conftest import LiveApp, api, new_context, record, usd
from .test_flow import RUN_LIMIT_S
from .test_screens import log_in

pytestmark = pytest.mark.slow

ROWS = [
    ["Sustainable travel in Europe", "Young professionals, weekend trips by train", "en", "", ""],
    ["Home coffee brewing", "Beginners who just bought their first grinder", "en", "", ""],
    ["=SUM(A1:A2)", "refused: it would run as a formula", "en", "", ""],
]
VALID, INVALID = 2, 1
ARTICLE_LABELS = {
    "pending": "Pending", "writing": "Writing", "awaiting_approval": "Awaiting approval",
    "approved": "Approved", "rejected": "Rejected", "ready": "Ready", "published": "Published",
    "failed": "Failed",
}  # fmt: skip
POST_LABELS = {
    "pending": "Queued or retrying", "publishing": "Being published", "published": "Published",
    "failed": "Failed", "waiting_quota": "Waiting for quota", "needs_reauth": "Account needs reconnecting",
    "dry_run": "Dry run (not sent)", "unknown": "Being checked with the platform",
}  # fmt: skip
PHONE_PAGES = ["/", "/pipelines", "/pipelines/{pipeline_id}", "/runs/{run_id}", "/posts", "/articles"]


def knobs(live: LiveApp, **set_: Any) -> None:
    """The social emulator's fault knobs (its defaults when nothing is given)."""
    body = set_ or {"error_next": 0, "error_rate": 0.0, "error_status": 503, "platform": None}
    r = httpx.post(f"{live.social}/_admin/knobs", json=body, timeout=10, trust_env=False)
    r.raise_for_status()


def items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


async def wait_for(what: str, check: Any, limit_s: float = RUN_LIMIT_S, every_s: float = 2.0) -> Any:
    deadline = time.monotonic() + limit_s
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(every_s)


async def plan_sheet(live: LiveApp, tenant_id: uuid.UUID) -> str:
    """ROWS as a sheet of the tenant's own Google account (connected, as the demo connects it)."""
    sheet_id = f"truth-{uuid.uuid4().hex[:12]}"
    admin = EmulatorAdmin(f"http://{live.settings.bind_host}:{live.settings.emulator_port}")
    pool = await create_pool(live.settings.pg_dsn("app"), 1, 1)
    try:
        sheets = {"ContentPlan": [HEADER, *ROWS], "Subtopics": [HEADER]}
        await seed_tenant_sheet(live.settings, pool, admin, tenant_id, sheet_id, sheets, "Truth plan")
    finally:
        await pool.close()
        admin.close()
    return sheet_id


@pytest.fixture(scope="module")
async def truth(browser: Any, live: LiveApp) -> AsyncIterator[dict[str, Any]]:
    t0 = time.monotonic()
    email, password = f"truth-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    n = uuid.uuid4().int % 10**8
    targets = [
        {"platform": "x", "account_id": f"45{n:08d}"},
        {"platform": "threads", "account_id": f"28{n:08d}"},
    ]
    with api(live) as c:
        r = c.post(
            "/v1/auth/signup", json={"company_name": "Truth Lab", "email": email, "password": password}
        )
        assert r.status_code == 202, r.text
        token = c.post("/v1/auth/login", json={"email": email, "password": password}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        tenant_id = uuid.UUID(c.get("/v1/auth/me").json()["tenant_id"])
    sheet_id = await plan_sheet(live, tenant_id)
    with api(live, token) as c:
        for tg in targets:
            tok = c.post(f"{live.social}/_admin/tokens", json=tg)
            tok.raise_for_status()
            body = {**tg, "account_name": f"Truth {tg['platform']}", "access_token": tok.json()["token"]}
            assert c.post("/v1/credentials", json=body).status_code in (200, 201)
        r = c.post("/v1/pipelines", json={"name": "Truth plan", "source_kind": "sheet", "sheet_id": sheet_id,
                                          "targets": targets, "subtopics_per_topic": 1, "dry_run": False,
                                          "approval_required": True})  # fmt: skip
        assert r.status_code == 201, r.text
        pipeline_id = r.json()["id"]
        r = c.post(f"/v1/pipelines/{pipeline_id}/runs", json={"kind": "backfill"})
        assert r.status_code in (201, 202), r.text
        run_id = r.json()["id"]

        def planned() -> bool:
            """Every row planned and each written article waiting for approval."""
            rows = items(c.get(f"/v1/runs/{run_id}/rows").json())
            if len(rows) < VALID + INVALID or any(x["status"] in ("pending", "planning") for x in rows):
                return False
            arts = items(c.get("/v1/articles", params={"run_id": run_id}).json())
            writing = sum(1 for x in rows if x["status"] == "writing")
            return writing > 0 and sum(1 for a in arts if a["status"] == "awaiting_approval") == writing

        await wait_for("the run's articles to await approval", planned)
        arts = items(c.get("/v1/articles", params={"run_id": run_id}).json())
        awaiting = [a for a in arts if a["status"] == "awaiting_approval"]
        rows = items(c.get(f"/v1/runs/{run_id}/rows").json())
        assert len(awaiting) == VALID, (arts, rows)  # one each: two unrelated topics, a fresh tenant
    record("  truth: back-fill until its articles await approval", time.monotonic() - t0)

    # X refuses every post from now on; one article is approved with the articles page's bulk approve
    knobs(live, error_next=1000, error_status=400, platform="x")
    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    try:
        await log_in(page, live, email, password)
        await page.goto(live.url(f"/articles?status=awaiting_approval&run_id={run_id}"))
        nav = page.get_by_role("navigation", name="Main")
        badge = f"Articles ({len(awaiting)} awaiting approval)"
        await expect(nav.get_by_role("link", name=badge)).to_be_visible()
        first = awaiting[0]
        await page.get_by_role("checkbox", name=f"Select “{first['title'] or 'Untitled article'}”").check()
        await page.get_by_role("button", name="Approve selected").click()
        await expect(page.get_by_role("status").filter(has_text="Approved: 1.")).to_be_visible()
        if len(awaiting) > 1:
            left = f"Articles ({len(awaiting) - 1} awaiting approval)"
            await expect(nav.get_by_role("link", name=left)).to_be_visible()
        with api(live, token) as c:

            def posted() -> list[dict[str, Any]] | None:
                posts = items(c.get("/v1/posts", params={"article_id": first["id"]}).json())
                done = {p["platform"]: p["status"] for p in posts}
                return posts if done == {"x": "failed", "threads": "published"} else None

            posts = await wait_for("X to refuse the post and Threads to take it", posted, 120)

            def settled() -> bool:
                """The approved article's row finished (its status is written after the posts)."""
                rows = items(c.get(f"/v1/runs/{run_id}/rows").json())
                return sum(1 for x in rows if x["status"] in ("done", "failed")) == 1

            await wait_for("the approved article's row to finish", settled, 60, 1.0)
    finally:
        knobs(live)  # X takes posts again
        await ctx.close()
    record("  truth: set-up (back-fill, bulk approve, a failed post)", time.monotonic() - t0)
    yield {
        "email": email, "password": password, "token": token, "tenant_id": tenant_id, "run_id": run_id,
        "pipeline_id": pipeline_id, "failed": next(p for p in posts if p["platform"] == "x"),
        "x_account": targets[0]["account_id"], "awaiting": len(awaiting) - 1,
    }  # fmt: skip


async def in_db(live: LiveApp, tenant_id: uuid.UUID, run_id: str) -> dict[str, dict[str, int]]:
    """The run's rows, articles and posts by status, counted in the tables themselves."""
    pool = await create_pool(live.settings.pg_dsn("app"), 1, 1)
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            rid = uuid.UUID(run_id)
            rows = await conn.fetch(
                "SELECT status, count(*) n FROM run_rows WHERE run_id = $1 GROUP BY 1", rid
            )
            arts = await conn.fetch(
                "SELECT status, count(*) n FROM generated_articles WHERE run_id = $1 GROUP BY 1", rid
            )
            posts = await conn.fetch(
                """SELECT p.status, count(*) n FROM posts p JOIN generated_articles a ON a.id = p.article_id
                    WHERE a.run_id = $1 GROUP BY 1""",
                rid,
            )
            subtopics = await conn.fetchval("SELECT count(*) FROM subtopics WHERE run_id = $1", rid)
    finally:
        await pool.close()
    return {
        "rows": {r["status"]: r["n"] for r in rows},
        "articles": {r["status"]: r["n"] for r in arts},
        "posts": {r["status"]: r["n"] for r in posts},
        "subtopics": {"all": subtopics},
    }


async def pairs(page: Page, test_id: str) -> dict[str, str]:
    return dict(
        await page.get_by_test_id(test_id).evaluate(
            """dl => [...dl.children].map(d => [d.querySelector("dt").innerText.trim(),
                                              d.querySelector("dd").innerText.trim()])"""
        )
    )


async def test_run_page_counts_what_exists(browser: Any, live: LiveApp, truth: dict[str, Any]) -> None:
    run_id = truth["run_id"]
    db = await in_db(live, truth["tenant_id"], run_id)
    with api(live, truth["token"]) as c:
        run = c.get(f"/v1/runs/{run_id}").json()
        # the run's cost as the API prices it, among all runs (the page asks for this run alone)
        every = c.get("/v1/costs", params={"group_by": "run", "since": run["created_at"]}).json()
        by_pipeline = c.get("/v1/costs", params={"group_by": "run", "pipeline_id": truth["pipeline_id"]})
    cost = next(i for i in every["items"] if i["id"] == run_id)
    pipeline_month = by_pipeline.json()
    this_month = next(i for i in pipeline_month["items"] if i["id"] == run_id)
    assert Decimal(cost["llm_usd"]) > 0, cost  # the writers' drafts, at the emulated models' list prices
    assert run["row_counts"] == db["rows"] and run["article_counts"] == db["articles"], (run, db)
    assert run["post_counts"] == db["posts"] and run["subtopics"] == db["subtopics"]["all"], (run, db)
    arts, posts = db["articles"], db["posts"]
    assert arts.get("awaiting_approval") == truth["awaiting"] >= 1 and posts.get("failed") == 1, db

    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    try:
        await log_in(page, live, truth["email"], truth["password"])
        await page.goto(live.url(f"/runs/{run_id}"))
        stages = page.get_by_test_id("run-stages")

        def stage(name: str) -> Any:
            dt = page.locator("dt", has_text=re.compile(rf"^{re.escape(name)}$"))
            return stages.locator("div", has=dt).locator("dd")

        written = sum(n for s, n in arts.items() if s not in ("pending", "writing", "failed"))
        for name, n in [
            ("Rows", sum(db["rows"].values()) - INVALID), ("Rows invalid", INVALID),
            ("Rows failed", db["rows"].get("failed", 0)), ("Sub-topics", db["subtopics"]["all"]),
            ("Articles written", written), ("Awaiting approval", arts["awaiting_approval"]),
            ("Articles failed", arts.get("failed", 0)), ("Posts", sum(posts.values())),
            ("Posts failed", posts["failed"]),
        ]:  # fmt: skip
            await expect(stage(name), name).to_have_text(str(n))
        assert await pairs(page, "run-articles") == {ARTICLE_LABELS[s]: str(n) for s, n in arts.items() if n}
        assert await pairs(page, "run-posts") == {POST_LABELS[s]: str(n) for s, n in posts.items() if n}

        # what waits for the user, linked to where it is done
        review = page.get_by_role("link", name="Review and approve them")
        await expect(review).to_have_attribute("href", f"/articles?status=awaiting_approval&run_id={run_id}")
        failed = page.get_by_role("link", name="Open the failed posts")
        await expect(failed).to_have_attribute("href", f"/posts?run_id={run_id}&status=failed")

        # done/total over the valid rows; the invalid row apart, with its reason and what to do
        rows = db["rows"]
        finished = rows.get("done", 0) + rows.get("failed", 0)
        bar = page.get_by_role("progressbar", name="Progress")
        await expect(bar).to_have_attribute("aria-valuenow", str(round(100 * finished / VALID)))
        await expect(page.get_by_text(f"{finished} of {VALID} rows finished", exact=True)).to_be_visible()
        await expect(page.get_by_text(f"Invalid rows skipped (not counted above): {INVALID}")).to_be_visible()
        table = page.get_by_test_id("run-rows")
        invalid = table.locator("tbody tr", has=page.get_by_text("Invalid", exact=True))
        await expect(invalid.get_by_text(re.compile(r"starts with “=”"))).to_be_visible()
        todo = "Fix this row in the content plan, then start a new run."
        await expect(invalid.get_by_text(todo)).to_be_visible()
        waiting = table.locator("tbody tr", has=page.get_by_text(re.compile(r"Awaiting approval 1")))
        approve = waiting.get_by_role("link", name="Approve its articles")
        await expect(approve).to_have_count(truth["awaiting"])

        # what the run cost: the API's figures for it, and the average over the run's articles
        n_articles = sum(arts.values())
        assert await pairs(page, "run-cost") == {
            "Total": usd(cost["total_usd"]), "Text (LLM)": usd(cost["llm_usd"]),
            "Images": usd(cost["image_usd"]), "Other": usd(cost["other_usd"]),
            "Unpriced records": str(cost["unpriced_records"]),
            "Per article": usd(float(cost["total_usd"]) / n_articles),
        }  # fmt: skip
        await expect(page.get_by_role("img", name=re.compile(r"^Text \(LLM\): \$"))).to_be_visible()

        # the pipeline page: this month's cost per run, a bar for this run that leads to it
        await page.goto(live.url(f"/pipelines/{truth['pipeline_id']}"))
        await expect(page.get_by_test_id("pipeline-cost")).to_have_text(usd(pipeline_month["total_usd"]))
        bars = page.get_by_role("list", name="Cost per run this month")
        bar = bars.locator(f'a[href="/runs/{run_id}"]')
        await expect(bar).to_have_count(1)
        await expect(bar).to_contain_text(usd(this_month["total_usd"]))
        await expect(bar.locator("svg")).to_be_visible()
    finally:
        await ctx.close()


async def test_a_failed_post_is_retried_from_the_posts_page(
    browser: Any, live: LiveApp, truth: dict[str, Any]
) -> None:
    failed = truth["failed"]
    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    try:
        await log_in(page, live, truth["email"], truth["password"])
        await page.goto(live.url("/posts"))
        search = page.get_by_role("search", name="Filter posts")
        await search.get_by_label("Status").select_option("failed")
        await search.get_by_label("Platform").select_option("x")
        await search.get_by_role("button", name="Apply filters").click()
        await page.wait_for_url(lambda u: "status=failed" in u and "platform=x" in u)
        table = page.get_by_test_id("posts")
        row = table.locator("tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.get_by_role("link", name=failed["article_title"])).to_have_attribute(
            "href", f"/articles/{failed['article_id']}"
        )
        await expect(row.get_by_text("Failed", exact=True)).to_be_visible()
        # the account id is cut to fit, the whole of it in its title (on hover)
        await expect(row.locator(f'[title="{failed["account_id"]}"]')).to_have_count(1)
        # the error worded from its code, the platform's own message behind "Details (English)"
        assert failed["error"] and failed["error_code"] == "post.refused", failed
        await expect(row.get_by_text("X refused the post.", exact=True)).to_be_visible()
        await row.get_by_text("Details (English)").click()
        await expect(row.get_by_text(failed["error_params"]["message"], exact=True)).to_be_visible()

        await row.get_by_role("button", name=re.compile(r"^Retry \(X: ")).click()
        await expect(page.get_by_role("status").filter(has_text="Sent again: 1.")).to_be_visible()

        with api(live, truth["token"]) as c:

            def published() -> dict[str, Any] | None:
                post = c.get(f"/v1/posts/{failed['id']}").json()
                return post if post["status"] == "published" else None

            post = await wait_for("the retried post to be published", published, 120, 1.0)
        await page.goto(live.url(f"/posts?run_id={truth['run_id']}&platform=x"))
        row = page.get_by_test_id("posts").locator("tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.get_by_text("Published", exact=True)).to_be_visible()
        await expect(row.get_by_text(post["platform_post_id"], exact=True)).to_be_visible()
        link = row.get_by_role("link", name=re.compile(r"^Open on X"))
        await expect(link).to_have_attribute("href", post["permalink"])
        await expect(link).to_have_attribute("target", "_blank")
    finally:
        await ctx.close()
    with api(live) as c:
        r = c.get(f"{live.social}/_admin/posts", params={"platform": "x", "account_id": truth["x_account"]})
    assert [p["id"] for p in r.json()["posts"]] == [post["platform_post_id"]]  # on X exactly once


async def test_the_plan_limit_is_shown_before_the_consent_page(
    browser: Any, live: LiveApp, truth: dict[str, Any]
) -> None:
    with api(live, truth["token"]) as c:
        usage = c.get("/v1/usage").json()
        assert usage["plan"] == "starter"
        for i in range(usage["connected_accounts_limit"] - usage["connected_accounts"]):
            tok = c.post(f"{live.social}/_admin/tokens", json={"platform": "facebook", "account_id": f"9{i}"})
            body = {"platform": "facebook", "account_id": f"9{i}", "access_token": tok.json()["token"]}
            assert c.post("/v1/credentials", json=body).status_code in (200, 201)
        limit = c.get("/v1/usage").json()["connected_accounts_limit"]
    ctx = await new_context(browser, "ko")
    page = await ctx.new_page()
    try:
        await log_in(page, live, truth["email"], truth["password"])
        await page.goto(live.url("/accounts"))
        note = page.locator("#plan-limit")
        await expect(note).to_contain_text(f"스타터 요금제는 계정을 {limit}개까지 연결할 수 있는데")
        for name in ("Facebook", "Instagram", "Threads", "X", "Google"):
            button = page.get_by_role("button", name=f"{name} 연결", exact=True)
            await expect(button).to_be_disabled()
            await expect(button).to_have_attribute("aria-describedby", "plan-limit")
    finally:
        await ctx.close()


async def test_pages_fit_a_phone_and_korean_headers_wrap_between_words(
    browser: Any, live: LiveApp, truth: dict[str, Any]
) -> None:
    ctx = await new_context(browser, "ko", phone=True)
    page = await ctx.new_page()
    wide: dict[str, int] = {}
    try:
        await log_in(page, live, truth["email"], truth["password"])
        for path in PHONE_PAGES:
            path = path.format(**truth)
            resp = await page.goto(live.url(path))
            assert resp is not None and resp.status == 200, path
            await page.wait_for_load_state("load")
            width = await page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[path] = width
        assert not wide, f"wider than the 390 px viewport: {wide}"

        # at desktop width, no header of the posts table is broken into more than two lines
        await page.set_viewport_size({"width": 1280, "height": 800})
        await page.goto(live.url("/posts"))
        lines = await page.get_by_test_id("posts").evaluate(
            """t => [...t.querySelectorAll("th")].filter(th => th.innerText.trim()).map(th => {
                const r = document.createRange();
                r.selectNodeContents(th);
                const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                return [th.innerText.trim(), tops.size];
            })"""
        )
        assert lines and all(n <= 2 for _, n in lines), lines
    finally:
        await ctx.close()
