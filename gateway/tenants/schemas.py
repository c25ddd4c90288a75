from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from icop.statuses import TenantStatus

from ..auth.schemas import Email, NewPassword
from ..timezones import check_timezone

Role = Literal["admin", "editor", "viewer"]


class TenantOut(BaseModel):
    id: UUID
    name: str
    plan: str
    timezone: str
    status: TenantStatus
    created_at: datetime


class TenantUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")
    timezone: str | None = Field(default=None, max_length=64)

    _tz = field_validator("timezone")(check_timezone)


class UserOut(BaseModel):
    id: UUID
    email: str
    display_name: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(BaseModel):
    email: Email
    password: NewPassword
    display_name: str = Field(default="", max_length=200, pattern=r"^[^\x00]*$")
    role: Role = "viewer"


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")
    role: Role | None = None
    disabled: bool | None = None
