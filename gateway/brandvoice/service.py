"""Rules for brand-voice samples: editors add and delete them, viewers list them. Validation, limits
and the embedding are the core's (``icop.brandvoice``); its repository holds every SQL statement."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from icop.brandvoice import BrandVoice
from icop.brandvoice.repository import BrandVoiceRepository
from icop.embeddings import EmbeddingChoice
from icop.errors import NotFound

from ..context import Services, Tx
from ..pagination import decode_cursor, page_of
from .schemas import SampleOut, SamplesCreate

repo = BrandVoiceRepository()


def brand_voice(services: Services) -> BrandVoice:
    """The core over the process's embedders (the request's transaction is passed per call)."""
    return BrandVoice(None, EmbeddingChoice.from_settings(services.settings))


def to_out(row: asyncpg.Record) -> SampleOut:
    return SampleOut(**dict(row))


async def add(tx: Tx, body: SamplesCreate) -> list[SampleOut]:
    rows = await brand_voice(tx.services).add_in(
        tx.conn, tx.tenant_id, body.texts, body.language, body.pipeline_id
    )
    return [to_out(r) for r in rows]


async def list_page(
    tx: Tx, language: str | None, pipeline_id: UUID | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    rows = await repo.page(tx.conn, tx.tenant_id, language, pipeline_id, decode_cursor(cursor), limit)
    return page_of(rows, limit, to_out)


async def get(tx: Tx, sample_id: UUID) -> SampleOut:
    row = await repo.get(tx.conn, tx.tenant_id, sample_id)
    if row is None:
        raise NotFound("no such brand-voice sample")
    return to_out(row)


async def delete(tx: Tx, sample_id: UUID) -> None:
    if not await repo.delete(tx.conn, tx.tenant_id, sample_id):
        raise NotFound("no such brand-voice sample")
