"""The Model keys page in a real browser: a Claude key the vendor refused shows as paused with the reason in
the UI's language (the vendor's own words behind the disclosure); resuming checks the key again, and while
Anthropic (the emulator) still refuses it the page says so and the key stays paused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from emulators.client import EmulatorAdmin
from icop.db import create_pool
from icop.modelkeys.rules import pause_for
from icop.modelkeys.secret import ModelKey
from icop.modelkeys.service import TenantModelKeys
from icop.vault import Vault

from .conftest import LiveApp, api, new_context
from .test_flow import sign_up
from .test_screens import log_in

pytestmark = pytest.mark.slow


async def test_a_paused_key_says_why_in_english_and_korean(browser: Any, live: LiveApp) -> None:
    s = live.settings
    vendor = EmulatorAdmin(f"http://{s.bind_host}:{s.emulator_port}")
    ctx = await new_context(browser, "en")
    page = await ctx.new_page()
    key = f"sk-ant-api03-{uuid.uuid4().hex}"
    try:
        email, password = await sign_up(page, live, "Own Keys Ltd")
        with api(live) as anon:
            login = anon.post("/v1/auth/login", json={"email": email, "password": password}).json()
        with api(live, login["access_token"]) as c:
            vendor.add_keys("claude", key)
            r = c.put("/v1/model-keys/claude", json={"key": key, "verify": False})
            assert r.status_code == 201, r.text
        why = pause_for("claude", "auth", "invalid x-api-key")
        assert why is not None
        pool = await create_pool(s.pg_dsn("app"), 1, 1)
        try:  # what an article does when Anthropic refuses the key
            keys = TenantModelKeys(pool, Vault.from_spec(s.vault_keys.get_secret_value()))
            assert await keys.pause(login["tenant_id"], "claude", why, ModelKey(key))
        finally:
            await pool.close()
        vendor.revoke_key("claude", key)  # issued, then revoked by Anthropic

        await page.goto(live.url("/model-keys"))
        card = page.get_by_test_id("key-claude")
        await expect(card.get_by_text("Paused", exact=True)).to_be_visible()
        await expect(card.get_by_test_id("key-claude-pause")).to_contain_text(
            "Anthropic refused your Claude key (wrong, revoked, or not allowed the model). Replace it, or "
            "resume once it is fixed at Anthropic."
        )
        await expect(card.get_by_text(f"…{key[-4:]}")).to_be_visible()
        await expect(page.get_by_test_id("key-gpt").get_by_text("Not set", exact=True)).to_be_visible()
        await card.get_by_role("button", name="Resume").click()
        await expect(card.get_by_text("Anthropic refused this Claude key.")).to_be_visible()
        await expect(card.get_by_text("Paused", exact=True)).to_be_visible()

        ko = await new_context(browser, "ko")
        try:
            kpage = await ko.new_page()
            await log_in(kpage, live, email, password)
            await kpage.goto(live.url("/model-keys"))
            await expect(kpage.get_by_test_id("key-claude-pause")).to_contain_text(
                "Anthropic에서 회사의 Claude 키를 거부했습니다"
            )
        finally:
            await ko.close()
    finally:
        vendor.knobs("claude", revoked_keys=[])
        vendor.close()
        await ctx.close()
