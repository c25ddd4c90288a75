from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from icop.statuses import CredentialStatus

from ..pagination import Page
from ..plans.schemas import PlanCheck

IdentityKind = Literal["account", "service_account"]


class GoogleIdentityOut(BaseModel):
    """The Google identity the tenant's runs read and write its plan sheets as."""

    connected: bool = Field(description="False: connect Google (or upload a service-account key) first.")
    kind: IdentityKind | None = Field(
        default=None, description="account: a Google account the tenant connected; service_account: a key."
    )
    email: str | None = Field(
        default=None, description="Share each plan sheet with this address (as Editor) so runs can use it."
    )
    status: CredentialStatus | None = None
    status_reason: str | None = Field(default=None, description="Why it must be reconnected, and how.")
    can_list_spreadsheets: bool = Field(
        default=False,
        description="Whether GET /v1/google/spreadsheets can list its spreadsheets (an account connected "
        "without the Drive file-list permission must connect again, or enter a sheet's link instead).",
    )


class SpreadsheetOut(BaseModel):
    id: str = Field(description="Use as `sheet_id` when creating a pipeline.")
    name: str
    modified_time: datetime | None
    url: str = Field(description="The spreadsheet in Google Sheets.")


class SpreadsheetPage(Page[SpreadsheetOut]):
    google_email: str = Field(description="The Google identity whose spreadsheets these are.")


class SheetPreview(PlanCheck):
    sheet_id: str
    range: str = Field(description="The plan range read (a pipeline's `sheet_range`).")
    google_email: str = Field(
        description="The Google identity the sheet was read as (runs read and write it as the same one)."
    )
    has_subtopics_tab: bool = Field(
        description="Whether the sheet has a tab named Subtopics, where runs write each row's sub-topics; "
        "without it a run cannot start (add an empty tab of that name)."
    )
