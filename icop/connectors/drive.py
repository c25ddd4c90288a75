"""Google Drive v3 ``files.list`` through ``google-api-python-client``: the spreadsheets a Google identity
owns or was given, newest first.

As for Sheets (:mod:`.sheets`): static discovery, the endpoint from settings (:func:`.config.drive_endpoint`)
and credentials always passed, so the library never downloads a discovery document or probes the cloud
metadata address.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from icop.settings import Settings

from .config import drive_endpoint, retry_policy
from .errors import RetryPolicy, call_with_retries
from .sheets import classify_google_error

if TYPE_CHECKING:
    import google.auth.credentials

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
SPREADSHEETS_QUERY = f"mimeType='{SPREADSHEET_MIME}' and trashed=false"
FIELDS = "nextPageToken,files(id,name,modifiedTime)"
MAX_PAGE_SIZE = 1000  # Drive's own limit for files.list


@dataclass(frozen=True)
class DriveFile:
    id: str
    name: str
    modified_time: datetime | None


@dataclass(frozen=True)
class FilePage:
    files: list[DriveFile]
    next_page_token: str | None
    """Drive's token for the next page; None on the last page."""


class DriveClient(Protocol):
    async def list_spreadsheets(self, page_size: int = 100, page_token: str | None = None) -> FilePage: ...


@functools.lru_cache(maxsize=16)
def _files_resource(api_endpoint: str) -> Any:
    """``files`` of Drive's static discovery document, built once per endpoint (see
    :func:`icop.connectors.sheets._values_resource`: each request runs on the caller's own connection)."""
    import google.auth.credentials
    from googleapiclient.discovery import build

    service = build(
        "drive",
        "v3",
        credentials=google.auth.credentials.AnonymousCredentials(),  # type: ignore[no-untyped-call]  # google-auth: unannotated
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
    )
    return service.files()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class GoogleDrive:
    """``files.list`` as one Google identity; the blocking call runs in a thread on its own connection."""

    def __init__(
        self,
        api_endpoint: str,
        credentials: google.auth.credentials.Credentials,
        *,
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.files = _files_resource(api_endpoint)

    def _http(self) -> Any:
        import google_auth_httplib2
        import httplib2

        return google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))

    async def list_spreadsheets(self, page_size: int = 100, page_token: str | None = None) -> FilePage:
        """One page of the identity's spreadsheets (owned or shared with it, not in the trash), the most
        recently modified first."""
        request = self.files.list(
            q=SPREADSHEETS_QUERY,
            orderBy="modifiedTime desc",
            pageSize=max(1, min(page_size, MAX_PAGE_SIZE)),
            pageToken=page_token or None,
            fields=FIELDS,
            spaces="drive",
        )

        async def call() -> Any:
            return await asyncio.to_thread(request.execute, http=self._http(), num_retries=0)

        classify = functools.partial(classify_google_error, provider="drive")
        resp = await call_with_retries(self.policy, call, classify, provider="drive")
        files = [
            DriveFile(str(f["id"]), str(f.get("name", "")), _parse_time(f.get("modifiedTime")))
            for f in resp.get("files", [])
            if f.get("id")
        ]
        return FilePage(files, resp.get("nextPageToken") or None)


def make_drive(settings: Settings, credentials: google.auth.credentials.Credentials) -> GoogleDrive:
    """A Drive client acting as ``credentials`` (a tenant's Google identity)."""
    ep = drive_endpoint(settings)
    return GoogleDrive(
        ep.base_url, credentials, timeout=settings.provider_timeout_s, policy=retry_policy(settings)
    )
