"""Google's OAuth 2.0 for a web server application, as a user and a client see it, plus the identities the
Sheets values API checks its callers against.

* ``GET /o/oauth2/v2/auth`` — the consent page (plain HTML: the app, the scopes, an e-mail field saying who
  is signed in, Allow and Cancel in one form); ``POST`` the same path answers it. Allow redirects to
  ``redirect_uri?code=…&state=…``, Cancel to ``redirect_uri?error=access_denied&state=…``. PKCE (S256 or
  plain) is honoured when a challenge is sent; a refresh token is issued only for ``access_type=offline``.
* ``POST /token`` — ``authorization_code`` (code, redirect URI, client credentials, PKCE verifier),
  ``refresh_token``, and ``urn:ietf:params:oauth:grant-type:jwt-bearer`` (a service account's RS256
  assertion, verified with the public part of a key registered here). Errors in Google's OAuth shape
  (``{"error": "invalid_grant", "error_description": …}``).
* ``POST /revoke`` — revokes a refresh token (with every access token made from it) or one access token.
* ``GET /v1/userinfo`` — ``sub`` and ``email`` of the bearer's identity.

Admin (tests, the demo): ``POST /_admin/google/config`` (``access_token_lifetime_s``; GET also counts the
refreshes answered),
``POST /_admin/google/revoke`` (``{"email"}``: the user removes the app's access from their Google
account), ``POST /_admin/google/service_accounts`` (``{"name"}``: creates a service account and returns
its key file, as the Cloud console's "Create key" download does).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from .core import Context

CLIENT_ID = "icop-emulator-google.apps.googleusercontent.com"
CLIENT_SECRET = "emulator-key"  # icop.settings.EMULATOR_KEY (the emulators import nothing of ICOP)
DEFAULT_USER = "demo.user@gmail.example"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


@dataclass
class Grant:
    """One consent (or one service-account assertion): the identity and the scopes it gave the client."""

    email: str
    client_id: str
    scopes: list[str]
    revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass
class GoogleState:
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    access_token_lifetime_s: float = 3599.0
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # consent pages shown
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    service_keys: dict[str, tuple[str, Any]] = field(default_factory=dict)  # key id -> (email, public key)
    refreshes: int = 0  # refresh_token grants answered with a new access token

    def grant(self, token: str | None) -> Grant | None:
        """The consent behind a live access token; ``None`` for an unknown, expired or revoked one."""
        found = self.access_tokens.get(token or "")
        if found is None or found.grant.revoked or found.expires_at <= time.time():
            return None
        return found.grant

    def identity(self, token: str | None) -> str | None:
        """The e-mail behind a live access token; ``None`` for an unknown, expired or revoked one."""
        found = self.grant(token)
        return found.email if found else None

    def issue(self, grant: Grant) -> dict[str, Any]:
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = AccessToken(grant, time.time() + self.access_token_lifetime_s)
        return {
            "access_token": token,
            "expires_in": int(self.access_token_lifetime_s),
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }


def state_of(ctx: Context) -> GoogleState:
    st = ctx.state.get("google")
    if not isinstance(st, GoogleState):
        st = ctx.state["google"] = GoogleState()
    return st


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body><main>{body}</main></body></html>\n"
    )
    return web.Response(text=doc, status=status, content_type="text/html")


async def authorize_get(request: web.Request) -> web.Response:
    st = state_of(request.app["ctx"])
    q = request.query
    if q.get("client_id") not in st.clients:
        return _page("Error 401: invalid_client", "<h1>Error 401: invalid_client</h1><p>The OAuth client "
                     "was not found.</p>", 401)  # fmt: skip
    redirect_uri = q.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in ("http", "https") or "#" in redirect_uri:
        return _page("Error 400: redirect_uri_mismatch", "<h1>Error 400: redirect_uri_mismatch</h1>", 400)
    if q.get("response_type") != "code":
        return _page("Error 400: invalid_request", "<h1>Error 400: invalid_request</h1>", 400)
    method = q.get("code_challenge_method", "plain")
    if q.get("code_challenge") and method not in ("S256", "plain"):
        return _page("Error 400: invalid_request", "<h1>code_challenge_method must be S256</h1>", 400)
    scopes = [s for s in q.get("scope", "").split() if s]
    rid = secrets.token_urlsafe(16)
    st.requests[rid] = {
        "client_id": q["client_id"],
        "redirect_uri": redirect_uri,
        "state": q.get("state"),
        "scopes": scopes,
        "challenge": q.get("code_challenge"),
        "method": method,
        "offline": q.get("access_type") == "offline",
    }
    who = q.get("login_hint") or DEFAULT_USER
    items = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes)
    body = (
        "<h1>Sign in with Google (emulator)</h1><p>ICOP wants to access your Google Account</p>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="{html.escape(request.path)}">'
        f'<input type="hidden" name="request_id" value="{rid}">'
        f'<label>Signed in as <input type="email" name="email" value="{html.escape(who)}"></label>'
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="cancel">Cancel</button></form>'
    )
    return _page("Sign in - Google Accounts (emulator)", body)


async def authorize_post(request: web.Request) -> web.StreamResponse:
    st = state_of(request.app["ctx"])
    form = await request.post()
    req = st.requests.pop(str(form.get("request_id", "")), None)
    if req is None:
        return _page("Error", "<h1>This request has expired or was already answered.</h1>", 400)
    state = {"state": req["state"]} if req["state"] is not None else {}
    if form.get("decision") != "allow":
        raise web.HTTPFound(_with_query(req["redirect_uri"], {"error": "access_denied", **state}))
    email = str(form.get("email") or DEFAULT_USER).strip().lower()
    code = "4/emu-" + secrets.token_urlsafe(24)
    st.codes[code] = {**req, "email": email, "expires_at": time.time() + 600}
    raise web.HTTPFound(_with_query(req["redirect_uri"], {"code": code, **state}))


def _client(st: GoogleState, request: web.Request, form: Any) -> str | None:
    cid, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
    return str(cid) if cid in st.clients and st.clients[str(cid)] == secret else None


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def token(request: web.Request) -> web.Response:
    st = state_of(request.app["ctx"])
    form = await request.post()
    grant_type = str(form.get("grant_type", ""))
    if grant_type == JWT_BEARER:
        return _jwt_bearer(st, str(form.get("assertion", "")))
    client = _client(st, request, form)
    if client is None:
        return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if grant_type == "authorization_code":
        code = st.codes.pop(str(form.get("code", "")), None)
        if code is None or code["expires_at"] <= time.time() or code["client_id"] != client:
            return _oauth_error("invalid_grant", "Malformed auth code.")
        if code["redirect_uri"] != form.get("redirect_uri"):
            return _oauth_error("redirect_uri_mismatch", "Bad Request")
        if code["challenge"]:
            verifier = str(form.get("code_verifier", ""))
            if not verifier or _challenge(verifier, code["method"]) != code["challenge"]:
                return _oauth_error("invalid_grant", "Missing code verifier.")
        grant = Grant(code["email"], client, code["scopes"])
        out = st.issue(grant)
        if code["offline"]:
            refresh = "1//emu-" + secrets.token_urlsafe(32)
            st.refresh_tokens[refresh] = grant
            out["refresh_token"] = refresh
        return web.json_response(out)
    if grant_type == "refresh_token":
        found = st.refresh_tokens.get(str(form.get("refresh_token", "")))
        if found is None or found.revoked or found.client_id != client:
            return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        st.refreshes += 1
        return web.json_response(st.issue(found))
    return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type!s}")


def _jwt_bearer(st: GoogleState, assertion: str) -> web.Response:
    import jwt

    try:
        kid = jwt.get_unverified_header(assertion).get("kid", "")
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    found = st.service_keys.get(kid)
    if found is None:
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    email, public_key = found
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["iss", "iat", "exp"]},
            leeway=30,
        )
    except jwt.PyJWTError as e:
        return _oauth_error("invalid_grant", f"Invalid JWT: {e}")
    if claims.get("iss") != email:
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    scopes = str(claims.get("scope", "")).split()
    return web.json_response(st.issue(Grant(email, "service-account", scopes)))


async def revoke(request: web.Request) -> web.Response:
    st = state_of(request.app["ctx"])
    form = await request.post()
    tok = str(form.get("token") or request.query.get("token") or "")
    if tok in st.refresh_tokens:
        st.refresh_tokens[tok].revoked = True
        return web.json_response({})
    if tok in st.access_tokens:
        del st.access_tokens[tok]
        return web.json_response({})
    return _oauth_error("invalid_token", "Token expired or revoked")


async def userinfo(request: web.Request) -> web.Response:
    st = state_of(request.app["ctx"])
    auth = request.headers.get("Authorization", "")
    email = st.identity(auth[7:].strip() if auth.lower().startswith("bearer ") else None)
    if email is None:
        return web.json_response(
            {"error": "invalid_request", "error_description": "Invalid Credentials"}, status=401
        )
    sub = str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16))
    return web.json_response({"sub": sub, "email": email, "email_verified": True})


# ---- admin ---------------------------------------------------------------------------------------------


async def admin_config(request: web.Request) -> web.Response:
    """POST sets ``access_token_lifetime_s``; both answer it and the count of refreshes so far."""
    st = state_of(request.app["ctx"])
    if request.method == "POST":
        body = await request.json()
        if "access_token_lifetime_s" in body:
            st.access_token_lifetime_s = float(body["access_token_lifetime_s"])
    return web.json_response(
        {"access_token_lifetime_s": st.access_token_lifetime_s, "refreshes": st.refreshes}
    )


async def admin_revoke(request: web.Request) -> web.Response:
    """The user removes the app's access from their Google account: every grant of that e-mail ends."""
    st = state_of(request.app["ctx"])
    email = str((await request.json()).get("email", "")).lower()
    n = 0
    for grant in {id(g): g for g in st.refresh_tokens.values()}.values():
        if grant.email == email and not grant.revoked:
            grant.revoked, n = True, n + 1
    return web.json_response({"revoked_grants": n})


async def admin_service_account(request: web.Request) -> web.Response:
    """A new service account and its key file (the private key leaves only in this answer)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    st = state_of(request.app["ctx"])
    body = await request.json()
    name = str(body.get("name") or "icop-sheets")
    project = str(body.get("project_id") or "icop-emulator")
    email = f"{name}@{project}.iam.gserviceaccount.com"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = secrets.token_hex(20)
    st.service_keys[kid] = (email, key.public_key())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    root = f"{request.scheme}://{request.host}"
    return web.json_response(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": kid,
            "private_key": pem,
            "client_email": email,
            "client_id": str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)),
            "auth_uri": f"{root}/o/oauth2/v2/auth",
            "token_uri": f"{root}/token",
        }
    )


def add_routes(app: web.Application, ctx: Context) -> None:
    app.router.add_get("/o/oauth2/v2/auth", authorize_get)
    app.router.add_post("/o/oauth2/v2/auth", authorize_post)
    app.router.add_post("/token", token)
    app.router.add_post("/revoke", revoke)
    app.router.add_get("/v1/userinfo", userinfo)
    app.router.add_post("/_admin/google/config", admin_config)
    app.router.add_get("/_admin/google/config", admin_config)
    app.router.add_post("/_admin/google/revoke", admin_revoke)
    app.router.add_post("/_admin/google/service_accounts", admin_service_account)
