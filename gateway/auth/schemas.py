from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, SecretStr

EMAIL_PATTERN = r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,255}$"
Plan = Literal["starter", "growth", "enterprise"]


class SignUp(BaseModel):
    company_name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")
    plan: Plan = "starter"
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    password: SecretStr = Field(min_length=10, max_length=256)
    display_name: str = Field(default="", max_length=200, pattern=r"^[^\x00]*$")


class Login(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    password: SecretStr = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: SecretStr = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Single use: each refresh returns a new one. Reuse revokes the family."
    )
    tenant_id: UUID
    user_id: UUID
    role: str


class Me(BaseModel):
    tenant_id: UUID
    actor_id: UUID
    actor_kind: Literal["user", "api_key"]
    role: str
    plan: str
