"""A Google service account's key file (the JSON the Cloud console hands out), checked before it is stored,
and the google-auth credentials made from it.

Checked: it is a service-account key (``type``), it names the account (``client_email``) and its key id,
and its ``private_key`` is an RSA private key in PEM. Its ``token_uri`` is ignored: tokens are always asked
of the configured Google token endpoint, so a crafted key file cannot send the signed assertion elsewhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import google.oauth2.service_account

from icop.errors import InvalidRequest

from .oauth import SERVICE_ACCOUNT_SCOPES

PLATFORM = "google_service_account"
_EMAIL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}@[a-z0-9.-]+\.iam\.gserviceaccount\.com$")
_HOW = "download a new JSON key (Google Cloud console → IAM → Service accounts → Keys → Add key → JSON)"


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    private_key_id: str
    info: dict[str, Any] = field(repr=False)  # the whole key file, private key included

    def to_json(self) -> str:
        return json.dumps(self.info, separators=(",", ":"))


def parse_key(raw: str | dict[str, Any]) -> ServiceAccountKey:
    """The key file, checked; :class:`InvalidRequest` saying what is wrong and what to do otherwise."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        info = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        raise InvalidRequest(f"the service-account key is not JSON; {_HOW}") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise InvalidRequest(
            f'this is not a service-account key (its "type" must be "service_account"); {_HOW}'
        )
    email = str(info.get("client_email", "")).strip().lower()
    if not _EMAIL.match(email):
        raise InvalidRequest(
            f"the key has no service-account client_email (…@….iam.gserviceaccount.com); {_HOW}"
        )
    kid = str(info.get("private_key_id", ""))
    if not re.fullmatch(r"[0-9a-f]{16,64}", kid):
        raise InvalidRequest(f"the key has no private_key_id; {_HOW}")
    try:
        key = load_pem_private_key(str(info.get("private_key", "")).encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidRequest(f"the key's private_key is not a PEM private key; {_HOW}") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise InvalidRequest(f"the key's private_key must be an RSA key of 2048 bits or more; {_HOW}")
    return ServiceAccountKey(email, kid, {**info, "client_email": email})


def credentials(key_json: str, token_uri: str) -> google.oauth2.service_account.Credentials:
    """google-auth credentials that sign an RS256 assertion with the key and trade it for an access token
    (the JWT-bearer grant) at ``token_uri``, whenever the token is about to expire."""
    info = {**json.loads(key_json), "token_uri": token_uri}
    creds: google.oauth2.service_account.Credentials = (
        google.oauth2.service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]  # google-auth: unannotated
            info, scopes=list(SERVICE_ACCOUNT_SCOPES)
        )
    )
    return creds
