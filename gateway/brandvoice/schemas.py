from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from icop.brandvoice.service import MAX_CHARS, MAX_PER_REQUEST, MIN_CHARS

SampleText = Annotated[str, Field(min_length=MIN_CHARS, max_length=MAX_CHARS, pattern=r"^[^\x00]*$")]
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class SamplesCreate(BaseModel):
    texts: list[SampleText] = Field(
        min_length=1,
        max_length=MAX_PER_REQUEST,
        description=f"One to {MAX_PER_REQUEST} texts in the brand's voice, {MIN_CHARS} to {MAX_CHARS} "
        "characters each. Writers match their tone and style, never their facts.",
    )
    language: str = Field(
        default="en", pattern=LANGUAGE_PATTERN, description="Articles in this language get these samples."
    )
    pipeline_id: UUID | None = Field(
        default=None, description="Only this pipeline's articles get these samples; none: every pipeline."
    )


class SampleOut(BaseModel):
    id: UUID
    pipeline_id: UUID | None
    language: str
    text: str
    created_at: datetime
