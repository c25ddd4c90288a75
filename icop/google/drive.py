"""A tenant's spreadsheets, listed through Drive v3 as the tenant's own Google identity (the account it
connected, or its service account): the files that identity owns or was given, newest first, so the tenant
can pick its plan instead of copying a sheet id.

Listing needs the ``drive.metadata.readonly`` permission (names and times of files, never their content).
An account connected before ICOP asked for it, or whose owner unticked it on Google's consent page, is told
to connect Google again, or to paste the sheet's link: reading and writing the plan itself needs only the
Sheets permission.
"""

from __future__ import annotations

from uuid import UUID

from icop.connectors.drive import FilePage, GoogleDrive, make_drive
from icop.connectors.errors import ProviderError
from icop.errors import DomainError, InvalidRequest
from icop.social.tokens import Credential

from .access import GoogleAccess, TenantGoogleClient, unavailable


class DriveListNotAllowed(DomainError):
    status, title, code = 409, "Google permission missing", "google.drive_not_allowed"


class GoogleRefused(DomainError):
    """Google refused for a reason the tenant cannot fix here (e.g. the Drive API is off for the server's
    Google Cloud project): the operator can."""

    status, title, code = 502, "Google refused", "google.refused"


def not_allowed(email: str) -> DriveListNotAllowed:
    return DriveListNotAllowed(
        f"the Google account {email} has not allowed ICOP to see its list of spreadsheets; connect Google "
        "again (Settings → Accounts → Connect Google) and allow “See information about your Google Drive "
        "files”, or enter the sheet's link or id instead"
    )


class TenantDrive(TenantGoogleClient):
    """:class:`icop.connectors.drive.DriveClient` as one tenant's Google identity; Google's refusals become
    errors that say what to do."""

    def __init__(self, access: GoogleAccess, cred: Credential, email: str, client: GoogleDrive) -> None:
        super().__init__(access, cred, email, client.credentials)
        self.client = client

    async def list_spreadsheets(self, page_size: int = 100, page_token: str | None = None) -> FilePage:
        try:
            page = await self.client.list_spreadsheets(page_size, page_token)
        except ProviderError as e:
            await self._refused_grant(e)
            if e.status == 403 and "scope" in e.message.lower():
                raise not_allowed(self.email) from None
            if e.status == 400 and page_token:
                raise InvalidRequest(
                    "the page token is not one this listing gave out (or it expired); list from the start"
                ) from None
            if e.kind in ("auth", "bad_request", "not_found", "unknown"):
                raise GoogleRefused(
                    f"Google refused to list the spreadsheets of {self.email}: {e.message}"
                ) from None
            raise unavailable(e, "list the spreadsheets") from None
        await self._keep_refreshed_token()
        return page


async def drive_for(access: GoogleAccess, tenant_id: UUID) -> TenantDrive:
    """A Drive client for the tenant's Google identity (:meth:`GoogleAccess.identity` says what to do when
    there is none, or it must be reconnected)."""
    who = await access.identity(tenant_id)
    return TenantDrive(access, who.cred, who.email, make_drive(access.settings, who.credentials))
