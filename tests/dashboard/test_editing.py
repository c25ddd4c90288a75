"""Acting before publishing, in a real browser against the live stack: an article awaiting approval is given
another writer's draft and edited in the Markdown editor (its preview follows the typing), approved with a
publish time in the tenant's time zone, its post moved to a few seconds from now, and the post goes out
with the edited text (on the social emulator). The page has no serious or critical axe violation while it
awaits approval, nor while the post is scheduled.

Lean on purpose: a one-row plan, one target, the tenant and run set up through the API.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from cluster.sheet_pipeline import seed_tenant_sheet
from emulators.client import EmulatorAdmin
from icop.db import create_pool

from .conftest import LiveApp, api, new_context, record
from .test_screens import axe_violations, log_in

pytestmark = pytest.mark.slow

ZONE = "Asia/Seoul"
PLAN = {
    "ContentPlan": [["topic", "notes", "language", "status", "result"], ["Cold brew at home", "", "en", ""]],
    "Subtopics": [["row", "topic", "sub-topic", "status", "url"]],
}


async def _awaiting_article(live: LiveApp) -> dict[str, Any]:
    """A tenant (time zone Asia/Seoul) whose one-row run has an article awaiting approval, to Threads."""
    email, password = f"edit-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    account = f"27{uuid.uuid4().int % 10**8:08d}"
    with api(live) as c:
        r = c.post("/v1/auth/signup", json={"company_name": "Edit Lab", "email": email, "password": password})
        assert r.status_code == 202, r.text
        r = c.post("/v1/auth/login", json={"email": email, "password": password})
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        assert c.patch("/v1/tenant", json={"timezone": ZONE}).status_code == 200
        tenant_id = uuid.UUID(c.get("/v1/auth/me").json()["tenant_id"])
        sheet_id = f"edit-{uuid.uuid4().hex[:12]}"
        admin = EmulatorAdmin(f"http://{live.settings.bind_host}:{live.settings.emulator_port}")
        pool = await create_pool(live.settings.pg_dsn("app"), 1, 1)
        try:
            await seed_tenant_sheet(live.settings, pool, admin, tenant_id, sheet_id, PLAN, "Edit plan")
            # every answer of the Editor breaks: its scores come from the rubric, shown as a fallback
            admin.knobs("gpt", bad_json_count=live.settings.structured_max_attempts)
        finally:
            await pool.close()
            admin.close()
        tok = c.post(f"{live.social}/_admin/tokens", json={"platform": "threads", "account_id": account})
        tok.raise_for_status()
        cred = {"platform": "threads", "account_id": account, "access_token": tok.json()["token"]}
        assert c.post("/v1/credentials", json=cred).status_code in (200, 201)
        target = {"platform": "threads", "account_id": account}
        r = c.post("/v1/pipelines", json={"name": "Edit plan", "source_kind": "sheet", "sheet_id": sheet_id,
                                          "targets": [target], "subtopics_per_topic": 1, "dry_run": False,
                                          "approval_required": True})  # fmt: skip
        assert r.status_code == 201, r.text
        run = c.post(f"/v1/pipelines/{r.json()['id']}/runs", json={}).json()
        deadline = time.monotonic() + 240
        while True:
            arts = c.get("/v1/articles", params={"run_id": run["id"]}).json()["items"]
            if arts and arts[0]["status"] == "awaiting_approval":
                break
            assert time.monotonic() < deadline, f"no article awaits approval: {arts}"
            await asyncio.sleep(2)
        knobs = EmulatorAdmin(f"http://{live.settings.bind_host}:{live.settings.emulator_port}")
        knobs.knobs("gpt", bad_json_count=0)  # whatever is left of it is not the next test's
        knobs.close()
    return {"email": email, "password": password, "token": c.headers["Authorization"], "target": target,
            "article": arts[0]["id"]}  # fmt: skip


def _wall(at: datetime) -> str:
    """``at`` as a datetime-local value in the tenant's zone."""
    return at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M:%S")


async def test_edit_approve_for_later_reschedule_and_see_it_published(browser: Any, live: LiveApp) -> None:
    t0 = time.monotonic()
    data = await _awaiting_article(live)
    record("  editing: an article awaiting approval (API)", time.monotonic() - t0)
    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    try:
        await log_in(page, live, data["email"], data["password"])
        await _edit_and_schedule(page, live, data)
    except Exception:
        await page.screenshot(path=str(live.logs["gateway"].parent / "failure-editing.png"), full_page=True)
        print(live.log_tails())
        raise
    finally:
        await ctx.close()
    record("editing: edit, approve for later, reschedule, published (browser)", time.monotonic() - t0)


async def _edit_and_schedule(page: Page, live: LiveApp, data: dict[str, Any]) -> None:
    aid = data["article"]
    await page.goto(live.url(f"/articles/{aid}"))

    # what a rule wrote instead of an agent is said before anything is approved
    fallbacks = page.get_by_role("region", name="Written by rules instead of agents")
    await expect(fallbacks.get_by_text(re.compile(r"^Editor's scores: .*3 attempts in all"))).to_be_visible()

    # another writer's draft becomes the article, then it is edited, the preview following the typing
    drafts = page.get_by_test_id("drafts")
    claude = drafts.locator("article", has=page.get_by_role("heading", name="Claude", exact=True))
    winner = drafts.locator("article", has=page.get_by_text("Winner", exact=True))
    if await claude.get_by_text("Winner", exact=True).count():  # Claude won: take another draft
        claude = drafts.locator("article", has=page.get_by_role("heading", name="GPT", exact=True))
    await expect(winner.get_by_text("In use")).to_be_visible()
    await claude.get_by_role("button", name="Use this draft").click()
    await expect(page.get_by_text(re.compile(r"'s draft is now the article\."))).to_be_visible()
    await expect(claude.get_by_text("Your choice")).to_be_visible()

    editor = page.get_by_role("region", name="Edit before approving")
    title = f"Edited cold brew {uuid.uuid4().hex[:6]}"
    await editor.get_by_label("Title").fill(title)
    await editor.get_by_label("Summary").fill("Steeped overnight, approved as edited.")
    await editor.get_by_label("Text (Markdown)").fill("## Why cold\n\nSmoother and **sweeter**, edited.")
    preview = editor.get_by_test_id("edit-preview")
    await expect(preview.get_by_role("heading", name="Why cold")).to_be_visible()
    await expect(preview.locator("strong", has_text="sweeter")).to_be_visible()
    await editor.get_by_role("button", name="Save changes").click()
    await expect(editor.get_by_role("status")).to_have_text(re.compile(r"^Changes saved\."))
    await expect(page.locator("main h1")).to_have_text(title)
    assert not await axe_violations(page), "axe: the article page awaiting approval"

    # approved for an hour from now, typed in the tenant's zone (Asia/Seoul)
    hour = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    approval = page.get_by_role("region", name="Approval")
    await expect(approval.get_by_text(f"In {ZONE}.", exact=False)).to_be_visible()
    await approval.get_by_label("Publish at (optional)").fill(_wall(hour)[:16])
    await approval.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text(re.compile(r"^Approved: the posts will be published at "))).to_be_visible()
    schedule = page.get_by_role("region", name="Publish times")
    await expect(schedule.get_by_test_id("post-schedule").locator("li")).to_have_count(1, timeout=60_000)
    with api(live) as c:
        c.headers["Authorization"] = data["token"]
        [post] = c.get("/v1/posts", params={"article_id": aid}).json()["items"]
    assert post["status"] == "scheduled" and datetime.fromisoformat(post["not_before"]) == hour, post
    assert not await axe_violations(page), "axe: the article page with a scheduled post"

    # moved to a few seconds from now: it goes out, with the edited text
    soon = datetime.now(UTC) + timedelta(seconds=10)
    target = data["target"]
    await schedule.get_by_label(f"New time for Threads ({target['account_id']})").fill(_wall(soon))
    await schedule.get_by_role("button", name="Move").click()
    posts = page.get_by_role("region", name="Posts")
    await expect(posts.locator("tbody").get_by_text("Published", exact=True)).to_be_visible(timeout=90_000)
    await expect(page.get_by_role("region", name="Publish times")).to_have_count(0)
    async with httpx.AsyncClient(base_url=live.social, trust_env=False, timeout=30) as http:
        [held] = (await http.get("/_admin/posts", params=target)).json()["posts"]
    # the edited title and summary (Threads' 500 characters may shorten the summary after its first words)
    assert held["text"].startswith(f"{title}\n\nSteeped overnight"), held["text"]
    assert held["created_at"] >= soon.replace(microsecond=0).timestamp(), (held["created_at"], soon)
