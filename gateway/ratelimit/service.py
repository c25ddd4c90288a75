"""The rule: at most ``requests_per_window`` requests per tenant per window, by plan; then 429 +
Retry-After."""

from __future__ import annotations

import random
from uuid import UUID

import asyncpg

from icop.errors import Forbidden, RateLimited, Unauthorized

from ..config import GatewayConfig
from .repository import Hit, RateLimitRepository


class RateLimiter:
    def __init__(self, config: GatewayConfig, repo: RateLimitRepository | None = None) -> None:
        self.config = config
        self.repo = repo or RateLimitRepository()

    async def check(self, conn: asyncpg.Connection, tenant_id: UUID) -> str:
        """Count the request (inside the caller's tenant transaction) and return the tenant's plan."""
        return await self.judge(conn, tenant_id, await self.count(conn, tenant_id))

    async def count(
        self, conn: asyncpg.Connection, tenant_id: UUID, session: tuple[UUID, UUID] | None = None
    ) -> Hit:
        """Count the request; with a ``session`` (user id, session id), also learn whether it lives."""
        hit = await self.repo.hit(conn, tenant_id, self.config.rate_window_s, session)
        if hit is None:
            raise Unauthorized("unknown tenant")
        return hit

    async def judge(self, conn: asyncpg.Connection, tenant_id: UUID, hit: Hit) -> str:
        """The tenant's plan, if the counted request is within its limit and the tenant is active."""
        if hit.tenant_status != "active":
            raise Forbidden("this tenant is suspended")
        if random.random() < 0.01:  # keep the table small without a separate job
            await self.repo.prune(conn, tenant_id, 10 * self.config.rate_window_s)
        limit = self.config.plan(hit.plan).requests_per_window
        if hit.hits > limit:
            raise RateLimited(
                f"the {hit.plan} plan allows {limit} requests per {self.config.rate_window_s} s; "
                f"retry in {hit.retry_after_s} s",
                hit.retry_after_s,
            )
        return hit.plan
