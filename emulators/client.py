"""A small client for the emulators' admin API, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

import httpx


class EmulatorAdmin:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def _ok(self, r: httpx.Response) -> Any:
        r.raise_for_status()
        return r.json()

    def health(self) -> dict[str, Any]:
        return self._ok(self.http.get("/_admin/health"))

    def knobs(self, service: str = "*", replace: bool = False, **knobs: Any) -> dict[str, Any]:
        return self._ok(
            self.http.post("/_admin/knobs", json={"service": service, "knobs": knobs, "replace": replace})
        )

    def reset(self) -> None:
        self._ok(self.http.post("/_admin/reset"))

    def add_keys(self, service: str, *keys: str) -> int:
        """The LLM service (``gpt``, ``claude``, ``gemini``) now accepts ``keys``, as if the vendor had
        issued them; returns how many keys it knows. ``reset`` forgets them."""
        return int(
            self._ok(self.http.post("/_admin/keys", json={"service": service, "keys": list(keys)}))["known"]
        )

    def revoke_key(self, service: str, key: str) -> bool:
        """The LLM service refuses ``key`` from now on, as the vendor refuses a revoked key (Gemini: 400
        ``API_KEY_INVALID``, the others 401); False if it did not know the key."""
        r = self.http.post("/_admin/keys/revoke", json={"service": service, "key": key})
        return bool(self._ok(r)["revoked"])

    def requests(self, service: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if service:
            params["service"] = service
        return list(self._ok(self.http.get("/_admin/requests", params=params))["requests"])

    def last_seq(self) -> int:
        return int(self._ok(self.http.get("/_admin/requests", params={"since": 10**12}))["last_seq"])

    def seed_sheet(
        self,
        spreadsheet_id: str,
        sheets: dict[str, list[list[Any]]],
        owner: str | None = None,
        shared_with: list[str] | None = None,
        title: str | None = None,
        modified_time: str | None = None,
        trashed: bool = False,
    ) -> None:
        """A spreadsheet; with an ``owner`` only that Google identity (and ``shared_with``) can reach it,
        and Drive lists it to them by ``title`` (default "Untitled spreadsheet") and ``modified_time``
        (ISO 8601; default now), unless it is ``trashed``."""
        body: dict[str, Any] = {"sheets": sheets}
        if owner:
            body |= {"owner": owner, "shared_with": shared_with or []}
        if title:
            body["title"] = title
        if modified_time:
            body["modified_time"] = modified_time
        if trashed:
            body["trashed"] = True
        self._ok(self.http.put(f"/_admin/sheets/{spreadsheet_id}", json=body))

    def google_config(self, access_token_lifetime_s: float | None = None) -> dict[str, Any]:
        """The Google emulator's access-token lifetime (set it when given) and its refresh count."""
        if access_token_lifetime_s is None:
            return dict(self._ok(self.http.get("/_admin/google/config")))
        body = {"access_token_lifetime_s": access_token_lifetime_s}
        return dict(self._ok(self.http.post("/_admin/google/config", json=body)))

    def google_revoke(self, email: str) -> int:
        """The user removes the app's access in their Google account; returns the grants ended."""
        return int(self._ok(self.http.post("/_admin/google/revoke", json={"email": email}))["revoked_grants"])

    def google_service_account(self, name: str) -> dict[str, Any]:
        """A new service account's key file (JSON), as the Cloud console hands it out."""
        return dict(self._ok(self.http.post("/_admin/google/service_accounts", json={"name": name})))

    def sheets_quota(
        self, per_user: int | None = None, per_project: int | None = None, window_s: float | None = None
    ) -> dict[str, Any]:
        """The Sheets emulator's request limits per window (a minute; set those given) and the refusals."""
        given = (("per_user", per_user), ("per_project", per_project), ("window_s", window_s))
        body = {k: v for k, v in given if v is not None}
        if not body:
            return dict(self._ok(self.http.get("/_admin/sheets-quota")))
        return dict(self._ok(self.http.put("/_admin/sheets-quota", json=body)))

    def read_sheet(self, spreadsheet_id: str) -> dict[str, list[list[Any]]]:
        return dict(self._ok(self.http.get(f"/_admin/sheets/{spreadsheet_id}"))["sheets"])


def google_consent(
    authorize_url: str, email: str, *, allow: bool = True, timeout: float = 10.0
) -> dict[str, str]:
    """What a browser does on the Google OAuth emulator's consent page: sign in as ``email``, press Allow
    (or Cancel); returns the query parameters Google appended to the redirect URI (``code`` and ``state``,
    or ``error`` and ``state``)."""
    import re
    from urllib.parse import parse_qsl, urljoin, urlsplit

    with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as http:
        page = http.get(authorize_url)
        page.raise_for_status()
        rid = re.search(r'name="request_id" value="([^"]+)"', page.text)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        if rid is None or action is None:
            raise RuntimeError(f"not a consent page: {page.text[:300]}")
        answer = http.post(
            urljoin(authorize_url, action.group(1)),
            data={"request_id": rid.group(1), "email": email, "decision": "allow" if allow else "cancel"},
        )
        if answer.status_code != 302:
            raise RuntimeError(f"the consent page answered {answer.status_code}: {answer.text[:300]}")
        return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


class SocialAdmin:
    """The social emulator's admin API for engagement: a topic's hidden appeal, accounts' tokens, posts made
    (or moved) to a given time, deleted posts, permissions taken back, and the insights requests counted
    per account."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def appeal(self, keyword: str, factor: float) -> dict[str, float]:
        r = self.http.post("/_admin/appeal", json={"keyword": keyword, "factor": factor})
        r.raise_for_status()
        return dict(r.json()["appeal"])

    def seed_post(
        self, platform: str, account_id: str, text: str, created_at: float | None = None, image: bool = False
    ) -> dict[str, Any]:
        body = {"platform": platform, "account_id": account_id, "text": text, "created_at": created_at,
                "image": image}  # fmt: skip
        r = self.http.post("/_admin/posts", json=body)
        r.raise_for_status()
        return dict(r.json())

    def token(self, platform: str, account_id: str) -> dict[str, Any]:
        """A new access token of the account (X: with a refresh token), as its OAuth flow would give."""
        r = self.http.post("/_admin/tokens", json={"platform": platform, "account_id": account_id})
        r.raise_for_status()
        return dict(r.json())

    def move_post(self, post_id: str, created_at: float) -> dict[str, Any]:
        """A post (published through the API) as if made at ``created_at`` (epoch seconds): it ages."""
        r = self.http.post(f"/_admin/posts/{post_id}", json={"created_at": created_at})
        r.raise_for_status()
        return dict(r.json())

    def delete_post(self, post_id: str) -> None:
        self.http.delete(f"/_admin/posts/{post_id}").raise_for_status()

    def deny(self, platform: str, account_id: str, permission: str, grant: bool = False) -> None:
        body = {"action": "grant" if grant else "deny", "platform": platform, "account_id": account_id,
                "permission": permission}  # fmt: skip
        self.http.post("/_admin/tokens", json=body).raise_for_status()

    def insights_counts(self) -> list[dict[str, Any]]:
        r = self.http.get("/_admin/insights")
        r.raise_for_status()
        return list(r.json()["accounts"])
