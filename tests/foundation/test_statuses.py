"""Every stored status has one home: the CHECK constraint of its column lists exactly its enum's values."""

from __future__ import annotations

import re

import asyncpg

from icop.statuses import CHECKED


async def _check_values(conn: asyncpg.Connection, table: str, column: str) -> set[str] | None:
    """The values a CHECK ``column IN (...)`` (Postgres shows it as ``= ANY (ARRAY[...])``) allows."""
    defs = await conn.fetch(
        """SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           WHERE c.contype = 'c' AND t.relname = $1""",
        table,
    )
    for d in defs:
        text = d["def"]
        if re.search(rf"\(\(?{column}\s*=\s*ANY", text):
            return set(re.findall(r"'([^']*)'::text", text))
    return None


async def test_every_status_check_lists_exactly_its_enum(owner_conn: asyncpg.Connection) -> None:
    mismatches = {}
    for (table, column), enum in CHECKED.items():
        allowed = await _check_values(owner_conn, table, column)
        expected = {m.value for m in enum}
        if allowed != expected:
            mismatches[f"{table}.{column}"] = (allowed, expected)
    assert not mismatches, f"CHECK constraint vs enum (db, code): {mismatches}"


async def test_the_check_refuses_a_status_outside_the_enum(owner_conn: asyncpg.Connection) -> None:
    allowed = await _check_values(owner_conn, "run_rows", "status")
    assert allowed is not None and "done" in allowed and "bogus" not in allowed
