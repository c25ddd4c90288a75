from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, SecretStr

Platform = Literal["google", "facebook", "instagram", "threads", "x"]
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
    status: Literal["active", "needs_reauth", "revoked"]
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
