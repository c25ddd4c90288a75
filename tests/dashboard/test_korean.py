"""The dashboard in Korean, as a new Korean user meets it, in a real browser:

- a fresh sign-up reaches published posts (on the emulated platforms) with no step outside the UI: sign
  up → connect three platforms (the Starter plan's accounts) through their consent pages → a pipeline
  from a CSV plan of the user's own (uploaded and checked in the form) → a back-fill → the posts,
  published with the platforms' ids; at desktop and phone width (390 px), where no page may scroll
  sideways;
- a wrong password is said in Korean on the login page, and a ``next`` with Korean in it (``/articles?q=한``)
  brings the user there after logging in (it used to answer 500);
- an API error shown in a form is worded from its code in Korean (a plan file that is not UTF-8, refused
  by the gateway), never the gateway's English.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .conftest import LiveApp, api, new_context, record
from .test_flow import RUN_LIMIT_S, UUID

pytestmark = pytest.mark.slow

PLAN = "topic,notes,language\n제주 감귤 농장 체험 여행,가족 여행객을 위한 안내,ko\n"
PLATFORMS = {"facebook": "Facebook", "threads": "Threads", "x": "X"}  # Starter: three accounts


async def no_sideways_scroll(page: Page, where: str) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{where}: {width} px wide at {viewport['width']} px"


async def sign_up_in_korean(page: Page, live: LiveApp) -> tuple[str, str]:
    email, password = f"kim-{uuid.uuid4().hex[:8]}@example.test", f"감귤-{uuid.uuid4().hex[:12]}-농장"
    await page.goto(live.url("/signup"))
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await page.locator("#company_name").fill("제주 감귤 여행사")
    await page.locator("#display_name").fill("김다나")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("main form button[type=submit]").click()
    await expect(page.get_by_role("heading", name="개요", exact=True)).to_be_visible()
    return email, password


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
async def test_a_korean_sign_up_reaches_published_posts(
    browser: Any, live: LiveApp, tmp_path: Path, phone: bool
) -> None:
    t0 = time.monotonic()
    ctx = await new_context(browser, "ko", phone=phone)
    page = await ctx.new_page()
    try:
        await _first_run(page, live, tmp_path)
    except Exception:
        await page.screenshot(path=str(live.logs["gateway"].parent / "failure-korean.png"), full_page=True)
        print(live.log_tails())
        raise
    finally:
        await ctx.close()
    width = "phone" if phone else "desktop"
    record(f"korean first run, {width} (sign-up to published posts)", time.monotonic() - t0)


async def _first_run(page: Page, live: LiveApp, tmp_path: Path) -> None:
    email, password = await sign_up_in_korean(page, live)
    await no_sideways_scroll(page, "overview")

    for platform, name in PLATFORMS.items():
        await page.goto(live.url("/accounts"))
        await page.get_by_role("button", name=f"{name} 연결").click()
        await page.wait_for_url(lambda u: u.startswith(live.social))  # the platform's own consent page
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url(lambda u: u.startswith(live.dashboard))
        await expect(page.get_by_text(re.compile(r"^연결됨: "))).to_be_visible(timeout=30_000)
        del platform
    await no_sideways_scroll(page, "accounts")

    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    await page.goto(live.url("/pipelines/new"))
    await no_sideways_scroll(page, "new pipeline")
    await page.locator("#name").fill("제주 여행 계획")
    await page.locator('input[name="plan_source"][value="file"]').check()
    await page.locator("#plan_file").set_input_files(str(plan))
    await page.get_by_role("button", name="이 파일 확인").click()
    check = page.get_by_test_id("plan-check")
    await expect(check.get_by_text("제주 감귤 농장 체험 여행")).to_be_visible()
    await no_sideways_scroll(page, "plan check")
    await page.locator("#subtopics_per_topic").fill("1")
    targets = page.locator('input[name="targets"]')
    for i in range(await targets.count()):
        await targets.nth(i).check()
    await expect(page.locator('input[name="dry_run"]')).not_to_be_checked()
    await page.get_by_role("button", name="파이프라인 만들기").click()
    await page.wait_for_url(re.compile(rf"/pipelines/{UUID}(\?.*)?$"))
    await no_sideways_scroll(page, "pipeline")

    await page.get_by_role("button", name="백필 시작").click()
    await page.wait_for_url(re.compile(rf"/runs/{UUID}$"))
    await no_sideways_scroll(page, "run")
    await expect(page.get_by_role("progressbar", name="진행 상황")).to_be_visible()

    # the posts page fills in as the run publishes; each published post has its platform's id
    deadline = time.monotonic() + RUN_LIMIT_S
    # the status badges in the posts table (the status filter's options say "게시됨" too)
    published = page.get_by_test_id("posts").get_by_text("게시됨", exact=True)
    while True:
        await page.goto(live.url("/posts"))
        if await published.count() >= len(PLATFORMS):
            break
        assert time.monotonic() < deadline, "the posts were not published in time"
        await page.wait_for_timeout(3000)
    await no_sideways_scroll(page, "posts")
    with api(live) as c:
        token = c.post("/v1/auth/login", json={"email": email, "password": password}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        posts = c.get("/v1/posts").json()["items"]
    assert sorted(p["platform"] for p in posts) == sorted(PLATFORMS), posts
    assert all(p["status"] == "published" and p["platform_post_id"] for p in posts), posts
    await page.goto(live.url("/articles"))
    await no_sideways_scroll(page, "articles")


async def test_login_errors_are_korean_and_next_may_be_korean(
    browser: Any, live: LiveApp, tmp_path: Path
) -> None:
    email, password = f"lee-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    with api(live) as c:
        r = c.post("/v1/auth/signup", json={"company_name": "서울 커피 연구소", "email": email,
                                            "password": password})  # fmt: skip
        assert r.status_code == 202, r.text
    ctx = await new_context(browser, "ko")
    page = await ctx.new_page()
    try:
        await page.goto(live.url("/login"))
        await page.locator("#email").fill(email)
        await page.locator("#password").fill("not-the-password")
        await page.locator("main form button[type=submit]").click()
        await expect(page.locator("main").get_by_role("alert")).to_have_text(
            "이메일 또는 비밀번호가 올바르지 않습니다."
        )
        assert "/login" in page.url and "next=%2Flogin" not in page.url, page.url

        resp = await page.goto(live.url("/login?next=%2Farticles%3Fq%3D%ED%95%9C"))
        assert resp is not None and resp.status == 200
        await page.locator("#email").fill(email)
        await page.locator("#password").fill(password)
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_url(lambda u: "/articles" in u)
        assert page.url.endswith("/articles?q=%ED%95%9C"), page.url
        await expect(page.get_by_role("heading", name="아티클", exact=True)).to_be_visible()

        # an API error in a form, worded from its code: a plan file that is not UTF-8 text
        bad = tmp_path / "plan.csv"
        bad.write_bytes("topic\n제주 여행\n".encode("euc-kr"))
        await page.goto(live.url("/pipelines/new"))
        await page.locator('input[name="plan_source"][value="file"]').check()
        await page.locator("#plan_file").set_input_files(str(bad))
        await page.get_by_role("button", name="이 파일 확인").click()
        alert = page.locator("main").get_by_role("alert")
        await expect(alert).to_contain_text("UTF-8 텍스트가 아닙니다")
        text = await alert.inner_text()
        assert not re.search(r"\b(the|plan|export)\b", text), text
    finally:
        await ctx.close()
