from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

Scope = Literal["read", "write"]


def _read_only() -> list[Scope]:
    return ["read"]


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")
    scopes: list[Scope] = Field(
        default_factory=_read_only,
        min_length=1,
        max_length=2,
        description="`read` acts as a viewer; `write` as an editor.",
    )


class ApiKeyOut(BaseModel):
    id: UUID
    name: str
    prefix: str = Field(description="Identifies the key in lists and logs; not a secret.")
    scopes: list[str]
    created_by: UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key. Shown only in this response; store it now.")
