from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

Provider = Literal["gpt", "claude", "gemini"]
KeyState = Literal["not_set", "active", "paused"]
_KEY = re.compile(r"[\x21-\x7e]{8,512}")

CHECK_DOC = (
    "Check the key first with one chat call of one output token to the model the writer uses (billed by "
    "the vendor to this key: a fraction of a cent); a key the vendor refuses, or whose account has no "
    "quota or credits, is then not stored (422 says why). false: store it unchecked."
)


class ModelKeyPut(BaseModel):
    key: SecretStr = Field(
        min_length=8,
        max_length=512,
        description="The vendor's API key (OpenAI for gpt, Anthropic for claude, Google AI Studio for "
        "gemini). Stored encrypted; never returned, only its last 4 characters.",
    )
    verify: bool = Field(default=True, description=CHECK_DOC)

    @field_validator("key")
    @classmethod
    def _one_word(cls, v: SecretStr) -> SecretStr:
        key = v.get_secret_value().strip()  # a pasted key often brings a line break
        if not _KEY.fullmatch(key):
            raise PydanticCustomError(
                "model_key_format",
                "the key must be one word of printable characters, as the vendor's console shows it",
            )
        return SecretStr(key)


class ModelKeyResume(BaseModel):
    verify: bool = Field(
        default=True,
        description="Check the key with one call before resuming (it stays paused when the vendor still "
        "refuses it: 422 says why). false: resume at once; the next article tells.",
    )


class ModelKeyPause(BaseModel):
    """Why the tenant's use of the provider is paused: its writer is skipped (never run on the platform's
    key) until the key is replaced or resumed."""

    code: str = Field(description="model_key.rejected (the vendor refused the key) or model_key.quota.")
    params: dict[str, str] = Field(description="`provider`; `message`: the vendor's own words.")
    reason: str = Field(description="What to do, in English.")
    since: datetime


class ModelKeyOut(BaseModel):
    """One provider's key of the tenant. The key itself is never part of it."""

    provider: Provider
    state: KeyState = Field(
        description="not_set: no key (pipelines choosing this tenant's key skip that writer); active; "
        "paused: the vendor refused it, see `pause`."
    )
    last4: str | None = Field(description="The key's last 4 characters, to recognise it.")
    added_at: datetime | None = Field(description="When a key was first set for this provider.")
    updated_at: datetime | None = Field(description="When the key was last replaced.")
    verified_at: datetime | None = Field(
        description="When the vendor last accepted a check call with it (null: stored unchecked)."
    )
    last_error: str | None = Field(description="The vendor's last refusal, kept after a resume.")
    last_error_at: datetime | None
    pause: ModelKeyPause | None = None
