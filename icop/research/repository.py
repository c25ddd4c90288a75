"""Every SQL statement of research: a tenant's own search keys, and the per-tenant page cache.

Each function takes a connection opened by ``icop.db.tenant_tx`` and still filters by tenant.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def search_credentials(conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
    """The tenant's active search keys, newest first per platform."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT id, platform, account_id, access_token_enc FROM api_credentials
           WHERE tenant_id = $1 AND platform IN ('tavily', 'naver') AND status = 'active'
           ORDER BY platform, updated_at DESC""",
        tenant_id,
    )
    return rows


async def cached_page(conn: asyncpg.Connection, tenant_id: UUID, url: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT url, status_code, content_type, etag, last_modified, body, expires_at
           FROM research_pages WHERE tenant_id = $1 AND url = $2""",
        tenant_id,
        url,
    )


async def store_page(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    url: str,
    status_code: int,
    content_type: str,
    etag: str | None,
    last_modified: str | None,
    body: str | None,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO research_pages (tenant_id, url, status_code, content_type, etag, last_modified, body,
                                      expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, url) DO UPDATE
             SET status_code = EXCLUDED.status_code, content_type = EXCLUDED.content_type,
                 etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, body = EXCLUDED.body,
                 fetched_at = now(), expires_at = EXCLUDED.expires_at""",
        tenant_id,
        url,
        status_code,
        content_type,
        etag,
        last_modified,
        body,
        expires_at,
    )


async def refresh_page(conn: asyncpg.Connection, tenant_id: UUID, url: str, expires_at: datetime) -> None:
    """A 304: the stored copy is good for another period."""
    await conn.execute(
        "UPDATE research_pages SET expires_at = $3, fetched_at = now() WHERE tenant_id = $1 AND url = $2",
        tenant_id,
        url,
        expires_at,
    )
