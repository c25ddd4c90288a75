from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field, SecretStr

from icop.security import PASSWORD_MIN_LENGTH, normalize_email

EMAIL_PATTERN = r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,255}$"


def _email(value: object) -> object:
    # Before the pattern: NFKC folds a fullwidth ＠ into the @ the pattern looks for.
    return normalize_email(value[:400]) if isinstance(value, str) else value


Email = Annotated[
    str,
    Field(pattern=EMAIL_PATTERN, max_length=320, description="Folded to one spelling (NFKC, lower case)."),
    BeforeValidator(_email),
]
NewPassword = Annotated[
    SecretStr,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=256,
        description=f"At least {PASSWORD_MIN_LENGTH} characters and not easy to guess (common and "
        "breached passwords, repeats, keyboard runs and the account's own names are refused).",
    ),
]


class SignUp(BaseModel):
    """A new tenant and its first admin. Every tenant starts on the starter plan (an operator changes it)."""

    company_name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")
    email: Email
    password: NewPassword
    display_name: str = Field(default="", max_length=200, pattern=r"^[^\x00]*$")


class SignUpAccepted(BaseModel):
    """The same answer whether or not the address was already registered: log in next."""

    status: Literal["accepted"] = "accepted"
    detail: str = "If this e-mail address was free, the account is ready: log in with it and your password."


class Login(BaseModel):
    email: Email
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
