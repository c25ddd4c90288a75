"""Each main page of the dashboard, in English and Korean: an axe scan (axe-core from the dashboard's own
packages, injected into the page) finds no serious or critical violation, no page is wider than a 390-px
phone, the Korean pages render no English message (a piece of the English catalogue that the Korean one
does not share, or the API's raw English: see catalogue.py), and a screenshot at desktop (1280×800) and
phone (390×844) width is written to the artifacts folder (``docs/screenshots/`` with ``make screenshots``).

The pages show real data: the tenant, pipeline, run and articles the main flow (test_flow.py) made; if it
did not run or did not get that far, a tenant is set up through the API instead (the same back-fill,
approved through the API).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from cluster.dashboard import DASHBOARD_DIR

from .catalogue import RENDERED_TEXT_JS, Catalogues, compile_catalogues, english_in
from .conftest import PHONE, LiveApp, api, new_context, record, set_plan
from .test_flow import FLOW, PLATFORMS

pytestmark = pytest.mark.slow

AXE = DASHBOARD_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# (file name, path, heading the page shows in English, in Korean is checked by language only)
PUBLIC_PAGES = [("login", "/login"), ("signup", "/signup")]
APP_PAGES = [
    ("overview", "/"),
    ("pipelines", "/pipelines"),
    ("pipeline-new", "/pipelines/new"),
    ("pipeline", "/pipelines/{pipeline_id}"),
    ("run", "/runs/{run_id}"),
    ("articles", "/articles"),
    ("article", "/articles/{article_id}"),
    ("posts", "/posts"),
    ("calendar", "/calendar"),
    ("analytics", "/analytics"),
    ("accounts", "/accounts"),
    ("model-keys", "/model-keys"),
    ("webhooks", "/webhooks"),
    ("api-keys", "/api-keys"),
    ("users", "/users"),
    ("settings", "/settings"),
    ("not-found", "/pipelines/00000000-0000-4000-8000-000000000000"),
]


AXE_SECONDS: list[float] = []


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it is now."""
    t0 = time.monotonic()
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
        }"""
    )
    AXE_SECONDS.append(time.monotonic() - t0)
    return [v for v in result if v["impact"] in BLOCKING]


async def log_in(page: Page, live: LiveApp, email: str, password: str) -> None:
    await page.goto(live.url("/login"))
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("main form button[type=submit]").click()  # "Log in" or "로그인"
    await page.wait_for_url(lambda u: "/login" not in u)


async def settle(page: Page) -> None:
    """Loaded (images included) and fonts ready, so that a screenshot shows the page as a user sees it.
    Not "network idle": the run page keeps its event stream open."""
    await page.wait_for_load_state("load")
    await page.evaluate("document.fonts.ready.then(() => true)")


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory: pytest.TempPathFactory) -> Catalogues:
    return compile_catalogues(tmp_path_factory.mktemp("i18n"))


async def layout_problems(page: Page, lang: str, cat: Catalogues) -> list[str]:
    """At phone width: wider than the viewport, or (Korean) English messages on the page."""
    found = []
    width = await page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        found.append(f"{width} px wide")
    if lang == "ko":
        found += [f"English: {t}" for t in english_in(await page.evaluate(RENDERED_TEXT_JS, lang), cat)]
    return found


async def test_pages_are_accessible_and_screenshotted(
    browser: Any, live: LiveApp, artifacts: Path, logs_dir: Path, catalogues: Catalogues
) -> None:
    t0 = time.monotonic()
    data = FLOW if {"email", "run_id", "article_id"} <= FLOW.keys() else await _seed_through_api(live)
    record(
        "  screens: tenant data" + (" (from the main flow)" if data is FLOW else " (seeded via API)"),
        time.monotonic() - t0,
    )
    problems: dict[str, list[dict[str, Any]]] = {}
    layout: dict[str, list[str]] = {}
    shots: list[Path] = []
    for lang in ("en", "ko"):
        ctx = await new_context(browser, lang)
        page = await ctx.new_page()
        try:
            pages = [(name, path, False) for name, path in PUBLIC_PAGES]
            pages += [(name, path.format(**data), True) for name, path in APP_PAGES]
            logged_in = False
            for name, path, needs_login in pages:
                if needs_login and not logged_in:
                    await log_in(page, live, data["email"], data["password"])
                    logged_in = True
                resp = await page.goto(live.url(path))
                assert resp is not None
                expected = 404 if name == "not-found" else 200
                assert resp.status == expected, (lang, path, resp.status)
                # a web-first assertion (retried until it holds or 5 s pass): read once right after the
                # response, it was missing on one clean-clone run (Korean not-found page; not reproduced)
                await expect(page.locator("html"), f"{lang} {path}").to_have_attribute("lang", lang)
                await expect(page.locator("h1").first).to_be_visible()
                await settle(page)
                # axe on the desktop layout in English and the phone layout in Korean
                if lang == "en":
                    found = await axe_violations(page)
                    if found:
                        problems[f"{lang} {path}"] = found
                shot = artifacts / f"{name}-{lang}-desktop.png"
                await page.screenshot(path=str(shot))
                shots.append(shot)
                await page.set_viewport_size(PHONE)
                await settle(page)
                if found_layout := await layout_problems(page, lang, catalogues):
                    layout[f"{lang} {path}"] = found_layout
                if lang == "ko":
                    found = await axe_violations(page)
                    if found:
                        problems[f"{lang} phone {path}"] = found
                shot = artifacts / f"{name}-{lang}-phone.png"
                await page.screenshot(path=str(shot))
                shots.append(shot)
                await page.set_viewport_size({"width": 1280, "height": 800})
        finally:
            await ctx.close()
    record("screens: axe scans + screenshots (2 languages × 2 widths)", time.monotonic() - t0)
    record(f"  of which {len(AXE_SECONDS)} axe scans", sum(AXE_SECONDS))
    (logs_dir / "axe-violations.json").write_text(json.dumps(problems, indent=1, ensure_ascii=False) + "\n")
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)[:8000]
    assert not layout, json.dumps(layout, indent=1, ensure_ascii=False)[:8000]
    assert all(s.stat().st_size > 5_000 for s in shots), [s.name for s in shots if s.stat().st_size <= 5_000]
    assert len(shots) == 4 * (len(PUBLIC_PAGES) + len(APP_PAGES))


async def _seed_through_api(live: LiveApp) -> dict[str, Any]:
    """Without the main flow's tenant: the same data through the API (accounts by emulator tokens, the
    example plan in the Sheets emulator, a back-fill, the first article approved)."""
    from .test_flow import RUN_LIMIT_S, google_plan_sheet

    email, password = f"shots-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    with api(live) as c:
        r = c.post("/v1/auth/signup", json={"company_name": "Seoul Coffee Lab", "email": email,
                                            "password": password})  # fmt: skip
        assert r.status_code == 202, r.text
        r = c.post("/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        sheet_id = await google_plan_sheet(live, uuid.UUID(c.get("/v1/auth/me").json()["tenant_id"]))
        set_plan(live, r.json()["access_token"], "growth")  # four platforms: more than starter's accounts
        targets = []
        for i, platform in enumerate(PLATFORMS):
            tok = c.post(
                f"{live.social}/_admin/tokens", json={"platform": platform, "account_id": f"7700{i}"}
            )
            tok.raise_for_status()
            body = {"platform": platform, "account_id": f"7700{i}", "account_name": f"Lab {platform}",
                    "access_token": tok.json()["token"]}  # fmt: skip
            assert c.post("/v1/credentials", json=body).status_code in (200, 201)
            targets.append({"platform": platform, "account_id": f"7700{i}"})
        r = c.post("/v1/pipelines", json={"name": "Example plan", "source_kind": "sheet",
                                          "sheet_id": sheet_id, "targets": targets,
                                          "subtopics_per_topic": 1, "approval_required": True})  # fmt: skip
        assert r.status_code == 201, r.text
        pipeline_id = r.json()["id"]
        r = c.post(f"/v1/pipelines/{pipeline_id}/runs", json={"kind": "backfill"})
        assert r.status_code in (201, 202), r.text
        run_id = r.json()["id"]
        deadline = time.monotonic() + RUN_LIMIT_S
        while True:
            arts = c.get("/v1/articles", params={"run_id": run_id}).json()
            arts = arts["items"] if isinstance(arts, dict) else arts
            waiting = [a for a in arts if a["status"] == "awaiting_approval"]
            if waiting:
                break
            assert time.monotonic() < deadline, "no article reached awaiting_approval"
            await asyncio.sleep(2)
        article_id = waiting[0]["id"]
        assert c.post(f"/v1/articles/{article_id}/approve", json={}).status_code == 202
    return {"email": email, "password": password, "pipeline_id": pipeline_id, "run_id": run_id,
            "article_id": article_id}  # fmt: skip
