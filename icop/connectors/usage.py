"""Usage records (tokens, images) per tenant, for cost accounting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

import asyncpg

from icop.db import tenant_tx


@dataclass(frozen=True)
class UsageEvent:
    kind: Literal["llm", "image", "embedding"]
    provider: str
    model: str
    operation: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    images: int = 0
    article_id: UUID | None = None
    cache_read_tokens: int = 0  # of prompt_tokens: read from the vendor's prompt cache
    cache_write_tokens: int = 0  # of prompt_tokens: written to it


class UsageSink(Protocol):
    async def record(self, tenant_id: UUID | str, event: UsageEvent) -> None: ...


class UsageRecorder:
    """Writes usage rows through ``tenant_tx`` (row-level security sees only that tenant)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, tenant_id: UUID | str, event: UsageEvent) -> None:
        async with tenant_tx(self.pool, tenant_id) as conn:
            await conn.execute(
                """INSERT INTO usage_records
                     (tenant_id, article_id, kind, provider, model, operation,
                      prompt_tokens, completion_tokens, images, cache_read_tokens, cache_write_tokens)
                   VALUES (current_setting('app.tenant_id')::uuid,
                           $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
                event.article_id,
                event.kind,
                event.provider,
                event.model,
                event.operation,
                event.prompt_tokens,
                event.completion_tokens,
                event.images,
                event.cache_read_tokens,
                event.cache_write_tokens,
            )


@dataclass
class Metering:
    """Where a connector reports usage: an optional sink and the tenant it bills."""

    sink: UsageSink | None = None
    tenant_id: UUID | str | None = None

    @classmethod
    def to_db(cls, pool: asyncpg.Pool | None, tenant_id: UUID | str | None = None) -> Metering:
        """Record into ``usage_records`` through ``pool`` (None: record nothing)."""
        return cls(UsageRecorder(pool) if pool is not None else None, tenant_id)

    async def record(self, event: UsageEvent, tenant_id: UUID | str | None = None) -> None:
        tenant = tenant_id or self.tenant_id
        if self.sink is not None and tenant is not None:
            await self.sink.record(tenant, event)
