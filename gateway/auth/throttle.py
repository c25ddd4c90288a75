"""Sign-in throttling: attempts per account and per client address in sliding windows, counted in
PostgreSQL (every gateway process shares them) before any password is hashed or checked, so a flood costs
one small query per attempt, not an Argon2 computation.

The count is the sliding-window counter: the hits of the current fixed window plus the previous window's
hits weighted by the share of it still inside the last ``window_s`` seconds. A window's edge neither resets
a sprayer's count nor lets twice the limit through around it.

The client address is the connection's peer, or, when the peer is one of ``ICOP_TRUSTED_PROXIES`` (the
dashboard's server, a load balancer), the last address that proxy chain reports in ``X-Forwarded-For``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from fastapi import Request

from icop.errors import RateLimited


@dataclass(frozen=True)
class Bucket:
    """One thing being counted (an account, an address) and how many attempts it may have per window."""

    name: str
    value: str
    limit: int
    refusal: str

    @property
    def key(self) -> bytes:  # the table keeps a digest, not the address or e-mail itself
        return hashlib.sha256(f"{self.name}:{self.value}".encode()).digest()


async def hit(conn: asyncpg.Connection, buckets: Sequence[Bucket], window_s: int) -> None:
    """Count one attempt in every bucket (committed at once); RateLimited if one is over its limit."""
    rows = await conn.fetch("SELECT * FROM auth_throttle_hit($1, $2)", [b.key for b in buckets], window_s)
    counts = {bytes(r["bucket"]): (r["hits"], r["previous_hits"], r["elapsed_s"]) for r in rows}
    for b in buckets:
        hits, previous, elapsed = counts[b.key]
        if weighed(hits, previous, elapsed, window_s) > b.limit:
            retry = retry_after_s(b.limit, hits, previous, elapsed, window_s)
            raise RateLimited(f"{b.refusal}; try again in {retry} s", retry)


def weighed(hits: int, previous: int, elapsed_s: float, window_s: int) -> float:
    """The attempts of the last ``window_s`` seconds, estimated from the two fixed windows' counts."""
    return hits + previous * max(0.0, 1.0 - elapsed_s / window_s)


def retry_after_s(limit: int, hits: int, previous: int, elapsed_s: float, window_s: int) -> int:
    """Whole seconds until one more attempt would be within ``limit`` (if nothing else is attempted)."""
    waits = []
    if hits + 1 <= limit and previous > 0:  # later in this window, as the previous one's weight falls
        at = window_s * (1.0 - (limit - hits - 1) / previous)
        waits.append(at - elapsed_s)
    if limit >= 1:  # in the next window, once this one's weight has fallen enough
        share = max(0.0, 1.0 - (limit - 1) / hits) if hits else 0.0
        waits.append(window_s - elapsed_s + share * window_s)
    return max(1, math.ceil(min(waits, default=2.0 * window_s)))


def _networks(trusted: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(t, strict=False) for t in trusted]


def client_address(request: Request, trusted: Sequence[str]) -> str:
    """The caller's address, following ``X-Forwarded-For`` only through trusted proxies."""
    peer = request.client.host if request.client else ""
    nets = _networks(trusted)

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in n for n in nets)

    if not nets or not is_trusted(peer):
        return peer
    chain = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",")]
    for addr in reversed(chain):  # the right-most address a trusted proxy did not add itself
        if not is_trusted(addr):
            try:
                return str(ipaddress.ip_address(addr))
            except ValueError:
                return peer  # garbage in the header: count it against the proxy
    return peer
