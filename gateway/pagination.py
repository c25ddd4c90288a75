"""Keyset pagination over ``(created_at, id)`` descending, with an opaque cursor."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from icop.errors import InvalidRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.")


def encode_cursor(created_at: datetime, id_: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{id_}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, id_ = raw.partition("|")
        created = datetime.fromisoformat(ts)
        if created.tzinfo is None:
            raise ValueError("naive")
        return created, UUID(id_)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidRequest("invalid cursor") from e


def page_of(
    rows: Sequence[Mapping[str, Any]], limit: int, to_item: Callable[[Mapping[str, Any]], object]
) -> dict[str, Any]:
    """Rows fetched with ``limit + 1``: the extra one only says that a next page exists."""
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return {"items": [to_item(r) for r in rows], "next_cursor": nxt}
