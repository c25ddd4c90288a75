"""Knobs per emulated service: latency, injected errors, per-key rate limits, revoked keys.

A knob set is plain JSON so that tests and benchmarks set it over HTTP (``POST /_admin/knobs``).
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SERVICES = ("gpt", "claude", "gemini", "images", "fal", "sheets", "drive", "tavily", "naver", "web")
ERROR_KINDS = ("429", "500", "503", "timeout", "late")


@dataclass
class Knobs:
    """Faults for one service.

    latency_ms: a number (fixed) or ``{"dist": "uniform", "low": a, "high": b}``,
        ``{"dist": "normal", "mean": m, "sd": s}`` or ``{"dist": "lognormal", "median": m, "sigma": s}``.
    error_rate / error_kind: the share of requests that fail, and how ("429", "500", "503", "timeout":
        hold the request without acting and never answer, "late": act, then answer after ``late_s``).
    error_count: the next N requests fail with ``error_kind`` (deterministic; counted before the rate).
    rate_limit: ``{"requests": n, "window_s": s}`` per API key, answered like the real service.
    quota: requests left before the account's quota (daily calls, plan credits) is used up; then every
        request is refused the way the service reports an exhausted quota. None: no quota.
    bad_json_count: the next N structured answers (a request with a JSON schema) break the schema
        (``emulators.structured.broken``): a model's broken promise, for the client to repair or report.
    stream_fail_count: the next N streamed answers fail halfway, after some text, as the service reports
        it in the stream (OpenAI's Responses API: a ``response.failed`` event).
    """

    latency_ms: float | dict[str, float | str] = 0.0
    error_rate: float = 0.0
    error_kind: str = "500"
    error_count: int = 0
    retry_after_s: float = 1.0
    hang_s: float = 30.0
    late_s: float = 5.0
    rate_limit: dict[str, float] | None = None
    revoked_keys: list[str] = field(default_factory=list)
    quota: int | None = None
    seed: int | None = None
    chunk_ms: float = 0.0  # streaming: delay between chunks
    bad_json_count: int = 0
    stream_fail_count: int = 0
    job_queue_ms: float = 30.0  # fal: time a request spends IN_QUEUE
    job_run_ms: float = 60.0  # fal: time a request spends IN_PROGRESS

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Knobs | None = None) -> Knobs:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown knobs: {sorted(unknown)}; known: {sorted(names)}")
        merged = {**asdict(base or cls()), **data}
        knobs = cls(**merged)
        if knobs.error_kind not in ERROR_KINDS:
            raise ValueError(f"error_kind must be one of {ERROR_KINDS}")
        if not 0.0 <= knobs.error_rate <= 1.0:
            raise ValueError("error_rate must be within [0, 1]")
        return knobs


class ServiceFaults:
    """Runtime state of one service's knobs (the counters and windows behind them)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.knobs = Knobs()
        self.rng = random.Random()
        self.windows: dict[str, deque[float]] = defaultdict(deque)

    def configure(self, data: dict[str, Any], replace: bool = False) -> None:
        self.knobs = Knobs.from_json(data, None if replace else self.knobs)
        if self.knobs.seed is not None:
            self.rng = random.Random(self.knobs.seed)
        if replace or "rate_limit" in data:
            self.windows.clear()

    def latency_s(self) -> float:
        lat = self.knobs.latency_ms
        if isinstance(lat, int | float):
            return max(0.0, float(lat)) / 1000
        dist = lat.get("dist", "fixed")
        if dist == "uniform":
            ms = self.rng.uniform(float(lat["low"]), float(lat["high"]))
        elif dist == "normal":
            ms = self.rng.gauss(float(lat["mean"]), float(lat.get("sd", 0)))
        elif dist == "lognormal":
            ms = self.rng.lognormvariate(
                math.log(max(float(lat["median"]), 1e-6)), float(lat.get("sigma", 0.5))
            )
        else:
            ms = float(lat.get("ms", lat.get("mean", 0)))
        return max(0.0, ms) / 1000

    def draw_error(self) -> str | None:
        k = self.knobs
        if k.error_count > 0:
            k.error_count -= 1
            return k.error_kind
        if k.error_rate > 0 and self.rng.random() < k.error_rate:
            return k.error_kind
        return None

    def rate_limited(self, key: str) -> tuple[float, int] | None:
        """None if ``key`` may proceed (and count it); else (seconds until a slot frees, the limit)."""
        rl = self.knobs.rate_limit
        if not rl:
            return None
        limit, window = int(rl["requests"]), float(rl.get("window_s", 60))
        now = time.monotonic()
        q = self.windows[key]
        while q and now - q[0] >= window:
            q.popleft()
        if len(q) >= limit:
            return max(0.001, window - (now - q[0])), limit
        q.append(now)
        return None


class FaultBook:
    def __init__(self) -> None:
        self.services = {name: ServiceFaults(name) for name in SERVICES}

    def __getitem__(self, name: str) -> ServiceFaults:
        return self.services[name]

    def reset(self) -> None:
        self.services = {name: ServiceFaults(name) for name in SERVICES}

    def snapshot(self) -> dict[str, Any]:
        return {name: asdict(s.knobs) for name, s in self.services.items()}
