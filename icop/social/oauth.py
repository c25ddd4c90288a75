"""OAuth 2.0 connect flows for the publishing platforms: the authorize URL, then the code exchange and
whatever each platform needs after it to name the accounts that can be published to.

* Facebook Pages and Instagram: Facebook Login (``/{version}/dialog/oauth``); the code is exchanged at
  ``/oauth/access_token``, the short-lived user token made long-lived (``fb_exchange_token``), and
  ``/me/accounts`` lists the user's Pages with a Page token each (a Page token derived from a long-lived
  user token does not expire) and, for Instagram, the Page's ``instagram_business_account``. A Page's
  token is what publishes to the Page and to its Instagram professional account.
* Threads: ``threads.net/oauth/authorize``; ``POST graph.threads.net/oauth/access_token`` gives a
  short-lived token and the user id, ``GET graph.threads.net/access_token?grant_type=th_exchange_token``
  a 60-day token (renewed later by ``th_refresh_token``).
* X: OAuth 2.0 with PKCE (S256), ``x.com/i/oauth2/authorize`` and ``POST api.x.com/2/oauth2/token``
  with the client's Basic credentials; ``offline.access`` brings a (rotating) refresh token;
  ``GET /2/users/me`` names the account.

Plain ``httpx`` (see :mod:`icop.social.clients` for why no SDK). Tokens leave this module only inside
:class:`ConnectedAccount`, for the caller to encrypt; they are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from icop.connectors.http import tls_context
from icop.settings import Settings

from .clients import OAuthTokens


class _NoQueryInHttpxLog(logging.Filter):
    """httpx logs each request's full URL at INFO; the token endpoints take secrets in the query string
    (Meta's and Threads' documented GET exchanges), so their query strings never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.copy_with(query=b"redacted") if isinstance(a, httpx.URL) and a.query else a
                for a in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _NoQueryInHttpxLog) for f in _httpx_log.filters):
    _httpx_log.addFilter(_NoQueryInHttpxLog())

# Publishing, and reading the posts' engagement back (icop.insights): insights need their own permissions.
FACEBOOK_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights")
INSTAGRAM_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
)
THREADS_SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_insights")
X_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


class OAuthFailure(Enum):
    DENIED = "denied"  # the user said no at the platform
    REFUSED = "refused"  # the platform refused the code or the client (expired, used, mismatched)
    NO_ACCOUNTS = "no_accounts"  # signed in, but nothing to publish to (no Page, no Instagram account)
    UNAVAILABLE = "unavailable"  # the platform could not be reached or answered with a server error
    NOT_CONFIGURED = "not_configured"  # no client id/secret for this platform


class OAuthError(Exception):
    """A connect flow that cannot finish; ``message`` says what to do and never holds a token."""

    def __init__(self, platform: str, kind: OAuthFailure, message: str) -> None:
        super().__init__(f"{platform}: {message}")
        self.platform, self.kind, self.message = platform, kind, message


@dataclass(frozen=True)
class OAuthClientApp:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class ConnectedAccount:
    """One account the user connected: what to store (encrypted) and show."""

    platform: str
    account_id: str
    account_name: str
    tokens: OAuthTokens = field(repr=False)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (RFC 7636: 43–128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class OAuthConnector(Protocol):
    platform: str
    uses_pkce: bool

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str | None = None) -> str: ...

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> list[ConnectedAccount]: ...


def _expires(body: dict[str, Any]) -> datetime | None:
    seconds = body.get("expires_in")
    if seconds in (None, "", 0):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


class _Base:
    platform = ""
    uses_pkce = False

    def __init__(self, app: OAuthClientApp, *, timeout: float = 20.0, http: httpx.AsyncClient | None = None):
        self.app, self.timeout, self._http = app, timeout, http

    def _check_configured(self) -> None:
        if not self.app.client_id or not self.app.client_secret:
            raise OAuthError(
                self.platform,
                OAuthFailure.NOT_CONFIGURED,
                f"no {self.platform} app is configured on this server (client id and secret); "
                "ask the operator to set them",
            )

    async def _call(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        """One request; platform errors become :class:`OAuthError` with the platform's own words."""
        try:
            if self._http is not None:
                resp = await self._http.request(method, url, **kw)
            else:
                opened = httpx.AsyncClient(timeout=self.timeout, trust_env=False, verify=tls_context())
                async with opened as http:
                    resp = await http.request(method, url, **kw)
        except httpx.HTTPError as e:
            raise OAuthError(
                self.platform,
                OAuthFailure.UNAVAILABLE,
                f"{self.platform} could not be reached ({type(e).__name__}); try again in a moment",
            ) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 500:
            raise OAuthError(
                self.platform,
                OAuthFailure.UNAVAILABLE,
                f"{self.platform} answered {resp.status_code}; try again in a moment",
            )
        if resp.status_code >= 400 or not isinstance(body, dict):
            raise OAuthError(
                self.platform,
                OAuthFailure.REFUSED,
                f"{self.platform} refused the sign-in ({_platform_message(body, resp)}); start the "
                "connection again",
            )
        return body

    def _need(self, body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if value in (None, ""):
            raise OAuthError(
                self.platform, OAuthFailure.REFUSED, f"{self.platform} answered without {key}; try again"
            )
        return str(value)


def _platform_message(body: Any, resp: httpx.Response) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):  # Graph API
            return str(err.get("message") or err.get("type") or resp.reason_phrase)[:200]
        if isinstance(err, str):  # OAuth 2.0 (X)
            return f"{err}: {body.get('error_description', '')}".strip(": ")[:200]
        if body.get("detail"):
            return str(body["detail"])[:200]
    return f"HTTP {resp.status_code}"


class MetaPagesOAuth(_Base):
    """Facebook Login for Pages (``platform="facebook"``) or their Instagram accounts (``"instagram"``)."""

    def __init__(
        self,
        platform: str,
        app: OAuthClientApp,
        dialog_url: str,
        graph_base_url: str,
        *,
        timeout: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(app, timeout=timeout, http=http)
        if platform not in ("facebook", "instagram"):
            raise ValueError(platform)
        self.platform = platform
        self.dialog_url, self.graph = dialog_url, graph_base_url.rstrip("/")
        self.scopes = FACEBOOK_SCOPES if platform == "facebook" else INSTAGRAM_SCOPES

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        self._check_configured()
        q = {
            "client_id": self.app.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.scopes),
        }
        return f"{self.dialog_url}?{urlencode(q)}"

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> list[ConnectedAccount]:
        self._check_configured()
        app = self.app
        short = await self._call(
            "GET",
            f"{self.graph}/oauth/access_token",
            params={
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        long = await self._call(
            "GET",
            f"{self.graph}/oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "fb_exchange_token": self._need(short, "access_token"),
            },
        )
        user_token = self._need(long, "access_token")
        fields = "id,name,access_token"
        if self.platform == "instagram":
            fields += ",instagram_business_account{id,username}"
        pages: list[dict[str, Any]] = []
        url: str | None = f"{self.graph}/me/accounts"
        params: dict[str, Any] | None = {"fields": fields, "limit": 100}
        for _ in range(20):  # paging.next; 2,000 Pages is more than anyone administers
            if url is None:
                break
            body = await self._call(
                "GET", url, params=params, headers={"Authorization": f"Bearer {user_token}"}
            )
            pages.extend(p for p in body.get("data", []) if isinstance(p, dict))
            url, params = (body.get("paging") or {}).get("next"), None
        return self._accounts(pages)

    def _accounts(self, pages: list[dict[str, Any]]) -> list[ConnectedAccount]:
        # A Page token derived from a long-lived user token does not expire (Meta's docs): no expiry.
        scopes = tuple(self.scopes)
        out: list[ConnectedAccount] = []
        for page in pages:
            token = page.get("access_token")
            if not token:
                continue  # a Page the user cannot publish to (no task granted)
            tokens = OAuthTokens(str(token), None, None, scopes)
            if self.platform == "facebook":
                out.append(ConnectedAccount("facebook", str(page["id"]), str(page.get("name", "")), tokens))
            else:
                ig = page.get("instagram_business_account")
                if isinstance(ig, dict) and ig.get("id"):
                    name = str(ig.get("username") or page.get("name", ""))
                    out.append(ConnectedAccount("instagram", str(ig["id"]), name, tokens))
        if not out:
            what = (
                "no Facebook Page you manage was shared"
                if self.platform == "facebook"
                else "none of the shared Facebook Pages has an Instagram professional account linked"
            )
            raise OAuthError(
                self.platform,
                OAuthFailure.NO_ACCOUNTS,
                f"{what}; link one (Meta Business Suite) and connect again, choosing that Page",
            )
        return out


class ThreadsOAuth(_Base):
    platform = "threads"

    def __init__(
        self,
        app: OAuthClientApp,
        authorize_url: str,
        oauth_base_url: str,
        api_base_url: str,
        *,
        timeout: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(app, timeout=timeout, http=http)
        self._authorize, self.oauth_base = authorize_url, oauth_base_url.rstrip("/")
        self.api = api_base_url.rstrip("/")

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        self._check_configured()
        q = {
            "client_id": self.app.client_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(THREADS_SCOPES),
            "response_type": "code",
            "state": state,
        }
        return f"{self._authorize}?{urlencode(q)}"

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> list[ConnectedAccount]:
        self._check_configured()
        short = await self._call(
            "POST",
            f"{self.oauth_base}/oauth/access_token",
            data={
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        long = await self._call(
            "GET",
            f"{self.oauth_base}/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self.app.client_secret,
                "access_token": self._need(short, "access_token"),
            },
        )
        token = self._need(long, "access_token")
        me = await self._call(
            "GET",
            f"{self.api}/me",
            params={"fields": "id,username"},
            headers={"Authorization": f"Bearer {token}"},
        )
        account_id = self._need({"id": me.get("id") or short.get("user_id")}, "id")
        tokens = OAuthTokens(token, None, _expires(long), THREADS_SCOPES)
        return [ConnectedAccount("threads", account_id, str(me.get("username", "")), tokens)]


class XOAuth(_Base):
    platform = "x"
    uses_pkce = True

    def __init__(
        self,
        app: OAuthClientApp,
        authorize_url: str,
        api_base_url: str,
        *,
        timeout: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(app, timeout=timeout, http=http)
        self._authorize, self.api = authorize_url, api_base_url.rstrip("/")

    def _check_configured(self) -> None:
        if not self.app.client_id:  # a public client (no secret) is allowed by X with PKCE
            super()._check_configured()

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        self._check_configured()
        if not code_challenge:
            raise ValueError("X needs a PKCE code challenge")
        q = {
            "response_type": "code",
            "client_id": self.app.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(X_SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._authorize}?{urlencode(q)}"

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> list[ConnectedAccount]:
        self._check_configured()
        if not code_verifier:
            raise ValueError("X needs the PKCE code verifier")
        data = {
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": self.app.client_id,
        }
        auth = (self.app.client_id, self.app.client_secret) if self.app.client_secret else None
        body = await self._call("POST", f"{self.api}/2/oauth2/token", data=data, auth=auth)
        token = self._need(body, "access_token")
        me = await self._call("GET", f"{self.api}/2/users/me", headers={"Authorization": f"Bearer {token}"})
        found = me.get("data")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        tokens = OAuthTokens(
            token,
            body.get("refresh_token"),
            _expires(body),
            tuple(str(body.get("scope", "")).split()),
        )
        return [ConnectedAccount("x", self._need(user, "id"), str(user.get("username", "")), tokens)]


def build_connectors(s: Settings, http: httpx.AsyncClient | None = None) -> dict[str, OAuthConnector]:
    """One connector per platform, apps and URLs from settings (the social emulator in embedded mode)."""
    meta = OAuthClientApp(s.social_meta_app_id, s.social_meta_app_secret.get_secret_value())
    kw: dict[str, Any] = {"timeout": s.social_http_timeout_s, "http": http}
    return {
        "facebook": MetaPagesOAuth(
            "facebook", meta, s.social_facebook_dialog_url, s.social_graph_base_url, **kw
        ),
        "instagram": MetaPagesOAuth(
            "instagram", meta, s.social_facebook_dialog_url, s.social_graph_base_url, **kw
        ),
        "threads": ThreadsOAuth(
            OAuthClientApp(s.social_threads_app_id, s.social_threads_app_secret.get_secret_value()),
            s.social_threads_authorize_url,
            s.social_threads_oauth_base_url,
            s.social_threads_base_url,
            **kw,
        ),
        "x": XOAuth(
            OAuthClientApp(s.social_x_client_id, s.social_x_client_secret.get_secret_value()),
            s.social_x_authorize_url,
            s.social_x_base_url,
            **kw,
        ),
    }
