from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from icop.modelkeys.rules import KeySource
from icop.planning import notes
from icop.research.types import failure_policy, provider_choice
from icop.statuses import PipelineStatus

from ..limits import bounded_json
from ..timezones import check_timezone
from .cron import parse as parse_cron

NO_NUL = r"^[^\x00]*$"
Writer = Literal["gpt", "claude", "gemini"]
ImageProvider = Literal["offline", "dalle", "flux"]
SourceKind = Literal["sheet", "csv", "xlsx"]
SOURCE_DOC = (
    "sheet: a Google Sheet (sheet_id); csv or xlsx: a file uploaded with POST /v1/plans (plan_object_key)."
)
PLAN_KEY_DOC = "The `plan_object_key` POST /v1/plans returned (source_kind csv or xlsx)."
TargetPlatform = Literal["facebook", "instagram", "threads", "x"]
_CRON_FIELD = re.compile(r"^(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?)*$")
_CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _every_writer() -> list[Writer]:
    return ["gpt", "claude", "gemini"]


def check_cron(value: str | None) -> str | None:
    """Five-field cron (minute hour day month weekday), numbers, ranges, lists and steps."""
    if value is None:
        return None
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise _cron_error("cron must have five fields, e.g. '0 9 * * 1-5'")
    for f, (lo, hi) in zip(fields, _CRON_RANGES, strict=True):
        for n in re.findall(r"(?<![/\d])\d+", f):
            if not lo <= int(n) <= hi:
                raise _cron_error(f"cron value {n} is outside {lo}-{hi}")
    try:
        parse_cron(" ".join(fields))  # backwards ranges, zero steps, dates no month has
    except ValueError as e:
        raise _cron_error(str(e)) from None
    return " ".join(fields)


def _cron_error(reason: str) -> PydanticCustomError:
    # type cron_invalid: a client says "not a valid cron" in its words; ctx.reason is the English detail
    return PydanticCustomError("cron_invalid", "{reason}", {"reason": reason})


LEARN_TOPICS_DOC = (
    "Planning that learns: each row's candidate sub-topics are scored by the engagement rate (engagement / "
    "impressions) of your past posts on sub-topics near them (weighted by similarity, recent posts "
    "counting more), and the best-scoring are kept, but for explore_share of them. Each sub-topic says "
    "why it was chosen (`choice`). Off: the largest clusters are kept."
)
EXPLORE_SHARE_DOC = (
    "With learn_topics: the share (0 to 1) of each row's sub-topics kept for new angles, ones unlike "
    "anything you posted, so that what has not been tried still gets a chance. 0.3: three in ten."
)
LEARN_TIMES_DOC = (
    "A post without a publish time of its own goes out at the next of your best hours on its platform "
    "(your time zone; the hours whose posts drew the highest engagement rate, from 20 measured posts of "
    "the last 90 days on), rather than at once; the post says why (`time_choice`). Without enough data, at "
    "once."
)


def round_share(value: float | None) -> float | None:
    """A share as stored (a `real`): 0.3 comes back as 0.30000001…; four decimals say it."""
    return None if value is None else round(value, 4)


SETTINGS_MAX_BYTES, SETTINGS_MAX_DEPTH, SETTINGS_MAX_KEYS = 16_384, 8, 200
SETTINGS_DOC = (
    "Free-form pipeline settings. Known keys: default_language, images_per_article, search_provider "
    "(auto | tavily | naver; auto: Naver for Korean rows, Tavily otherwise), on_research_failure "
    "(continue: write unsourced articles, marked as such | fail: fail them), status_note_column (the plan "
    "tab's column, F to Z, where each row gets a note saying what happened and what to do; default F; "
    "empty for none). At most "
    f"{SETTINGS_MAX_BYTES} bytes as JSON, {SETTINGS_MAX_DEPTH} levels deep and {SETTINGS_MAX_KEYS} keys."
)


def check_settings(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A pipeline's settings are small (bytes, depth and keys bounded), and their research keys hold
    values the Researcher knows."""
    if value is None:
        return None
    try:
        bounded_json(
            value, max_bytes=SETTINGS_MAX_BYTES, max_depth=SETTINGS_MAX_DEPTH, max_keys=SETTINGS_MAX_KEYS
        )
    except ValueError as e:
        raise ValueError(f"settings: {e}") from None
    if "search_provider" in value and provider_choice(value["search_provider"]) is None:
        raise ValueError("settings.search_provider must be auto, tavily or naver")
    if "on_research_failure" in value and failure_policy(value["on_research_failure"]) is None:
        raise ValueError("settings.on_research_failure must be continue or fail")
    if "status_note_column" in value:
        notes.check_note_column(value["status_note_column"])
    return value


MODEL_KEYS_DOC = (
    "Per provider, whose key its writer uses: platform (the default) or tenant (your own key, set under "
    "/v1/model-keys). A writer on your own key never falls back to the platform's: while that key is not set "
    "or is paused (the vendor refused it), the writer is skipped, with the reason on each article, and the "
    "article is written by the others."
)


class ModelKeyChoice(BaseModel):
    gpt: KeySource = "platform"
    claude: KeySource = "platform"
    gemini: KeySource = "platform"


class Target(BaseModel):
    platform: TargetPlatform
    account_id: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class PipelineFields(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    source_kind: SourceKind = Field(default="sheet", description=SOURCE_DOC)
    sheet_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    sheet_range: str = Field(default="ContentPlan!A2:E", min_length=1, max_length=200, pattern=NO_NUL)
    plan_object_key: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=NO_NUL, description=PLAN_KEY_DOC
    )
    cron: str | None = Field(default=None, max_length=100, description="Five-field cron, in `timezone`.")
    timezone: str = Field(default="UTC", max_length=64)
    mode: Literal["compare", "merge"] = "compare"
    writers: list[Writer] = Field(default_factory=_every_writer, min_length=1, max_length=3)
    image_provider: ImageProvider = Field(
        default="dalle",
        description="dalle or flux (the provider's API, or its emulator in development); offline draws "
        "placeholders that are never published (development only).",
    )
    targets: list[Target] = Field(default_factory=list, max_length=20)
    approval_required: bool = False
    dry_run: bool = True
    subtopics_per_topic: int = Field(default=5, ge=1, le=50)
    settings: dict[str, Any] = Field(default_factory=dict, description=SETTINGS_DOC)
    status: PipelineStatus = PipelineStatus.ACTIVE
    learn_topics: bool = Field(default=False, description=LEARN_TOPICS_DOC)
    explore_share: float = Field(default=0.3, ge=0, le=1, description=EXPLORE_SHARE_DOC)
    learn_times: bool = Field(default=False, description=LEARN_TIMES_DOC)
    model_keys: ModelKeyChoice = Field(default_factory=ModelKeyChoice, description=MODEL_KEYS_DOC)

    _cron = field_validator("cron")(check_cron)
    _settings = field_validator("settings")(check_settings)
    _tz = field_validator("timezone")(check_timezone)
    _share = field_validator("explore_share")(round_share)

    @field_validator("writers")
    @classmethod
    def _unique_writers(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise PydanticCustomError("writers_repeat", "writers must not repeat")
        return v

    @model_validator(mode="after")
    def _source(self) -> PipelineFields:
        if self.source_kind == "sheet" and not self.sheet_id:
            raise PydanticCustomError("sheet_id_missing", "a sheet pipeline needs sheet_id")
        if self.source_kind in ("csv", "xlsx") and not self.plan_object_key:
            raise PydanticCustomError(
                "plan_file_missing",
                "a {kind} pipeline needs plan_object_key (from POST /v1/plans)",
                {"kind": self.source_kind},
            )
        return self


class PipelineCreate(PipelineFields):
    pass


class PipelineUpdate(BaseModel):
    """Any subset of the pipeline's fields; the result must still be a valid pipeline."""

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    source_kind: SourceKind | None = Field(default=None, description=SOURCE_DOC)
    sheet_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    sheet_range: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    plan_object_key: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=NO_NUL, description=PLAN_KEY_DOC
    )
    cron: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    mode: Literal["compare", "merge"] | None = None
    writers: list[Writer] | None = Field(default=None, min_length=1, max_length=3)
    image_provider: ImageProvider | None = None
    targets: list[Target] | None = Field(default=None, max_length=20)
    approval_required: bool | None = None
    dry_run: bool | None = None
    subtopics_per_topic: int | None = Field(default=None, ge=1, le=50)
    settings: dict[str, Any] | None = Field(default=None, description=SETTINGS_DOC)
    status: PipelineStatus | None = None
    learn_topics: bool | None = Field(default=None, description=LEARN_TOPICS_DOC)
    explore_share: float | None = Field(default=None, ge=0, le=1, description=EXPLORE_SHARE_DOC)
    learn_times: bool | None = Field(default=None, description=LEARN_TIMES_DOC)
    model_keys: ModelKeyChoice | None = Field(default=None, description=MODEL_KEYS_DOC)

    _settings = field_validator("settings")(check_settings)


class PipelineOut(PipelineFields):
    id: UUID
    status_reason: str | None = Field(
        default=None,
        description="Why the pipeline was paused by the platform (e.g. Google access revoked: reconnect "
        "Google, then resume); cleared when it is resumed.",
    )
    created_at: datetime
    updated_at: datetime


class CronPreview(BaseModel):
    cron: str = Field(description="The cron as it would be stored (fields separated by one space).")
    timezone: str
    next_runs: list[datetime] = Field(description="The next fire times, in the cron's time zone.")
