"""The ``state`` of an OAuth connect flow: sealed (AES-256-GCM by the vault), so it is both signed and
unreadable by the browser that carries it.

It binds the tenant and the user who started the flow and the platform (the associated data: a state
made for another tenant, user or platform does not open), and holds the redirect URI the code will be
exchanged with, the expiry and, for X, the PKCE code verifier. Nothing is kept on the server.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

from icop.errors import DecryptionRefused
from icop.vault import SecretRef, Vault

STATE_TTL_S = 600


class StateInvalid(Exception):
    """Not a state this server made for this tenant, user and platform (or it was altered)."""


class StateExpired(Exception):
    """A genuine state, older than :data:`STATE_TTL_S`."""


@dataclass(frozen=True)
class OAuthState:
    platform: str
    redirect_uri: str
    expires_at: int
    code_verifier: str | None = None


def _ref(tenant_id: UUID, user_id: UUID, platform: str) -> SecretRef:
    return SecretRef(tenant_id, user_id, platform, "oauth_state")


def make_state(
    vault: Vault,
    tenant_id: UUID,
    user_id: UUID,
    platform: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    now: float | None = None,
) -> tuple[OAuthState, str]:
    """A new state and its sealed, URL-safe text (``now`` is for tests of expiry)."""
    st = OAuthState(
        platform, redirect_uri, int((now if now is not None else time.time()) + STATE_TTL_S), code_verifier
    )
    payload = {"r": st.redirect_uri, "e": st.expires_at, "v": st.code_verifier, "n": secrets.token_hex(6)}
    blob = vault.encrypt(json.dumps(payload, separators=(",", ":")), _ref(tenant_id, user_id, platform))
    return st, base64.urlsafe_b64encode(blob).decode().rstrip("=")


def open_state(
    vault: Vault, tenant_id: UUID, user_id: UUID, platform: str, text: str, *, now: float | None = None
) -> OAuthState:
    """The state's content; :class:`StateInvalid` or :class:`StateExpired` otherwise."""
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(vault.decrypt(blob, _ref(tenant_id, user_id, platform)))
        st = OAuthState(platform, str(payload["r"]), int(payload["e"]), payload.get("v"))
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError, DecryptionRefused) as e:
        raise StateInvalid from e
    if st.expires_at <= (now if now is not None else time.time()):
        raise StateExpired
    return st
