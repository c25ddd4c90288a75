"""The migration runner against the real server: empty database, migrated database, edited migration."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from icop.db.migrate import Migration, MigrationError, discover, migrate, setup_database
from icop.settings import Settings


@pytest.fixture
async def fresh_db(settings: Settings):
    name = f"icop_m_{uuid.uuid4().hex[:8]}"
    s = settings.model_copy(update={"pg_database": name})
    yield s
    conn = await asyncpg.connect(settings.pg_dsn("superuser"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_migrations_apply_on_empty_then_on_migrated_database(fresh_db: Settings) -> None:
    applied = await setup_database(fresh_db)
    assert [m.version for m in applied] == [m.version for m in discover()]
    again = await setup_database(fresh_db)
    assert again == []
    conn = await asyncpg.connect(fresh_db.pg_dsn("owner"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(discover())
        assert await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert await conn.fetchval("SELECT current_setting('server_version_num')::int / 10000") == 16
    finally:
        await conn.close()


async def test_edited_migration_is_refused(fresh_db: Settings) -> None:
    await setup_database(fresh_db)
    first = discover()[0]
    edited = [Migration(first.version, first.name, first.sql + "\n-- edited"), *discover()[1:]]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(fresh_db, edited)


async def test_new_migration_is_applied_once(fresh_db: Settings) -> None:
    await setup_database(fresh_db)
    extra = Migration(
        9999,
        "probe",
        "CREATE TABLE probe_table (tenant_id uuid NOT NULL);SELECT icop_enable_tenant_rls('probe_table');",
    )
    applied = await migrate(fresh_db, [*discover(), extra])
    assert [m.version for m in applied] == [9999]
    assert await migrate(fresh_db, [*discover(), extra]) == []
