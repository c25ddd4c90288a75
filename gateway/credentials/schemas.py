from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, model_validator

from icop.statuses import CredentialStatus

# tavily and naver: the tenant's own search keys (access_token: the Tavily API key, or Naver's client
# secret with the client id as account_id); they do not count as connected accounts.
# google_service_account: a Google service account's key file, uploaded through its own endpoint (checked)
Platform = Literal[
    "google", "google_service_account", "facebook", "instagram", "threads", "x", "tavily", "naver"
]
NO_NUL = r"^[^\x00]*$"


class CredentialCreate(BaseModel):
    platform: Platform
    account_id: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    account_name: str = Field(default="", max_length=200, pattern=NO_NUL)
    access_token: SecretStr = Field(
        min_length=1, max_length=8192, description="Stored encrypted; never returned."
    )
    refresh_token: SecretStr | None = Field(
        default=None, max_length=8192, description="Stored encrypted; never returned."
    )
    scopes: list[str] = Field(default_factory=list, max_length=50)
    expires_at: AwareDatetime | None = None


class CredentialOut(BaseModel):
    """A connected account. Tokens are never part of it."""

    id: UUID
    platform: Platform
    account_id: str
    account_name: str
    scopes: list[str]
    expires_at: datetime | None
    status: CredentialStatus
    status_reason: str | None
    created_at: datetime
    updated_at: datetime


OAuthPlatform = Literal["google", "facebook", "instagram", "threads", "x"]


class OAuthStart(BaseModel):
    redirect_uri: str = Field(
        min_length=1,
        max_length=2000,
        pattern=NO_NUL,
        description="Where the platform sends the user back (the dashboard's callback page); it must be "
        "on a configured dashboard origin (ICOP_DASHBOARD_PUBLIC_URL).",
    )


class OAuthStartOut(BaseModel):
    authorize_url: str = Field(description="Send the user's browser here (the platform's consent page).")
    state: str = Field(
        description="Opaque and sealed; the platform hands it back with the code. Valid for 10 minutes, for "
        "this user, platform and redirect URI only."
    )
    expires_at: datetime


class OAuthCallback(BaseModel):
    """What the platform appended to the redirect URI: ``code`` and ``state``, or ``error`` and ``state``."""

    state: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    code: str | None = Field(default=None, min_length=1, max_length=2000, pattern=NO_NUL)
    error: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description="Set instead of `code` when the user cancelled (e.g. `access_denied`).",
    )
    error_description: str | None = Field(default=None, max_length=1000, pattern=NO_NUL)

    @model_validator(mode="after")
    def _code_or_error(self) -> OAuthCallback:
        if (self.code is None) == (self.error is None):
            raise ValueError("send either code (consent given) or error (consent refused), with state")
        return self


class ServiceAccountUpload(BaseModel):
    key: dict[str, Any] = Field(
        description="The service account's JSON key file as downloaded from the Google Cloud console "
        "(IAM → Service accounts → Keys → Add key → JSON). Stored encrypted; never returned."
    )


class ServiceAccountOut(BaseModel):
    credential: CredentialOut
    share_with: str = Field(
        description="Share each plan sheet with this e-mail (as Editor) so runs can use it."
    )
    instructions: str
