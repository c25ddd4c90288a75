"""A tenant's Google side, for picking a plan: which identity its runs use, its spreadsheets (Drive), and a
sheet's plan checked before a pipeline is made of it (read as that identity, checked like a file plan).

Google is called outside any database transaction: the identity's tokens are read (and refreshed) in
transactions of their own (:class:`icop.google.access.GoogleAccess`)."""

from __future__ import annotations

from uuid import UUID

from icop.connectors.errors import ProviderError
from icop.errors import InvalidRequest, NotFound
from icop.google import repository
from icop.google import service_account as sa
from icop.google.access import GoogleAccess, TenantSheets, unavailable
from icop.google.drive import drive_for
from icop.google.oauth import DRIVE_LIST_SCOPE
from icop.planning import a1
from icop.planning.plan import PLAN_RANGE, SUBTOPIC_TAB, preview

from ..context import Tx
from ..plans.service import check
from .schemas import GoogleIdentityOut, SheetPreview, SpreadsheetOut, SpreadsheetPage

PREVIEW_ROWS = 20


def sheet_url(sheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{sheet_id}/edit"


async def identity(tx: Tx) -> GoogleIdentityOut:
    row = await repository.google_account(tx.conn, tx.tenant_id)
    if row is None:
        return GoogleIdentityOut(connected=False)
    service = row["platform"] == sa.PLATFORM
    return GoogleIdentityOut(
        connected=True,
        kind="service_account" if service else "account",
        email=str(row["account_name"] or row["account_id"]),
        status=row["status"],
        status_reason=row["status_reason"],
        can_list_spreadsheets=service or DRIVE_LIST_SCOPE in (row["scopes"] or []),
    )


async def spreadsheets(
    access: GoogleAccess, tenant_id: UUID, cursor: str | None, limit: int
) -> SpreadsheetPage:
    drive = await drive_for(access, tenant_id)
    page = await drive.list_spreadsheets(limit, cursor)
    items = [SpreadsheetOut(id=f.id, name=f.name, modified_time=f.modified_time, url=sheet_url(f.id))
             for f in page.files]  # fmt: skip
    return SpreadsheetPage(items=items, next_cursor=page.next_page_token, google_email=drive.email)


async def preview_sheet(
    access: GoogleAccess, tenant_id: UUID, sheet_id: str, plan_range: str = PLAN_RANGE
) -> SheetPreview:
    """The plan as a run would read it, its problems and its first rows, and whether the sheet has the
    Subtopics tab runs write to: two reads as the tenant's Google identity."""
    try:
        first_row = a1.parse(plan_range).row0
    except ValueError as e:
        raise InvalidRequest(str(e), code="sheet.bad_range", params={"range": plan_range[:200]}) from None
    sheets = await access.sheets_for(tenant_id)
    try:
        values = await sheets.get_values(sheet_id, plan_range)
    except ProviderError as e:
        raise _read_failure(e, sheets, sheet_id, plan_range) from None
    plan, shown = preview(values, first_row=first_row, limit=PREVIEW_ROWS)
    return SheetPreview(
        **check(plan, shown).model_dump(),
        sheet_id=sheet_id,
        range=plan_range,
        google_email=sheets.email,
        has_subtopics_tab=await _has_tab(sheets, sheet_id, SUBTOPIC_TAB),
    )


async def _has_tab(sheets: TenantSheets, sheet_id: str, tab: str) -> bool:
    try:
        await sheets.get_values(sheet_id, f"{a1.quote_tab(tab)}!A1:A1")
    except ProviderError as e:
        if e.kind == "bad_request":  # "Unable to parse range": the sheet has no such tab
            return False
        raise _read_failure(e, sheets, sheet_id, tab) from None
    return True


def _read_failure(e: ProviderError, sheets: TenantSheets, sheet_id: str, plan_range: str) -> Exception:
    """What Google's refusal of a read means for the tenant (sharing and revocation are mapped by
    :class:`TenantSheets` before this)."""
    if e.kind == "not_found":
        return NotFound(
            f"Google has no spreadsheet {sheet_id}; check the sheet's link (the id is the part between /d/ "
            "and /edit), or pick the sheet from your list",
            code="sheet.not_found",
            params={"sheet": sheet_id},
        )
    if e.kind == "bad_request":
        tab = plan_range.rpartition("!")[0] or plan_range
        return InvalidRequest(
            f"the sheet has no tab {tab} to read {plan_range} from; name the plan's tab {tab} (or change the "
            "pipeline's range to the tab you use)",
            code="sheet.tab_missing",
            params={"sheet": sheet_id, "tab": tab},
        )
    return unavailable(e, f"read the sheet as {sheets.email}")
