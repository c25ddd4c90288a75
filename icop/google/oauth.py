"""Google's OAuth 2.0 for web server applications: authorization code with PKCE (S256) and offline access
(a refresh token), scope ``spreadsheets``, ``drive.metadata.readonly`` (the account's list of spreadsheets,
for picking a plan; optional: a sheet's link works without it) plus ``openid email`` to name the account.

The connector has the shape of the social platforms' (:class:`icop.social.oauth.OAuthConnector`), so the
gateway's connect endpoints serve Google as they serve X. Tokens leave this module only inside
:class:`~icop.social.oauth.ConnectedAccount`, for the caller to encrypt.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from icop.settings import Settings
from icop.social.clients import OAuthTokens
from icop.social.oauth import ConnectedAccount, OAuthClientApp, OAuthError, OAuthFailure, _Base, _expires

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
# Names and times of the account's files, never their content: enough to list its spreadsheets.
DRIVE_LIST_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"
GOOGLE_SCOPES = ("openid", "email", SHEETS_SCOPE, DRIVE_LIST_SCOPE)
SERVICE_ACCOUNT_SCOPES = (SHEETS_SCOPE, DRIVE_LIST_SCOPE)


class GoogleOAuth(_Base):
    platform = "google"
    uses_pkce = True

    def __init__(
        self,
        app: OAuthClientApp,
        authorize_url: str,
        token_uri: str,
        userinfo_url: str,
        revoke_url: str = "https://oauth2.googleapis.com/revoke",
        *,
        timeout: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(app, timeout=timeout, http=http)
        self._authorize, self.token_uri, self.userinfo_url = authorize_url, token_uri, userinfo_url
        self.revoke_url = revoke_url

    @classmethod
    def from_settings(cls, s: Settings, http: httpx.AsyncClient | None = None) -> GoogleOAuth:
        secret = s.google_client_secret.get_secret_value() if s.google_client_secret else ""
        return cls(
            OAuthClientApp(s.google_client_id or "", secret),
            s.google_authorize_url,
            s.google_token_uri,
            s.google_userinfo_url,
            s.google_revoke_url,
            timeout=s.social_http_timeout_s,
            http=http,
        )

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
        self._check_configured()
        if not code_challenge:
            raise ValueError("Google sign-in here always uses a PKCE code challenge")
        q = {
            "client_id": self.app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(GOOGLE_SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",  # a refresh token: runs read the sheet while nobody is signed in
            "prompt": "consent",  # Google sends the refresh token again on a reconnect only after consent
            "include_granted_scopes": "true",
        }
        return f"{self._authorize}?{urlencode(q)}"

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> list[ConnectedAccount]:
        self._check_configured()
        if not code_verifier:
            raise ValueError("Google sign-in here needs the PKCE code verifier")
        body = await self._call(
            "POST",
            self.token_uri,
            data={
                "code": code,
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
                "redirect_uri": redirect_uri,
                "grant_type": "authorization_code",
                "code_verifier": code_verifier,
            },
        )
        token = self._need(body, "access_token")
        refresh = body.get("refresh_token")
        scopes = tuple(str(body.get("scope", "")).split())
        if not refresh:
            raise OAuthError(
                "google",
                OAuthFailure.REFUSED,
                "Google gave no refresh token, so runs could not read the sheet later; remove ICOP from "
                "your Google account's third-party access (myaccount.google.com/permissions) and connect "
                "again",
            )
        if SHEETS_SCOPE not in scopes:
            raise OAuthError(
                "google",
                OAuthFailure.DENIED,
                "the Google Sheets permission was not granted; connect again and tick “See, edit, create "
                "and delete your Google Sheets spreadsheets”",
            )
        me: dict[str, Any] = await self._call(
            "GET", self.userinfo_url, headers={"Authorization": f"Bearer {token}"}
        )
        tokens = OAuthTokens(token, str(refresh), _expires(body), scopes)
        return [ConnectedAccount("google", self._need(me, "sub"), self._need(me, "email"), tokens)]

    async def revoke(self, token: str) -> bool:
        """Give the grant back (a refresh token: its access tokens end with it); ``False`` when Google could
        not be told (the tokens are deleted here either way, and expire or can be removed by the user)."""
        try:
            await self._call("POST", self.revoke_url, data={"token": token})
        except OAuthError:
            return False
        return True
