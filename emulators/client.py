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

    def requests(self, service: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if service:
            params["service"] = service
        return list(self._ok(self.http.get("/_admin/requests", params=params))["requests"])

    def last_seq(self) -> int:
        return int(self._ok(self.http.get("/_admin/requests", params={"since": 10**12}))["last_seq"])

    def seed_sheet(self, spreadsheet_id: str, sheets: dict[str, list[list[Any]]]) -> None:
        self._ok(self.http.put(f"/_admin/sheets/{spreadsheet_id}", json={"sheets": sheets}))

    def read_sheet(self, spreadsheet_id: str) -> dict[str, list[list[Any]]]:
        return dict(self._ok(self.http.get(f"/_admin/sheets/{spreadsheet_id}"))["sheets"])
