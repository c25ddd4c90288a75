"""The request log every emulator writes: tests and benchmarks read it via ``/_admin/requests``."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Entry:
    seq: int
    service: str
    method: str
    path: str
    key: str  # the API key's last 4 characters, never the key itself
    started: float
    status: int | None = None
    finished: float | None = None
    fault: str | None = None
    body: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


class RequestLog:
    def __init__(self, limit: int = 20000) -> None:
        self.entries: deque[Entry] = deque(maxlen=limit)
        self.seq = 0

    def start(self, service: str, method: str, path: str, key: str, body: Any = None) -> Entry:
        self.seq += 1
        e = Entry(self.seq, service, method, path, key[-4:] if key else "", time.time(), body=body)
        self.entries.append(e)
        return e

    @staticmethod
    def finish(e: Entry, status: int, fault: str | None = None) -> None:
        e.status, e.finished, e.fault = status, time.time(), fault

    def query(self, service: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        return [
            asdict(e) for e in self.entries if e.seq > since and (service is None or e.service == service)
        ]

    def clear(self) -> None:
        self.entries.clear()
