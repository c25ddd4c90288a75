"""The platforms' OAuth 2.0 authorization-code flows, as a user and a client see them.

Consent pages (plain HTML: the app's name, the requested scopes, an "Allow" and a "Cancel" button in
one form) at each platform's documented authorize path:

* Facebook Login dialog ``GET /{version}/dialog/oauth`` (Pages and, with Instagram scopes, the Pages'
  Instagram professional accounts); the code is exchanged at ``GET /{version}/oauth/access_token``,
  the short-lived user token made long-lived with ``grant_type=fb_exchange_token``, and the Pages (with
  their tokens and ``instagram_business_account``) listed by ``GET /me/accounts``.
* Threads ``GET /oauth/authorize`` (threads.net); ``POST /oauth/access_token`` gives a short-lived
  token and ``user_id``, ``GET /access_token?grant_type=th_exchange_token`` the long-lived one.
* X ``GET /i/oauth2/authorize`` with PKCE (``code_challenge``, S256 or plain); ``POST /2/oauth2/token``
  with ``grant_type=authorization_code``, the ``code_verifier`` and the client's Basic credentials.

Allow redirects to ``redirect_uri?code=…&state=…``; Cancel to ``redirect_uri?error=access_denied&…``.
Codes are single use, expire after ``knobs.oauth_code_ttl_s`` and are bound to the client, the
redirect URI and (X) the PKCE challenge. Tokens issued here are the tokens the publishing endpoints
accept (``state.tokens``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import asdict, fields
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .errors import ApiError, graph_error
from .state import OAuthApp, SocialState, Token

_VERSION = re.compile(r"^v\d+(\.\d+)?$")
LONG_LIVED_S = 60 * 86_400
META_SHORT_S = 2 * 3_600
THREADS_SHORT_S = 3_600


class _Flow:
    """One platform's consent page: where it lives, which app it serves, how scopes are written."""

    def __init__(self, key: str, label: str, app: str, scope_sep: str, pkce: bool) -> None:
        self.key, self.label, self.app, self.scope_sep, self.pkce = key, label, app, scope_sep, pkce


FLOWS = {
    ("dialog", "oauth"): _Flow("facebook", "Facebook", "meta", ",", pkce=False),
    ("oauth", "authorize"): _Flow("threads", "Threads", "threads", ",", pkce=False),
    ("i", "oauth2", "authorize"): _Flow("x", "X", "x", " ", pkce=True),
}


def _segs(request: Request) -> tuple[str, ...]:
    segs = [s for s in request.url.path.split("/") if s]
    if segs and _VERSION.match(segs[0]):
        segs = segs[1:]
    return tuple(segs)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def pkce_challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#111}"
        "button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}"
        "button.allow{background:#0b57d0;color:#fff;border:0}</style></head>\n"
        f"<body><main>{body}</main></body>\n</html>\n"
    )
    return HTMLResponse(doc, status_code=status)


def _error_page(flow: _Flow, message: str) -> HTMLResponse:
    return _page(
        f"{flow.label} (emulator): error",
        f'<h1>Something went wrong</h1><p role="alert">{html.escape(message)}</p>',
        400,
    )


class OAuthEmulator:
    """Consent pages and token endpoints over the emulator's shared state."""

    def __init__(self, state: SocialState) -> None:
        self.st = state

    # ---- consent pages ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response | None:
        """The consent page (GET) or the user's answer (POST); ``None`` for any other path."""
        flow = FLOWS.get(_segs(request))
        if flow is None:
            return None
        if request.method == "GET":
            return self._consent(request, flow)
        if request.method == "POST":
            return await self._decide(request, flow)
        return _error_page(flow, "method not allowed")

    def _app(self, flow: _Flow) -> OAuthApp:
        return self.st.oauth_apps[flow.app]

    def _consent(self, request: Request, flow: _Flow) -> Response:
        q = request.query_params
        app = self._app(flow)
        if q.get("client_id") != app.client_id:
            return _error_page(flow, "Invalid App ID: the client_id is not a registered app.")
        redirect_uri = q.get("redirect_uri", "")
        if urlsplit(redirect_uri).scheme not in ("http", "https") or "#" in redirect_uri:
            return _error_page(flow, "URL blocked: redirect_uri must be an absolute http(s) URL.")
        if q.get("response_type", "code") != "code":
            return _error_page(flow, "response_type must be 'code'.")
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if flow.pkce and (not challenge or method not in ("S256", "plain")):
            return _error_page(flow, "PKCE is required: send code_challenge with code_challenge_method S256.")
        raw_scope = q.get("scope", "")
        scopes = [s for s in re.split(r"[,\s]+", raw_scope) if s]
        rid = secrets.token_urlsafe(16)
        self._prune()
        self.st.oauth_requests[rid] = {
            "flow": flow.key,
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "state": q.get("state"),
            "scopes": scopes,
            "challenge": challenge if flow.pkce else None,
            "method": method if flow.pkce else None,
            "created": time.time(),
        }
        who = self._display_name(flow)
        items = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes) or "<li>(none)</li>"
        body = (
            f"<h1>{html.escape(app.name)} wants to access your {flow.label} account</h1>"
            f"<p>Signed in as <strong>{html.escape(who)}</strong> (emulated {flow.label}).</p>"
            f"<h2>Requested permissions</h2><ul>{items}</ul>"
            f'<form method="post" action="{html.escape(request.url.path)}">'
            f'<input type="hidden" name="request_id" value="{rid}">'
            '<button type="submit" class="allow" name="decision" value="allow">Allow</button>'
            '<button type="submit" name="decision" value="cancel">Cancel</button>'
            "</form>"
        )
        return _page(f"Authorize {app.name} - {flow.label} (emulator)", body)

    def _display_name(self, flow: _Flow) -> str:
        ident = self.st.identity
        return {
            "facebook": ident.facebook_user_name,
            "threads": "@" + ident.threads_username,
            "x": "@" + ident.x_username,
        }[flow.key]

    async def _decide(self, request: Request, flow: _Flow) -> Response:
        form = await request.form()
        req = self.st.oauth_requests.pop(str(form.get("request_id", "")), None)
        if req is None or req["flow"] != flow.key:
            return _error_page(flow, "This authorization request has expired or was already answered.")
        state = {"state": req["state"]} if req["state"] is not None else {}
        if form.get("decision") != "allow":
            params = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "The user denied the request.",
                **state,
            }
            return RedirectResponse(_with_query(req["redirect_uri"], params), status_code=302)
        code = secrets.token_urlsafe(32)
        self.st.oauth_codes[code] = {
            **req,
            "expires_at": time.time() + self.st.knobs.oauth_code_ttl_s,
            "used": False,
        }
        return RedirectResponse(_with_query(req["redirect_uri"], {"code": code, **state}), status_code=302)

    def _prune(self) -> None:
        old = time.time() - 3_600
        for rid in [k for k, v in self.st.oauth_requests.items() if v["created"] < old]:
            del self.st.oauth_requests[rid]

    # ---- codes -------------------------------------------------------------------------------------

    def _take_code(
        self, flow: str, code: str, client_id: str, redirect_uri: str, err: Any, verifier: str | None = None
    ) -> dict[str, Any]:
        """The code's record, spent; ``err(kind)`` builds the platform's error for each failure."""
        rec = self.st.oauth_codes.get(code)
        if rec is None or rec["flow"] not in _CODE_FLOWS[flow]:
            raise err("invalid_code")
        if rec["used"]:
            raise err("used")
        if rec["expires_at"] <= time.time():
            raise err("expired")
        if rec["client_id"] != client_id:
            raise err("invalid_code")
        if rec["redirect_uri"] != redirect_uri:
            raise err("redirect_uri")
        if verifier is not None and pkce_challenge(verifier, rec["method"] or "plain") != rec["challenge"]:
            raise err("verifier")
        rec["used"] = True  # single use, whatever happens next
        return rec

    # ---- Meta: Facebook Login (Pages, Instagram) -------------------------------------------------

    def meta_code_exchange(self, p: dict[str, Any]) -> dict[str, Any]:
        """``GET /oauth/access_token?client_id&client_secret&redirect_uri&code``: a short-lived user token."""
        app = self.st.oauth_apps["meta"]
        if p.get("client_id") != app.client_id:
            raise graph_error(400, "Error validating application. Invalid application ID.", 101)
        if p.get("client_secret") != app.client_secret:
            raise graph_error(400, "Error validating client secret.", 1)

        def err(kind: str) -> ApiError:
            messages = {
                "invalid_code": ("Invalid verification code format.", 36007),
                "used": ("This authorization code has been used.", 36009),
                "expired": ("This authorization code has expired.", 36007),
                "redirect_uri": (
                    "Error validating verification code. Please make sure your redirect_uri is identical "
                    "to the one you used in the OAuth dialog request",
                    36008,
                ),
            }
            msg, sub = messages[kind]
            return graph_error(400, msg, 100, sub)

        rec = self._take_code(
            "meta", str(p.get("code", "")), app.client_id, str(p.get("redirect_uri", "")), err
        )
        tok = self.st.new_token()
        user = self.st.identity.facebook_user_id
        self.st.tokens[tok] = Token(
            tok, "facebook", user, time.time() + META_SHORT_S, scopes=tuple(rec["scopes"])
        )
        return {"access_token": tok, "token_type": "bearer", "expires_in": META_SHORT_S}

    def me(self, tok: Token) -> dict[str, Any]:
        ident = self.st.identity
        if tok.platform == "threads":
            return {"id": tok.account_id, "username": ident.threads_username}
        if tok.account_id == ident.facebook_user_id:
            return {"id": tok.account_id, "name": ident.facebook_user_name}
        for page in ident.pages:
            if page["id"] == tok.account_id:
                return {"id": page["id"], "name": page["name"]}
        return {"id": tok.account_id}

    def me_accounts(self, tok: Token, fields: str) -> dict[str, Any]:
        """``GET /me/accounts``: the user's Pages, each with a Page token (and its Instagram account)."""
        ident = self.st.identity
        if tok.platform != "facebook" or tok.account_id != ident.facebook_user_id:
            raise graph_error(
                400, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100
            )
        want_ig = "instagram_business_account" in fields and "instagram_basic" in tok.scopes
        # A Page token derived from a long-lived user token does not expire; from a short-lived one it
        # lives as long as the user token.
        long_lived = tok.expires_at is None or tok.expires_at - time.time() > 86_400
        data = []
        for page in ident.pages:
            page_tok = self.st.new_token()
            expires = None if long_lived else tok.expires_at
            self.st.tokens[page_tok] = Token(page_tok, "facebook", page["id"], expires, scopes=tok.scopes)
            item: dict[str, Any] = {
                "id": page["id"],
                "name": page["name"],
                "access_token": page_tok,
                "category": "Coffee shop",
                "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            }
            ig = page.get("instagram")
            if ig:
                self.st.page_instagram[page["id"]] = ig["id"]
                if want_ig:
                    item["instagram_business_account"] = {"id": ig["id"], "username": ig["username"]}
            data.append(item)
        return {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}}}

    # ---- Threads --------------------------------------------------------------------------------------

    def threads_code_exchange(self, p: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth/access_token`` (authorization_code): a short-lived token and the user id."""
        app = self.st.oauth_apps["threads"]
        if p.get("grant_type") != "authorization_code":
            raise graph_error(400, "(#100) Unsupported grant_type", 100, type_="THApiException")
        if p.get("client_id") != app.client_id or p.get("client_secret") != app.client_secret:
            raise graph_error(400, "Error validating client secret.", 1, type_="THApiException")

        def err(kind: str) -> ApiError:
            text = {
                "invalid_code": "Invalid authorization code.",
                "used": "This authorization code has been used.",
                "expired": "This authorization code has expired.",
                "redirect_uri": "Error validating verification code: redirect_uri does not match.",
            }[kind]
            return graph_error(400, text, 100, 36009 if kind == "used" else 36007, type_="THApiException")

        rec = self._take_code(
            "threads", str(p.get("code", "")), app.client_id, str(p.get("redirect_uri", "")), err
        )
        tok = self.st.new_token()
        user = self.st.identity.threads_user_id
        self.st.tokens[tok] = Token(
            tok, "threads", user, time.time() + THREADS_SHORT_S, scopes=tuple(rec["scopes"])
        )
        return {"access_token": tok, "user_id": int(user) if user.isdigit() else user}

    def threads_long_lived(self, p: dict[str, Any]) -> dict[str, Any]:
        """``GET /access_token?grant_type=th_exchange_token&client_secret&access_token``: 60 days."""
        app = self.st.oauth_apps["threads"]
        if p.get("grant_type") != "th_exchange_token":
            raise graph_error(400, "(#100) Unsupported grant_type", 100, type_="THApiException")
        if p.get("client_secret") != app.client_secret:
            raise graph_error(400, "Error validating client secret.", 1, type_="THApiException")
        old = self.st.tokens.get(str(p.get("access_token", "")))
        if (
            old is None
            or old.platform != "threads"
            or old.revoked
            or (old.expires_at is not None and old.expires_at <= time.time())
        ):
            raise graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        tok = self.st.new_token()
        self.st.tokens[tok] = Token(
            tok, "threads", old.account_id, time.time() + LONG_LIVED_S, scopes=old.scopes
        )
        return {"access_token": tok, "token_type": "bearer", "expires_in": LONG_LIVED_S}

    # ---- X ----------------------------------------------------------------------------------------------

    def x_code_exchange(self, request: Request, p: dict[str, Any]) -> dict[str, Any]:
        """``POST /2/oauth2/token`` (grant_type=authorization_code) for a confidential client (Basic auth)."""
        app = self.st.oauth_apps["x"]
        client_id = _basic_client(request, app)
        if client_id is None:
            raise ApiError(
                401,
                {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
            )

        def err(kind: str) -> ApiError:
            what = "code_verifier" if kind == "verifier" else "authorization code"
            return ApiError(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"Value passed for the {what} was invalid.",
                },
            )

        # The PKCE verifier is checked before the code is spent: only its rightful client can use it.
        verifier = str(p.get("code_verifier", ""))
        rec = self._take_code(
            "x", str(p.get("code", "")), client_id, str(p.get("redirect_uri", "")), err, verifier
        )
        st, ttl = self.st, self.st.knobs.x_access_token_ttl_s
        access = st.new_token()
        refresh = st.new_token() if "offline.access" in rec["scopes"] else None
        user = st.identity.x_user_id
        st.tokens[access] = Token(
            access, "x", user, time.time() + ttl, refresh_token=refresh, scopes=tuple(rec["scopes"])
        )
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": ttl,
            "access_token": access,
            "scope": " ".join(rec["scopes"]),
        }
        if refresh:
            st.x_refresh[refresh] = {
                "account_id": user,
                "used": False,
                "revoked": False,
                "client_id": client_id,
            }
            body["refresh_token"] = refresh
        return body

    def refresh_client(self, request: Request, p: dict[str, Any]) -> str | None:
        """The authenticated client of a refresh-token grant (Basic credentials; a public client's id)."""
        app = self.st.oauth_apps["x"]
        if request.headers.get("authorization", "").lower().startswith("basic "):
            return _basic_client(request, app)
        return str(p.get("client_id")) if not app.client_secret and p.get("client_id") else None

    # ---- admin ------------------------------------------------------------------------------------------

    def admin(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``GET /_admin/oauth``: apps and identity; ``POST`` with ``apps`` or ``identity`` sets them."""
        st = self.st
        if method == "POST":
            for key, values in (body.get("apps") or {}).items():
                if key not in st.oauth_apps:
                    return 400, {"error": f"unknown app {key!r}: use {sorted(st.oauth_apps)}"}, {}
                st.oauth_apps[key] = OAuthApp(**{**asdict(st.oauth_apps[key]), **values})
            ident = body.get("identity") or {}
            known = {f.name for f in fields(st.identity)}
            if set(ident) - known:
                return 400, {"error": f"unknown identity fields: {sorted(set(ident) - known)}"}, {}
            for key, value in ident.items():
                setattr(st.identity, key, value)
        apps = {
            k: {"client_id": v.client_id, "client_secret": v.client_secret, "name": v.name}
            for k, v in st.oauth_apps.items()
        }
        return 200, {"apps": apps, "identity": asdict(st.identity)}, {}


_CODE_FLOWS = {"meta": {"facebook"}, "threads": {"threads"}, "x": {"x"}}


def _basic_client(request: Request, app: OAuthApp) -> str | None:
    """The client id when the Basic credentials are the app's (X confidential clients)."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    cid, secret = unquote(cid), unquote(secret)
    if cid != app.client_id or not secrets.compare_digest(secret, app.client_secret):
        return None
    return cid
