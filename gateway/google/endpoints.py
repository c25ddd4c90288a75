from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from icop.planning.plan import PLAN_RANGE

from ..context import CurrentPrincipal, Services, ViewerTx, services
from ..problems import errors
from . import service
from .schemas import GoogleIdentityOut, SheetPreview, SpreadsheetPage

router = APIRouter(prefix="/v1/google", tags=["google"], responses=errors(401, 403, 422, 429))
Svc = Annotated[Services, Depends(services)]
# Google's spreadsheet ids are letters, digits, '-' and '_'
SheetId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
NOT_CONNECTED = (
    "409: no Google identity is connected (connect Google first), or it must be reconnected (the detail says "
    "how)."
)


@router.get(
    "/identity",
    response_model=GoogleIdentityOut,
    summary="The Google identity the tenant's runs use, and the e-mail to share plan sheets with",
    description="The Google account the tenant connected (or its service account, whose e-mail each plan "
    "sheet must be shared with); `connected: false` when there is none. Nothing is asked of Google.",
)
async def get_identity(tx: ViewerTx) -> GoogleIdentityOut:
    return await service.identity(tx)


@router.get(
    "/spreadsheets",
    response_model=SpreadsheetPage,
    responses=errors(409, 502, 503),
    summary="The spreadsheets of the tenant's Google identity, most recently modified first",
    description="Listed by Google Drive as the tenant's own Google identity: the spreadsheets it owns or "
    "that were shared with it, not those in the trash. "
    f"{NOT_CONNECTED} 409 also when the account did not allow ICOP to see its list of files (connect again, "
    "or enter the sheet's link). 502: Google refused (the detail says why). 503: Google is busy or "
    "unreachable (Retry-After when Google named a delay).",
)
async def list_spreadsheets(
    who: CurrentPrincipal,
    svc: Svc,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SpreadsheetPage:
    return await service.spreadsheets(svc.google, who.tenant_id, cursor, limit)


@router.get(
    "/spreadsheets/{sheet_id}/preview",
    response_model=SheetPreview,
    responses=errors(404, 409, 503),
    summary="Check a Google Sheet's content plan before making a pipeline of it",
    description="Reads the plan range (default `ContentPlan!A2:E`) and checks for the Subtopics tab as the "
    "tenant's own Google identity, exactly as a run would, and checks the rows as a run would: the counts, "
    "every row that would be skipped with the reason, and the first rows as written. Two read requests "
    "against the identity's Sheets quota. "
    f"403: the sheet is not shared with the identity (the detail names the e-mail to share it with). 404: "
    f"Google has no such spreadsheet. 422: the range is not A1 notation, or the sheet has no such tab. "
    f"{NOT_CONNECTED} 503: Google is busy or unreachable.",
)
async def preview_sheet(
    who: CurrentPrincipal,
    svc: Svc,
    sheet_id: SheetId,
    range: Annotated[  # noqa: A002 - the query parameter's public name
        str, Query(min_length=1, max_length=200, description="A1 range of the plan's rows.")
    ] = PLAN_RANGE,
) -> SheetPreview:
    return await service.preview_sheet(svc.google, who.tenant_id, sheet_id, range)
