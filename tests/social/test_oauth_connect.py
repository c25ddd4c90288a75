"""Connecting accounts through each platform's OAuth flow, end to end: the real gateway app (in process,
on the session database) and the social emulator as a real HTTP server, driven like a browser — the
consent page's HTML form is parsed and submitted with httpx, the redirect read, the code sent back.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit
from uuid import UUID

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from gateway.credentials.oauth_state import STATE_TTL_S, make_state, open_state
from icop.db import tenant_tx
from icop.settings import EMULATOR_OAUTH_APPS, Settings
from icop.social.oauth import s256
from icop.social.tokens import VaultTokenStore
from icop.vault import Vault

from ..gateway.conftest import TenantHandle, sign_up
from .conftest import Emu

DASHBOARD = "http://dash.test:3000"
REDIRECT = f"{DASHBOARD}/accounts/oauth/callback"
# The emulator's default signed-in identity (emulators/social/state.py OAuthIdentity).
EXPECTED = {"facebook": "1010001", "instagram": "1780001", "threads": "27000001", "x": "4400001"}


# ---- a small browser --------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (name, value)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: dict[str, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("type") == "hidden":
            self.forms[-1].hidden[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = {"name": a.get("name", ""), "value": a.get("value", ""), "label": ""}

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._button is not None:
            self._button["label"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            b = self._button
            self.forms[-1].buttons[b["label"].strip()] = (b["name"], b["value"])
            self._button = None


def parse_page(html: str) -> tuple[list[Form], str]:
    p = _FormParser()
    p.feed(html)
    return p.forms, " ".join(" ".join(p.text).split())


async def consent(authorize_url: str, choice: str) -> tuple[str, dict[str, str], str]:
    """Open the consent page, press ``choice`` ("Allow" or "Cancel"); the redirect target, its query and
    the page text."""
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=10) as browser:
        page = await browser.get(authorize_url)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        forms, text = parse_page(page.text)
        (form,) = forms
        assert {"Allow", "Cancel"} <= set(form.buttons), form.buttons
        name, value = form.buttons[choice]
        sent = await browser.request(
            form.method.upper(), urljoin(str(page.url), form.action), data={**form.hidden, name: value}
        )
    assert sent.status_code == 302, sent.text
    location = sent.headers["location"]
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query)), text


# ---- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def oauth_settings(settings: Settings, social_emulator: str) -> Settings:
    return settings.model_copy(
        update={
            "social_graph_base_url": f"{social_emulator}/v21.0",
            "social_threads_base_url": f"{social_emulator}/v1.0",
            "social_x_base_url": social_emulator,
            "social_facebook_dialog_url": f"{social_emulator}/v21.0/dialog/oauth",
            "social_threads_authorize_url": f"{social_emulator}/oauth/authorize",
            "social_threads_oauth_base_url": social_emulator,
            "social_x_authorize_url": f"{social_emulator}/i/oauth2/authorize",
            "dashboard_public_url": DASHBOARD,
            "social_http_timeout_s": 5.0,
            **EMULATOR_OAUTH_APPS,
        }
    )


@pytest.fixture
async def gw(oauth_settings: Settings, app_pool: asyncpg.Pool, emu: Emu) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(oauth_settings, pool=app_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault.from_spec(settings.vault_keys.get_secret_value())


async def start(
    gw: httpx.AsyncClient, t: TenantHandle, platform: str, redirect: str = REDIRECT
) -> dict[str, Any]:
    r = await gw.post(f"/v1/credentials/oauth/{platform}/start", headers=t.h, json={"redirect_uri": redirect})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def finish(
    gw: httpx.AsyncClient, t: TenantHandle, platform: str, query: dict[str, str]
) -> httpx.Response:
    body = {k: query[k] for k in ("code", "state", "error", "error_description") if k in query}
    return await gw.post(f"/v1/credentials/oauth/{platform}/callback", headers=t.h, json=body)


async def use_token(emu: Emu, platform: str, account_id: str, token: str) -> httpx.Response:
    """A call the platform's publishing API only answers for a valid token of that account."""
    h = {"Authorization": f"Bearer {token}"}
    path = {
        "facebook": f"/v21.0/{account_id}/feed",
        "instagram": f"/v21.0/{account_id}/content_publishing_limit",
        "threads": f"/v1.0/{account_id}/threads_publishing_limit",
        "x": "/2/users/me",
    }[platform]
    if platform == "facebook":
        return await emu.http.post(path, headers=h, data={"message": f"hello {uuid.uuid4().hex[:6]}"})
    return await emu.http.get(path, headers=h)


# ---- tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["facebook", "instagram", "threads", "x"])
async def test_connect_end_to_end_through_the_consent_page(
    platform: str, gw: httpx.AsyncClient, emu: Emu, app_pool: asyncpg.Pool, vault: Vault
) -> None:
    t = await sign_up(gw)
    s = await start(gw, t, platform)
    url = urlsplit(s["authorize_url"])
    q = dict(parse_qsl(url.query))
    assert q["state"] == s["state"] and q["redirect_uri"] == REDIRECT and q["client_id"]
    assert url.netloc == urlsplit(emu.base).netloc
    assert datetime.fromisoformat(s["expires_at"]) - datetime.now(UTC) <= timedelta(seconds=STATE_TTL_S)
    sealed = open_state(vault, UUID(t.tenant_id), UUID(t.user_id), platform, s["state"])
    if platform == "x":  # PKCE S256: the challenge is public, the verifier only inside the sealed state
        assert q["code_challenge_method"] == "S256" and sealed.code_verifier
        assert q["code_challenge"] == s256(sealed.code_verifier)
        assert sealed.code_verifier not in s["authorize_url"] and sealed.code_verifier not in s["state"]
        assert "offline.access" in q["scope"].split()
    else:
        assert "code_challenge" not in q and sealed.code_verifier is None

    target, back, page_text = await consent(s["authorize_url"], "Allow")
    assert "ICOP" in page_text and q["scope"].replace(",", " ").split()[0] in page_text
    assert target == REDIRECT and back["state"] == s["state"] and back["code"]

    r = await finish(gw, t, platform, back)
    assert r.status_code == 200, r.text
    (cred,) = r.json()
    assert cred["platform"] == platform and cred["account_id"] == EXPECTED[platform]
    assert cred["status"] == "active" and "token" not in r.text.lower().replace("oauth", "")

    stored = await VaultTokenStore(app_pool, vault).get(UUID(t.tenant_id), platform, EXPECTED[platform])
    assert stored is not None and stored.access_token not in r.text
    if platform == "x":
        assert stored.refresh_token and stored.expires_at is not None
    elif platform == "threads":  # the long-lived token: about 60 days
        assert stored.expires_at is not None and stored.expires_at > datetime.now(UTC) + timedelta(days=59)
    else:  # a Page token derived from a long-lived user token does not expire
        assert stored.expires_at is None and stored.refresh_token is None
    used = await use_token(emu, platform, EXPECTED[platform], stored.access_token)
    assert used.status_code < 300, used.text  # a token the platform's API accepts for that account

    # The code was single use: the same callback again is refused by the platform, with a clear 400.
    again = await finish(gw, t, platform, back)
    assert again.status_code == 400 and again.headers["content-type"].startswith("application/problem+json")
    assert "start the connection again" in again.json()["detail"]

    # Reconnecting an account marked needs_reauth makes it active again (same credential).
    async with tenant_tx(app_pool, UUID(t.tenant_id)) as conn:
        await conn.execute(
            "UPDATE api_credentials SET status = 'needs_reauth', status_reason = 'revoked' WHERE id = $1",
            UUID(cred["id"]),
        )
    s2 = await start(gw, t, platform)
    _, back2, _ = await consent(s2["authorize_url"], "Allow")
    r2 = await finish(gw, t, platform, back2)
    assert r2.status_code == 200, r2.text
    (cred2,) = r2.json()
    assert cred2["id"] == cred["id"] and cred2["status"] == "active" and cred2["status_reason"] is None


async def test_cancel_gives_a_clear_400_and_connects_nothing(gw: httpx.AsyncClient, emu: Emu) -> None:
    t = await sign_up(gw)
    s = await start(gw, t, "threads")
    target, back, _ = await consent(s["authorize_url"], "Cancel")
    assert target == REDIRECT and back["error"] == "access_denied" and back["state"] == s["state"]
    assert "code" not in back
    r = await finish(gw, t, "threads", back)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert "cancelled" in r.json()["detail"] and "Allow" in r.json()["detail"]
    assert (await gw.get("/v1/credentials", headers=t.h)).json() == []


async def test_state_expired_tampered_or_someone_elses_is_refused(
    gw: httpx.AsyncClient, emu: Emu, vault: Vault
) -> None:
    t, other = await sign_up(gw), await sign_up(gw)
    s = await start(gw, t, "x")
    _, back, _ = await consent(s["authorize_url"], "Allow")

    raw = bytearray(base64.urlsafe_b64decode(s["state"] + "=" * (-len(s["state"]) % 4)))
    raw[len(raw) // 2] ^= 0x01  # one bit of the ciphertext
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for state, who, platform in [
        (tampered, t, "x"),
        ("not-a-state", t, "x"),
        (s["state"], other, "x"),  # another tenant's user
        (s["state"], t, "threads"),  # another platform
    ]:
        r = await finish(gw, who, platform, {**back, "state": state})
        assert r.status_code == 400, (state, r.text)
        assert "not started here by you" in r.json()["detail"]

    _, expired = make_state(
        vault,
        UUID(t.tenant_id),
        UUID(t.user_id),
        "x",
        REDIRECT,
        "v" * 64,
        now=datetime.now(UTC).timestamp() - STATE_TTL_S - 1,
    )
    r = await finish(gw, t, "x", {**back, "state": expired})
    assert r.status_code == 400 and "longer than 10 minutes" in r.json()["detail"]

    # The genuine state still works: none of the refusals above spent the code.
    ok = await finish(gw, t, "x", back)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "redirect",
    [
        "http://evil.test/accounts/oauth/callback",
        "https://dash.test:3000/cb",  # another scheme is another origin
        "http://dash.test:3001/cb",
        "http://dash.test:3000@evil.test/cb",
        "http://dash.test:3000/cb#frag",
        "javascript:alert(1)",
        "/relative/only",
    ],
)
async def test_redirect_uri_must_be_on_the_dashboard_origin(gw: httpx.AsyncClient, redirect: str) -> None:
    t = await sign_up(gw)
    r = await gw.post("/v1/credentials/oauth/facebook/start", headers=t.h, json={"redirect_uri": redirect})
    assert r.status_code == 400, r.text
    assert (
        r.headers["content-type"].startswith("application/problem+json")
        and "redirect_uri" in r.json()["detail"]
    )


async def test_emulator_refuses_a_wrong_redirect_uri_and_a_wrong_pkce_verifier(
    gw: httpx.AsyncClient, emu: Emu, vault: Vault
) -> None:
    t = await sign_up(gw)
    apps = (await emu.http.get("/_admin/oauth")).json()["apps"]

    # Facebook: a code is bound to the redirect URI it was issued for.
    s = await start(gw, t, "facebook")
    _, back, _ = await consent(s["authorize_url"], "Allow")
    meta = apps["meta"]
    exchange = {"client_id": meta["client_id"], "client_secret": meta["client_secret"], "code": back["code"]}
    wrong = await emu.http.get(
        "/v21.0/oauth/access_token", params={**exchange, "redirect_uri": f"{DASHBOARD}/other"}
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["error_subcode"] == 36008
    bad_secret = await emu.http.get(
        "/v21.0/oauth/access_token", params={**exchange, "redirect_uri": REDIRECT, "client_secret": "nope"}
    )
    assert bad_secret.status_code == 400
    assert (await finish(gw, t, "facebook", back)).status_code == 200  # the right one still works

    # X: the code is bound to the PKCE challenge; only the verifier sealed in the state opens it.
    s = await start(gw, t, "x")
    _, back, _ = await consent(s["authorize_url"], "Allow")
    x = apps["x"]
    auth = (x["client_id"], x["client_secret"])
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT}
    mismatch = await emu.http.post("/2/oauth2/token", auth=auth, data={**form, "code_verifier": "w" * 64})
    assert mismatch.status_code == 400 and "code_verifier" in mismatch.json()["error_description"]
    no_client = await emu.http.post("/2/oauth2/token", data={**form, "code_verifier": "w" * 64})
    assert no_client.status_code == 401
    verifier = open_state(vault, UUID(t.tenant_id), UUID(t.user_id), "x", s["state"]).code_verifier
    assert verifier
    right = await emu.http.post("/2/oauth2/token", auth=auth, data={**form, "code_verifier": verifier})
    assert right.status_code == 200 and right.json()["refresh_token"], right.text


async def test_instagram_without_a_linked_account_and_roles(gw: httpx.AsyncClient, emu: Emu) -> None:
    t = await sign_up(gw)
    pages = [{"id": "1010009", "name": "No IG Page"}]
    (await emu.http.post("/_admin/oauth", json={"identity": {"pages": pages}})).raise_for_status()
    s = await start(gw, t, "instagram")
    _, back, _ = await consent(s["authorize_url"], "Allow")
    r = await finish(gw, t, "instagram", back)
    assert r.status_code == 400 and "Instagram professional account" in r.json()["detail"]

    # Only editors and admins connect accounts.
    email, pw = f"viewer-{uuid.uuid4().hex[:8]}@example.test", f"pw-{uuid.uuid4().hex}"
    made = await gw.post("/v1/users", headers=t.h, json={"email": email, "password": pw, "role": "viewer"})
    assert made.status_code == 201, made.text
    login = (await gw.post("/v1/auth/login", json={"email": email, "password": pw})).json()
    viewer = {"Authorization": f"Bearer {login['access_token']}"}
    r = await gw.post("/v1/credentials/oauth/x/start", headers=viewer, json={"redirect_uri": REDIRECT})
    assert r.status_code == 403
    r = await gw.post("/v1/credentials/oauth/x/callback", headers=viewer, json={"code": "c", "state": "s"})
    assert r.status_code == 403
