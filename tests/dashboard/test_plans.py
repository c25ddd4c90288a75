"""Choosing a pipeline's content plan in the dashboard, in a real browser against the live stack:

- a Google Sheet: "Connect Google" on the new-pipeline form goes through the Google OAuth emulator's consent
  page and back to the form, which lists the account's spreadsheets (through the Drive emulator); picking
  one and "Check this sheet" shows its rows with each row's problems and whether the Subtopics tab is there;
  the pipeline is created on that sheet, with the status note column chosen;
- a CSV file (Korean UI, phone width): "Check this file" uploads it and shows its rows and problems in
  Korean, the pipeline is created on the stored file, and its page offers the results as a download.

Tables and the form fit a 390-px phone: the page never scrolls sideways.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from emulators.client import EmulatorAdmin

from .conftest import PHONE, ROOT, LiveApp, api, new_context
from .test_flow import UUID, sign_up

pytestmark = pytest.mark.slow

PLAN = ROOT / "examples" / "plan.csv"  # 4 valid rows (2 English, 2 Korean), a formula and an empty topic
HEADER = ["topic", "notes", "language", "status", "result"]
SUBTOPICS = ["row", "topic", "sub-topic", "status", "url"]


def read_text(path: str | Path) -> str:
    """A downloaded file's text (a byte-order mark dropped): small files, read once."""
    return Path(path).read_text(encoding="utf-8-sig")


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {page.viewport_size}"


async def test_pick_a_sheet_check_it_and_create_the_pipeline(
    browser: Any, live: LiveApp, artifacts: Path
) -> None:
    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    admin = EmulatorAdmin(f"http://{live.settings.bind_host}:{live.settings.emulator_port}")
    try:
        email, password = await sign_up(page, live, "Sheet Pickers Ltd")
        google = f"plans-{uuid.uuid4().hex[:8]}@gmail.example"
        plan_id, bare_id, other_id = (f"pick-{uuid.uuid4().hex[:10]}" for _ in range(3))
        rows = [HEADER, ["Home coffee", "beginners", "en", ""], ["", "no topic here", "", ""],
                ["제주도 여행", "", "ko", "done"]]  # fmt: skip
        admin.seed_sheet(plan_id, {"ContentPlan": rows, "Subtopics": [SUBTOPICS]}, owner=google,
                         title="Coffee plan 2026", modified_time="2026-01-02T10:00:00Z")  # fmt: skip
        admin.seed_sheet(bare_id, {"ContentPlan": rows[:2]}, owner=google, title="Draft without tabs",
                         modified_time="2025-12-01T10:00:00Z")  # fmt: skip
        admin.seed_sheet(
            other_id, {"ContentPlan": rows}, owner="someone-else@gmail.example", title="Not yours"
        )

        # Not connected yet: the form offers to connect Google, through Google's consent page and back.
        await page.goto(live.url("/pipelines/new"))
        identity = page.get_by_test_id("google-identity")
        await expect(
            identity.get_by_text("Connect the Google account your plan sheets are in.")
        ).to_be_visible()
        await identity.get_by_role("button", name="Connect Google").click()
        await page.wait_for_url(lambda u: "/o/oauth2/v2/auth" in u)
        await page.get_by_label("Signed in as").fill(google)
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url(re.compile(r"/pipelines/new\?connected="), timeout=30_000)
        await expect(
            identity.get_by_text(f"Plans are read and written as the Google account {google}.")
        ).to_be_visible()

        # The account's spreadsheets, newest first; someone else's is not among them.
        sheets = page.get_by_test_id("spreadsheets")
        await expect(sheets.locator("li")).to_have_count(2)
        await expect(sheets.locator("li").first).to_contain_text("Coffee plan 2026")
        await expect(sheets).not_to_contain_text("Not yours")

        # A sheet without the Subtopics tab says so.
        await page.get_by_label(re.compile("Draft without tabs")).check()
        await expect(page.get_by_label("Sheet ID or link")).to_have_value(bare_id)
        await page.get_by_role("button", name="Check this sheet").click()
        check = page.get_by_test_id("plan-check")
        await expect(check.get_by_text("There is no Subtopics tab.", exact=False)).to_be_visible()

        # The plan: each row with its problems, the Subtopics tab found, read as the tenant's account.
        await page.get_by_label(re.compile("Coffee plan 2026")).check()
        await expect(check).to_have_count(0)  # another sheet: the old check is gone
        await page.get_by_role("button", name="Check this sheet").click()
        await expect(
            check.get_by_text("Rows that will run: 2 (1 not done yet). Rows that will be skipped: 1.")
        ).to_be_visible()
        await expect(check.get_by_text("The Subtopics tab is there.")).to_be_visible()
        await expect(check.get_by_text(f"Read as {google}, as runs will read it.")).to_be_visible()
        table = check.get_by_test_id("plan-rows")
        await expect(table.locator("tbody tr")).to_have_count(3)
        bad = table.locator("tbody tr").nth(1)
        await expect(bad).to_contain_text(
            "Column A: the topic is empty: write a main topic or delete the row"
        )
        await expect(table.locator("tbody tr").nth(0)).to_contain_text("Will run")

        # A sheet the account was not given: the check names the e-mail to share it with.
        await page.get_by_label("Sheet ID or link").fill(
            f"https://docs.google.com/spreadsheets/d/{other_id}/edit"
        )
        await page.get_by_role("button", name="Check this sheet").click()
        await expect(page.get_by_text(re.compile(f"add {re.escape(google)} as Editor"))).to_be_visible()
        # the same refusal in Korean, worded from the API's code (sheet.not_shared with the e-mail)
        await page.get_by_role("button", name="한국어").click()
        await expect(page.locator("html")).to_have_attribute("lang", "ko")
        await page.locator("#sheet_id").fill(f"https://docs.google.com/spreadsheets/d/{other_id}/edit")
        await page.get_by_role("button", name="이 시트 확인").click()
        await expect(
            page.get_by_text(re.compile(f"{re.escape(google)}을\\(를\\) 편집자로 추가하거나"))
        ).to_be_visible()
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")

        # Help, the template, the status note column; on a phone nothing scrolls sideways.
        await page.get_by_label(re.compile("Coffee plan 2026")).check()
        await page.get_by_role("button", name="Check this sheet").click()
        await expect(check).to_be_visible()
        await page.get_by_text("How to lay out the plan").click()
        await expect(
            page.get_by_text("A, topic: the main topic (required, up to 200 characters).")
        ).to_be_visible()
        template = page.get_by_role("link", name="Download the CSV template")
        async with page.expect_download() as got:
            await template.click()
        body = await (await got.value).path()
        assert body is not None
        assert "topic,notes,language,status,result" in read_text(body)
        await page.screenshot(path=str(artifacts / "plan-sheet-check-en-desktop.png"), full_page=True)
        await page.set_viewport_size(PHONE)
        await no_sideways_scroll(page)
        await page.screenshot(path=str(artifacts / "plan-sheet-check-en-phone.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 800})

        await page.get_by_label("Name", exact=True).fill("Picked plan")
        await page.get_by_label("Status note column").select_option("G")
        await page.get_by_role("button", name="Create pipeline").click()
        await page.wait_for_url(re.compile(rf"/pipelines/{UUID}(\?.*)?$"))
        await expect(page.get_by_text("Pipeline created.")).to_be_visible()
        await expect(page.get_by_text(f"Google Sheet: {plan_id} (ContentPlan!A2:E)")).to_be_visible()
        pipeline_id = re.search(UUID, page.url.split("/pipelines/")[1])
        assert pipeline_id
        with api(live) as c:
            token = c.post("/v1/auth/login", json={"email": email, "password": password}).json()[
                "access_token"
            ]
            got_pipeline = c.get(f"/v1/pipelines/{pipeline_id.group(0)}",
                                 headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
        assert (got_pipeline["source_kind"], got_pipeline["sheet_id"]) == ("sheet", plan_id)
        assert got_pipeline["settings"]["status_note_column"] == "G"

        # Editing keeps the sheet and the note column; saving changes nothing else.
        await page.get_by_role("link", name="Edit").click()
        await expect(page.get_by_label("Sheet ID or link")).to_have_value(plan_id)
        await expect(page.get_by_label("Status note column")).to_have_value("G")
        await expect(page.get_by_label(re.compile("Coffee plan 2026"))).to_be_checked()
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("Saved.")).to_be_visible()
        await expect(page.get_by_text(f"Google Sheet: {plan_id} (ContentPlan!A2:E)")).to_be_visible()
    except Exception:
        await page.screenshot(
            path=str(live.logs["gateway"].parent / "failure-pick-a-sheet.png"), full_page=True
        )
        print(live.log_tails())
        raise
    finally:
        admin.close()
        await ctx.close()


async def test_upload_a_csv_and_see_its_check_in_korean_on_a_phone(
    browser: Any, live: LiveApp, artifacts: Path
) -> None:
    email, password = f"csv-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    with api(live) as c:
        r = c.post("/v1/auth/signup", json={"company_name": "CSV Lab", "email": email, "password": password})
        assert r.status_code == 202, r.text
    ctx = await new_context(browser, "ko", phone=True)
    page = await ctx.new_page()
    try:
        await page.goto(live.url("/login"))
        await page.locator("#email").fill(email)
        await page.locator("#password").fill(password)
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_url(lambda u: "/login" not in u)

        await page.goto(live.url("/pipelines/new"))
        await page.get_by_label("CSV 또는 XLSX 업로드").check()
        await page.set_input_files("#plan_file", str(PLAN))
        await page.get_by_role("button", name="이 파일 확인").click()
        check = page.get_by_test_id("plan-check")
        await expect(
            check.get_by_text("4개 행을 실행합니다(아직 안 된 행 4개). 2개 행은 건너뜁니다.")
        ).to_be_visible()
        table = check.get_by_test_id("plan-rows")
        await expect(table.locator("tbody tr")).to_have_count(6)
        await expect(table).to_contain_text("A열: 주제가 비어 있습니다. 주제를 쓰거나 행을 지우세요")
        await expect(table).to_contain_text("수식으로 실행합니다")
        await expect(table).to_contain_text("홈카페 커피 추출")
        problems = " ".join(await table.locator("li").all_inner_texts())
        assert "write a main topic" not in problems  # the gateway's English, re-worded
        await no_sideways_scroll(page)
        await page.screenshot(path=str(artifacts / "plan-file-check-ko-phone.png"), full_page=True)

        await page.get_by_label("이름", exact=True).fill("CSV 계획")
        await page.get_by_role("button", name="파이프라인 만들기").click()
        await page.wait_for_url(re.compile(rf"/pipelines/{UUID}(\?.*)?$"))
        await expect(page.get_by_text("파이프라인을 만들었습니다.")).to_be_visible()
        await expect(page.get_by_text("CSV 파일", exact=True)).to_be_visible()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(artifacts / "plan-file-pipeline-ko-phone.png"), full_page=True)
        async with page.expect_download() as got:
            await page.get_by_role("link", name="결과 내려받기").click()
        path = await (await got.value).path()
        assert path is not None
        text = read_text(path)
        assert text.startswith("topic,notes,language,status,result") and "제주도 여행" in text
    except Exception:
        await page.screenshot(
            path=str(live.logs["gateway"].parent / "failure-upload-csv.png"), full_page=True
        )
        print(live.log_tails())
        raise
    finally:
        await ctx.close()
