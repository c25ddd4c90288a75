"""A tenant's Google identity behind the Sheets client (and the Drive client of :mod:`.drive`): its tokens
come out of the vault, become ``google.oauth2.credentials.Credentials`` (``token_uri`` from settings: the
emulator in development), are refreshed through google-auth before they expire, and a refresh Google
refuses with ``invalid_grant`` (access revoked or expired) is handled here, once: the credential is marked
``needs_reauth`` (event ``credential.needs_reauth``) and the tenant's sheet pipelines are paused with a
"reconnect Google" reason (event ``pipeline.paused``).

A tenant may use a service account instead (its key uploaded, see :mod:`.service_account`): google-auth
then signs an RS256 assertion for each new token, and a key Google refuses is handled the same way.

There is no server-wide Google token: a tenant reaches exactly the sheets its own Google identity was
given, and the Sheets API itself refuses the others (403, see :class:`SheetNotShared`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar
from uuid import UUID

import asyncpg
import google.auth.credentials
import google.oauth2.credentials

from icop.connectors.errors import ProviderError
from icop.connectors.sheets import GoogleSheets, UpdateResult, ValueRange, make_sheets
from icop.db import tenant_tx
from icop.errors import DomainError
from icop.events import hooks
from icop.settings import Settings
from icop.social.clients import OAuthTokens
from icop.social.tokens import Credential, VaultTokenStore
from icop.vault import Vault

from . import repository, service_account

T = TypeVar("T")


class GoogleNotConnected(DomainError):
    status, title, code = 409, "Google not connected", "google.not_connected"


class GoogleReconnectNeeded(DomainError):
    status, title, code = 409, "Reconnect Google", "google.reconnect"


class SheetNotShared(DomainError):
    status, title, code = 403, "Sheet not shared with your Google account", "sheet.not_shared"


class SheetMissing(DomainError):
    status, title, code = 404, "Sheet not found", "sheet.not_found"


def sheet_missing(e: ProviderError, spreadsheet_id: str) -> SheetMissing | None:
    """Google's 404 (no such sheet) or 400 "Unable to parse range" (no such tab) as a reason a user can act
    on, naming the sheet and the tabs; None for any other failure."""
    if e.status == 404:
        return SheetMissing(
            f"Google has no sheet {spreadsheet_id}, or it has no tab the plan needs (ContentPlan, "
            "Subtopics): it was deleted, or the pipeline points at a wrong link; open the sheet, check its "
            "tabs, and set the pipeline's sheet again",
            code="sheet.not_found",
            params={"sheet": spreadsheet_id},
        )
    if e.status == 400 and "Unable to parse range" in e.message:
        return SheetMissing(
            f"the sheet {spreadsheet_id} has no tab the plan needs ({e.message.split(': ', 1)[-1]}); "
            "give it the tabs ContentPlan and Subtopics (as the plan template has them)",
            code="sheet.tab_missing",
            params={"sheet": spreadsheet_id, "tab": e.message.split(": ", 1)[-1]},
        )
    return None


class GoogleUnavailable(DomainError):
    status, title, code = 503, "Google unavailable", "google.unavailable"


def unavailable(e: ProviderError, what: str) -> GoogleUnavailable:
    """A failure no reconnect or sharing fixes (Google busy, limiting, unreachable): try again later."""
    wait = max(1, round(e.retry_after)) if e.retry_after else None
    return GoogleUnavailable(
        f"Google could not {what} just now ({e.kind}: {e.message}); try again "
        + (f"in {wait} s" if wait else "in a moment"),
        headers={"Retry-After": str(wait)} if wait else None,
    )


def reconnect_reason(email: str, detail: str, platform: str = "google") -> str:
    if platform == service_account.PLATFORM:
        return (
            f"Google refused the service account {email} ({detail}): its key was deleted or disabled; upload "
            "a new key (Settings → Accounts → Google service account), then resume the pipeline"
        )
    return (
        f"Google access for {email} was revoked or has expired ({detail}); reconnect Google "
        "(Settings → Accounts → Connect Google), then resume the pipeline"
    )


@dataclass(frozen=True)
class GoogleIdentity:
    """A tenant's Google identity, ready to call Google as: its stored credential, its e-mail (the address
    sheets are shared with) and google-auth credentials that refresh (or re-sign) themselves."""

    cred: Credential
    email: str
    credentials: google.auth.credentials.Credentials

    @property
    def is_service_account(self) -> bool:
        return self.cred.platform == service_account.PLATFORM


class GoogleAccess:
    """Google clients (Sheets here, Drive in :mod:`.drive`) acting as each tenant's own Google account."""

    def __init__(self, pool: asyncpg.Pool, vault: Vault, settings: Settings) -> None:
        self.pool, self.settings = pool, settings
        self.store = VaultTokenStore(pool, vault)

    async def identity(self, tenant_id: UUID) -> GoogleIdentity:
        """The tenant's Google identity, its access token fresh for at least the refresh margin;
        :class:`GoogleNotConnected` or :class:`GoogleReconnectNeeded` saying what to do otherwise."""
        async with tenant_tx(self.pool, tenant_id) as conn:
            row = await repository.google_account(conn, tenant_id)
        if row is None:
            raise GoogleNotConnected(
                "no Google account is connected; connect Google first (Settings → Accounts → Connect Google) "
                "with the account the plan sheet is shared with"
            )
        email, platform = str(row["account_name"] or row["account_id"]), str(row["platform"])
        if row["status"] != "active":
            raise GoogleReconnectNeeded(
                row["status_reason"]
                or reconnect_reason(email, f"the credential is {row['status']}", platform)
            )
        cred = await self.store.get(tenant_id, platform, str(row["account_id"]))
        assert cred is not None
        if platform == service_account.PLATFORM:  # google-auth signs a new assertion whenever it needs one
            creds = service_account.credentials(cred.access_token, self.settings.google_token_uri)
            return GoogleIdentity(cred, email, creds)
        cred = await self._fresh(cred, email)
        return GoogleIdentity(cred, email, self.credentials(cred))

    async def sheets_for(self, tenant_id: UUID) -> TenantSheets:
        """A Sheets client for the tenant's Google identity."""
        who = await self.identity(tenant_id)
        return TenantSheets(self, who.cred, who.email, make_sheets(self.settings, who.credentials))

    def credentials(self, cred: Credential) -> google.oauth2.credentials.Credentials:
        """google-auth credentials that refresh themselves at the configured token URI."""
        s = self.settings
        expiry = cred.expires_at.astimezone(UTC).replace(tzinfo=None) if cred.expires_at else None
        return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]  # google-auth: unannotated
            token=cred.access_token,
            refresh_token=cred.refresh_token,
            token_uri=s.google_token_uri,
            client_id=s.google_client_id,
            client_secret=s.google_client_secret.get_secret_value() if s.google_client_secret else None,
            expiry=expiry,
        )

    async def _fresh(self, cred: Credential, email: str) -> Credential:
        margin = timedelta(seconds=self.settings.google_token_refresh_margin_s)
        if cred.expires_at is not None and cred.expires_at > datetime.now(UTC) + margin:
            return cred

        async def refresh(current: Credential) -> OAuthTokens:
            creds = self.credentials(current)
            await asyncio.to_thread(_refresh, creds, self.settings.provider_timeout_s)
            expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
            return OAuthTokens(str(creds.token), current.refresh_token, expiry)

        try:  # under the credential's row lock: a second worker takes the first one's fresh token
            return await self.store.rotate(cred, refresh)
        except Exception as e:
            if _is_invalid_grant(e):
                await self.revoked(cred, email, "Google answered invalid_grant")
                raise GoogleReconnectNeeded(
                    reconnect_reason(email, "Google answered invalid_grant")
                ) from None
            raise

    async def revoked(self, cred: Credential, email: str, detail: str) -> None:
        """The one home of the rule: needs_reauth on the credential, the tenant's sheet pipelines paused."""
        reason = reconnect_reason(email, detail, cred.platform)
        await self.store.mark_needs_reauth(cred, reason)
        async with tenant_tx(self.pool, cred.tenant_id) as conn:
            for pipeline_id in await repository.pause_sheet_pipelines(conn, cred.tenant_id, reason):
                await hooks.pipeline_paused(conn, cred.tenant_id, pipeline_id, reason)


def _refresh(creds: google.oauth2.credentials.Credentials, timeout: float) -> None:
    import google_auth_httplib2
    import httplib2

    creds.refresh(google_auth_httplib2.Request(httplib2.Http(timeout=timeout)))  # type: ignore[no-untyped-call]  # google-auth: unannotated


def _is_invalid_grant(e: BaseException) -> bool:
    from google.auth.exceptions import RefreshError

    if isinstance(e, RefreshError):
        return "invalid_grant" in str(e)
    return isinstance(e, ProviderError) and e.kind == "auth" and "invalid_grant" in e.message


class TenantGoogleClient:
    """What every client acting as a tenant's Google identity does after Google answers: a refused refresh
    (``invalid_grant``) ends the credential (:meth:`GoogleAccess.revoked`), and a token google-auth refreshed
    during the call goes back to the vault."""

    def __init__(
        self,
        access: GoogleAccess,
        cred: Credential,
        email: str,
        credentials: google.auth.credentials.Credentials,
    ) -> None:
        self.access, self.cred, self.email, self.credentials = access, cred, email, credentials

    async def _refused_grant(self, e: ProviderError) -> None:
        """Raise :class:`GoogleReconnectNeeded` (after marking the credential) if Google refused the grant."""
        if _is_invalid_grant(e):
            await self.access.revoked(self.cred, self.email, "Google answered invalid_grant")
            raise GoogleReconnectNeeded(
                reconnect_reason(self.email, "Google answered invalid_grant", self.cred.platform)
            ) from None

    async def _keep_refreshed_token(self) -> None:
        """google-auth refreshed the token during the call (it was about to expire, or was refused once):
        keep the new one in the vault for the next client."""
        creds = self.credentials
        token = getattr(creds, "token", None)
        if self.cred.platform != "google" or not token or token == self.cred.access_token:
            return  # (a service account's row holds its key, not a token)
        expiry = getattr(creds, "expiry", None)
        tokens = OAuthTokens(
            str(token), self.cred.refresh_token, expiry.replace(tzinfo=UTC) if expiry else None
        )

        async def refreshed(current: Credential) -> OAuthTokens:
            return tokens

        self.cred = await self.access.store.rotate(self.cred, refreshed)


class TenantSheets(TenantGoogleClient):
    """:class:`icop.connectors.sheets.SheetsClient` as one tenant's Google account; Google's refusals
    become errors that say what to do."""

    def __init__(self, access: GoogleAccess, cred: Credential, email: str, client: GoogleSheets) -> None:
        super().__init__(access, cred, email, client.credentials)
        self.client = client

    async def get_values(self, spreadsheet_id: str, range_: str) -> list[list[str]]:
        return await self._call(spreadsheet_id, self.client.get_values(spreadsheet_id, range_))

    async def batch_get(self, spreadsheet_id: str, ranges: list[str]) -> list[list[list[str]]]:
        return await self._call(spreadsheet_id, self.client.batch_get(spreadsheet_id, ranges))

    async def batch_update(
        self,
        spreadsheet_id: str,
        data: list[ValueRange],
        value_input_option: Literal["RAW", "USER_ENTERED"] = "RAW",
    ) -> UpdateResult:
        return await self._call(
            spreadsheet_id, self.client.batch_update(spreadsheet_id, data, value_input_option)
        )

    async def _call(self, spreadsheet_id: str, call: Awaitable[T]) -> T:
        try:
            result = await call
        except ProviderError as e:
            if e.status == 403:
                raise SheetNotShared(
                    f"the Google account {self.email} has no access to sheet {spreadsheet_id}; share the "
                    f"sheet with {self.email} (Share → Editor), or connect the Google account that owns it",
                    params={"email": self.email, "sheet": spreadsheet_id},
                ) from None
            await self._refused_grant(e)
            raise
        await self._keep_refreshed_token()
        return result
