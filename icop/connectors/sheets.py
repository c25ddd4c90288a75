"""Google Sheets v4 values through ``google-api-python-client``.

Static discovery (no discovery download), endpoint from settings, and credentials always passed:
without them the library looks for default credentials and probes the cloud metadata address.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from icop.settings import Settings

from .config import retry_policy, sheets_endpoint
from .errors import ProviderError, RetryPolicy, call_with_retries, kind_for_status, parse_retry_after

if TYPE_CHECKING:
    import google.auth.credentials

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class ValueRange:
    range: str  # A1 notation, e.g. "ContentPlan!F2:G2"
    values: Sequence[Sequence[Cell]]  # read only: rows of cells


@dataclass(frozen=True)
class UpdateResult:
    updated_cells: int
    updated_ranges: list[str]


class SheetsClient(Protocol):
    async def get_values(self, spreadsheet_id: str, range_: str) -> list[list[str]]: ...

    async def batch_get(self, spreadsheet_id: str, ranges: list[str]) -> list[list[list[str]]]: ...

    async def batch_update(
        self,
        spreadsheet_id: str,
        data: list[ValueRange],
        value_input_option: Literal["RAW", "USER_ENTERED"] = "RAW",
    ) -> UpdateResult: ...


def classify_google_error(exc: BaseException, provider: str = "sheets") -> ProviderError | None:
    """A google-api-python-client failure (Sheets, Drive) as a :class:`ProviderError` of ``provider``."""
    from google.auth.exceptions import RefreshError
    from googleapiclient.errors import HttpError

    if isinstance(exc, RefreshError):  # a 401 with a token that cannot be refreshed here
        return ProviderError(provider, "auth", f"the access token was refused and cannot be refreshed: {exc}")
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        headers = {str(k): str(v) for k, v in dict(exc.resp).items()}
        return ProviderError(
            provider,
            kind_for_status(status),
            str(getattr(exc, "reason", "") or exc),
            status=status,
            retry_after=parse_retry_after(headers),
        )
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return ProviderError(provider, "timeout", "the request timed out; a write may still have happened")
    if isinstance(exc, OSError):
        return ProviderError(provider, "connection", str(exc) or type(exc).__name__)
    try:
        import httplib2

        if isinstance(exc, httplib2.HttpLib2Error):
            return ProviderError(provider, "connection", str(exc))
    except ImportError:  # pragma: no cover
        pass
    return None


@functools.lru_cache(maxsize=16)
def _values_resource(api_endpoint: str) -> Any:
    """``spreadsheets.values`` of the static discovery document, built once per endpoint and shared by every
    client: building it parses the discovery document and makes every method (measured: the largest CPU
    cost of a back-fill's worker when it was built per write-back). Its own HTTP object is never used:
    each request is executed with the caller's authorized connection (``GoogleSheets._http``)."""
    import google.auth.credentials
    from googleapiclient.discovery import build

    service = build(
        "sheets",
        "v4",
        credentials=google.auth.credentials.AnonymousCredentials(),  # type: ignore[no-untyped-call]  # google-auth: unannotated
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
    )
    return service.spreadsheets().values()


class GoogleSheets:
    """``spreadsheets.values.get``, ``.batchGet`` and ``.batchUpdate``; blocking calls run in a thread,
    each on its own HTTP connection (httplib2 is not thread-safe)."""

    def __init__(
        self,
        api_endpoint: str,
        credentials: google.auth.credentials.Credentials | str | None = None,
        *,
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        """``credentials``: a tenant's google-auth credentials (see :mod:`icop.google.access`), a bare access
        token, or nothing (anonymous: a link-shared sheet only)."""
        import google.auth.credentials
        import google.oauth2.credentials

        if isinstance(credentials, str):
            credentials = google.oauth2.credentials.Credentials(token=credentials)  # type: ignore[no-untyped-call]  # google-auth: unannotated
        self.credentials: google.auth.credentials.Credentials = (
            credentials or google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]  # google-auth: unannotated
        )
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.values = _values_resource(api_endpoint)

    def _http(self) -> Any:
        import google_auth_httplib2
        import httplib2

        return google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))

    async def _execute(self, request: Any) -> Any:
        async def call() -> Any:
            return await asyncio.to_thread(request.execute, http=self._http(), num_retries=0)

        return await call_with_retries(self.policy, call, classify_google_error, provider="sheets")

    async def get_values(self, spreadsheet_id: str, range_: str) -> list[list[str]]:
        request = self.values.get(spreadsheetId=spreadsheet_id, range=range_)
        resp = await self._execute(request)
        return [list(map(str, row)) for row in resp.get("values", [])]

    async def batch_get(self, spreadsheet_id: str, ranges: list[str]) -> list[list[list[str]]]:
        """Several ranges in one call (``values.batchGet``), in the order asked."""
        request = self.values.batchGet(spreadsheetId=spreadsheet_id, ranges=ranges)
        resp = await self._execute(request)
        return [[list(map(str, row)) for row in vr.get("values", [])] for vr in resp.get("valueRanges", [])]

    async def batch_update(
        self,
        spreadsheet_id: str,
        data: list[ValueRange],
        value_input_option: Literal["RAW", "USER_ENTERED"] = "RAW",
    ) -> UpdateResult:
        body = {
            "valueInputOption": value_input_option,
            "data": [{"range": d.range, "majorDimension": "ROWS", "values": d.values} for d in data],
        }
        request = self.values.batchUpdate(spreadsheetId=spreadsheet_id, body=body)
        resp = await self._execute(request)
        return UpdateResult(
            int(resp.get("totalUpdatedCells", 0)), [r["updatedRange"] for r in resp.get("responses", [])]
        )


def make_sheets(
    settings: Settings, credentials: google.auth.credentials.Credentials | str | None = None
) -> GoogleSheets:
    """A client acting as ``credentials`` (a tenant's Google identity); there is no server-wide token."""
    ep = sheets_endpoint(settings)
    return GoogleSheets(
        ep.base_url, credentials, timeout=settings.provider_timeout_s, policy=retry_policy(settings)
    )
