"""Rules of the OAuth connect flow: the redirect URI must be on the dashboard's origin; the state is
sealed and bound (see :mod:`.oauth_state`); the accounts a successful sign-in yields are stored through
:func:`.service.connect` (encrypted, upserted by platform and account id; a reconnect clears
``needs_reauth``). Tokens are never returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from icop.errors import DomainError
from icop.settings import Settings
from icop.social.oauth import OAuthError, OAuthFailure, pkce_pair

from ..context import Tx
from . import service
from .oauth_state import StateExpired, StateInvalid, make_state, open_state
from .schemas import CredentialCreate, CredentialOut, OAuthCallback, OAuthStart, OAuthStartOut

LABELS = {
    "google": "Google",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "threads": "Threads",
    "x": "X",
}


class ConnectRefused(DomainError):
    status, title, code = 400, "Account not connected", "account.connect_refused"


class PlatformUnavailable(DomainError):
    status, title, code = 502, "Platform unavailable", "platform.unavailable"


class PlatformNotConfigured(DomainError):
    status, title, code = 503, "Platform app not configured", "platform.not_configured"


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # ValueError for a port out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def allowed_origins(s: Settings) -> set[str]:
    """The dashboard's origins: ``ICOP_DASHBOARD_PUBLIC_URL`` (comma-separated), plus the embedded
    stack's own dashboard port in development."""
    urls = [u for u in s.dashboard_public_url.split(",") if u.strip()]
    port = getattr(s, "dashboard_port", None)
    if s.env == "development" and port:
        urls.append(f"http://{s.bind_host}:{port}")
    return {o for o in map(_origin, urls) if o}


def check_redirect_uri(uri: str, s: Settings) -> str:
    parts = urlsplit(uri)
    origin = _origin(uri)
    if origin is None or parts.username is not None or parts.password is not None or parts.fragment:
        raise ConnectRefused("redirect_uri must be an absolute http(s) URL without user info or fragment")
    if origin not in allowed_origins(s):
        raise ConnectRefused(
            f"redirect_uri must be on the dashboard's origin ({', '.join(sorted(allowed_origins(s)))}); "
            f"{origin} is not (set ICOP_DASHBOARD_PUBLIC_URL to add one)"
        )
    return uri


def _raise_for(platform: str, e: OAuthError) -> None:
    if e.kind is OAuthFailure.UNAVAILABLE:
        raise PlatformUnavailable(e.message) from None
    if e.kind is OAuthFailure.NOT_CONFIGURED:
        raise PlatformNotConfigured(e.message) from None
    raise ConnectRefused(e.message) from None


async def start(tx: Tx, platform: str, body: OAuthStart) -> OAuthStartOut:
    redirect_uri = check_redirect_uri(body.redirect_uri, tx.services.settings)
    connector = tx.services.oauth_connectors[platform]
    verifier, challenge = pkce_pair() if connector.uses_pkce else (None, None)
    st, text = make_state(tx.services.vault, tx.tenant_id, tx.who.actor_id, platform, redirect_uri, verifier)
    try:
        url = connector.authorize_url(redirect_uri, text, challenge)
    except OAuthError as e:
        _raise_for(platform, e)
        raise
    return OAuthStartOut(authorize_url=url, state=text, expires_at=datetime.fromtimestamp(st.expires_at, UTC))


async def callback(tx: Tx, platform: str, body: OAuthCallback) -> list[CredentialOut]:
    label = LABELS[platform]
    try:
        st = open_state(tx.services.vault, tx.tenant_id, tx.who.actor_id, platform, body.state)
    except StateExpired:
        raise ConnectRefused(
            f"the {label} sign-in took longer than 10 minutes; start the connection again"
        ) from None
    except StateInvalid:
        raise ConnectRefused(
            f"this {label} sign-in was not started here by you (the state does not match); start the "
            "connection again from the dashboard"
        ) from None
    if body.error is not None:
        if body.error == "access_denied":
            raise ConnectRefused(
                f"the {label} connection was cancelled at {label}; nothing was connected. Start again and "
                "choose Allow to connect the account"
            )
        raise ConnectRefused(f"{label} did not grant access ({body.error}); start the connection again")
    assert body.code is not None  # the schema requires code or error
    try:
        accounts = await tx.services.oauth_connectors[platform].exchange(
            body.code, st.redirect_uri, st.code_verifier
        )
    except OAuthError as e:
        _raise_for(platform, e)
        raise
    out = []
    for a in accounts:
        cred = CredentialCreate(
            platform=a.platform,
            account_id=a.account_id.replace("\x00", "")[:200],
            account_name=a.account_name.replace("\x00", "")[:200],
            access_token=SecretStr(a.tokens.access_token),
            refresh_token=SecretStr(a.tokens.refresh_token) if a.tokens.refresh_token else None,
            scopes=[s[:100] for s in a.tokens.scopes][:50],
            expires_at=a.tokens.expires_at,
        )
        stored, _ = await service.connect(tx, cred)
        out.append(stored)
    return out
