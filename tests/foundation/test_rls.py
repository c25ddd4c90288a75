"""Row-level security, checked as the application role against the real database."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from icop.db import create_pool, savepoint, tenant_tx
from icop.settings import Settings
from tests.conftest import place_throttle_hits


async def _make_tenant(pool: asyncpg.Pool, name: str) -> uuid.UUID:
    tid = uuid.uuid4()
    async with tenant_tx(pool, tid) as conn:
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tid, name)
        await conn.execute(
            "INSERT INTO users (tenant_id, email, role, password_hash) VALUES ($1, $2, 'admin', 'x')",
            tid, f"admin-{tid}@example.com",
        )  # fmt: skip
    return tid


async def test_every_tenant_table_has_forced_rls_and_a_policy(owner_conn: asyncpg.Connection) -> None:
    rows = await owner_conn.fetch(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                       AND NOT a.attisdropped) OR c.relname = 'tenants')
        """
    )
    assert len(rows) >= 12, [r["relname"] for r in rows]
    missing = [
        r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"] and r["policies"])
    ]
    assert missing == [], f"tables with tenant_id but without ENABLE+FORCE RLS and a policy: {missing}"
    # And every table but the migration ledger and the sign-in throttle's counters (before any tenant is
    # known; forced RLS without a policy, so the app role sees none of it) is tenant-owned.
    others = await owner_conn.fetch(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('tenants', 'schema_migrations', 'auth_throttle')
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
        """
    )
    assert [r["relname"] for r in others] == []


async def test_app_role_attributes(app_pool: asyncpg.Pool) -> None:
    async with app_pool.acquire() as conn:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        )
        assert not any(role.values())
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class "
            "WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert owned == 0


async def test_tenant_sees_only_its_rows_even_without_where(app_pool: asyncpg.Pool) -> None:
    a = await _make_tenant(app_pool, "A")
    b = await _make_tenant(app_pool, "B")
    async with tenant_tx(app_pool, a) as conn:
        tenants = await conn.fetch("SELECT id FROM tenants")
        users = await conn.fetch("SELECT tenant_id FROM users")
    assert [r["id"] for r in tenants] == [a]
    assert {r["tenant_id"] for r in users} == {a}
    async with tenant_tx(app_pool, b) as conn:
        assert await conn.fetchval("SELECT count(*) FROM users WHERE tenant_id = $1", a) == 0


async def test_no_tenant_set_means_no_rows(app_pool: asyncpg.Pool) -> None:
    await _make_tenant(app_pool, "C")
    async with app_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
        assert await conn.fetchval("SELECT count(*) FROM tenants") == 0
        # After a tenant transaction ends, the setting is gone from the pooled connection.
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(uuid.uuid4()))
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
        assert await conn.fetchval("SELECT icop_current_tenant()") is None


async def test_cross_tenant_insert_update_delete_refused(app_pool: asyncpg.Pool) -> None:
    a = await _make_tenant(app_pool, "D")
    b = await _make_tenant(app_pool, "E")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_tx(app_pool, a) as conn:
            await conn.execute(
                "INSERT INTO users (tenant_id, email, role, password_hash) "
                "VALUES ($1, 'x@evil.test', 'admin', 'x')",
                b,
            )
    async with tenant_tx(app_pool, a) as conn:
        assert await conn.execute("UPDATE users SET role = 'viewer' WHERE tenant_id = $1", b) == "UPDATE 0"
        assert await conn.execute("DELETE FROM users WHERE tenant_id = $1", b) == "DELETE 0"
        # Moving one's own row into another tenant is refused by WITH CHECK.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with savepoint(conn):
                await conn.execute("UPDATE users SET tenant_id = $1 WHERE tenant_id = $2", b, a)
    async with tenant_tx(app_pool, b) as conn:
        assert await conn.fetchval("SELECT role FROM users WHERE tenant_id = $1", b) == "admin"


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE users DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON users",
        "SET ROLE icop_owner",
        "SET ROLE icop_auth",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION icop_owner",
        "CREATE TABLE sneaky (id int)",
        "SELECT * FROM schema_migrations",
    ],
)
async def test_app_role_cannot_escape(app_pool: asyncpg.Pool, statement: str) -> None:
    async with app_pool.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError) as info:
            await conn.execute(statement)
        assert isinstance(info.value, asyncpg.InsufficientPrivilegeError | asyncpg.UndefinedObjectError), (
            info.value
        )


async def test_tenant_tx_rejects_non_uuid(app_pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError):
        async with tenant_tx(app_pool, "' OR 1=1 --"):
            pass


async def test_sign_in_lookup_reveals_only_the_tenant_id(app_pool: asyncpg.Pool) -> None:
    a = await _make_tenant(app_pool, "F")
    async with app_pool.acquire() as conn:
        assert await conn.fetchval("SELECT auth_user_tenant($1)", f"ADMIN-{a}@example.com") == a
        assert await conn.fetchval("SELECT auth_user_tenant('nobody@example.com')") is None
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE icop_auth")


async def test_operator_lookups_reveal_only_ids_and_schedules(app_pool: asyncpg.Pool) -> None:
    a = await _make_tenant(app_pool, "H")
    async with tenant_tx(app_pool, a) as conn:
        pid = await conn.fetchval(
            """INSERT INTO content_pipelines (tenant_id, name, source_kind, sheet_id, cron, timezone)
               VALUES ($1, 'secret name', 'sheet', 'secret-sheet', '0 9 * * 1', 'Asia/Seoul') RETURNING id""",
            a,
        )
    async with app_pool.acquire() as conn:  # no tenant set: the table itself shows nothing
        assert await conn.fetchval("SELECT count(*) FROM content_pipelines") == 0
        assert await conn.fetchval("SELECT ops_pipeline_tenant($1)", pid) == a
        assert await conn.fetchval("SELECT ops_pipeline_tenant($1)", uuid.uuid4()) is None
        rows = await conn.fetch("SELECT * FROM ops_pipeline_schedules() WHERE id = $1", pid)
        assert [dict(r) for r in rows] == [
            {"tenant_id": a, "id": pid, "cron": "0 9 * * 1", "timezone": "Asia/Seoul", "status": "active"}
        ]
    async with tenant_tx(app_pool, a) as conn:
        await conn.execute(
            "INSERT INTO api_credentials (tenant_id, platform, account_id, account_name, access_token_enc)"
            " VALUES ($1, 'x', 'ops-x', 'secret name', '\\x00')",
            a,
        )
    async with app_pool.acquire() as conn:  # the insights schedules' lookup: ids and a flag, no more
        rows = await conn.fetch("SELECT * FROM ops_insights_accounts() WHERE tenant_id = $1", a)
        assert [dict(r) for r in rows] == [
            {"tenant_id": a, "platform": "x", "account_id": "ops-x", "collecting": False}
        ]
    async with tenant_tx(app_pool, a) as conn:  # not a real ciphertext: other tests rotate every credential
        await conn.execute("DELETE FROM api_credentials WHERE tenant_id = $1 AND account_id = 'ops-x'", a)


async def test_vector_similarity_uses_hnsw_under_rls(app_pool: asyncpg.Pool) -> None:
    import numpy as np

    a = await _make_tenant(app_pool, "G")
    rng = np.random.default_rng(0)
    async with tenant_tx(app_pool, a) as conn:
        await conn.executemany(
            "INSERT INTO subtopics (tenant_id, main_topic, label, embedding) VALUES ($1, 'm', $2, $3)",
            [(a, f"label {i}", rng.random(384).astype(np.float32)) for i in range(20)],
        )
        q = rng.random(384).astype(np.float32)
        rows = await conn.fetch("SELECT label FROM subtopics ORDER BY embedding <=> $1 LIMIT 3", q)
        assert len(rows) == 3
        await conn.execute("SET LOCAL enable_seqscan = off")
        await conn.execute("SET LOCAL enable_sort = off")  # few rows: show the HNSW index can serve ORDER BY
        plan = "\n".join(
            r[0]
            for r in await conn.fetch("EXPLAIN SELECT id FROM subtopics ORDER BY embedding <=> $1 LIMIT 3", q)
        )
        assert "subtopics_embedding_hnsw" in plan


async def test_sign_in_throttle_counters_are_reachable_only_through_their_function(
    app_pool: asyncpg.Pool,
) -> None:
    key = uuid.uuid4().bytes
    async with app_pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM auth_throttle_hit($1, 60)", [key])
        assert [(bytes(r["bucket"]), r["hits"]) for r in rows] == [(key, 1)]
        again = (await conn.fetch("SELECT * FROM auth_throttle_hit($1, 60)", [key]))[0]
        assert again["hits"] + again["previous_hits"] == 2  # (the two calls may straddle a window's edge)
        assert await conn.fetchval("SELECT count(*) FROM auth_throttle") == 0  # forced RLS, no policy
        assert await conn.execute("DELETE FROM auth_throttle") == "DELETE 0"


async def test_sign_in_throttle_answers_the_previous_windows_hits(
    app_pool: asyncpg.Pool, owner_conn: asyncpg.Connection
) -> None:
    """The sliding count needs the previous fixed window's hits: seven placed there (as the owner), one more
    now; the function answers both and how far into the current window it is."""
    key = uuid.uuid4().bytes
    window = 3600
    await place_throttle_hits(owner_conn, key, window, 7)
    async with app_pool.acquire() as conn:
        row = (await conn.fetch("SELECT * FROM auth_throttle_hit($1, $2)", [key], window))[0]
    if row["previous_hits"] == 0:  # the hour turned between the two statements: the seven are 2 windows back
        assert row["hits"] == 1 and row["elapsed_s"] < 5
        return
    assert (row["hits"], row["previous_hits"]) == (1, 7)
    assert 0 <= row["elapsed_s"] < window


async def test_a_failed_tenant_transaction_rolls_back_and_leaves_the_connection_clean(
    settings: Settings,
) -> None:
    """``tenant_tx`` begins with one statement: an error in the block rolls it back, and the pooled
    connection goes back with no transaction and no tenant (a pool of one, so the next user gets it)."""
    pool = await create_pool(settings.pg_dsn("app"), 1, 1)
    try:
        tid = await _make_tenant(pool, "F")
        with pytest.raises(ZeroDivisionError):
            async with tenant_tx(pool, tid) as conn:
                await conn.execute("UPDATE tenants SET name = 'changed' WHERE id = $1", tid)
                raise ZeroDivisionError
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT icop_current_tenant()") is None
            # A transaction left open by its user is rolled back when the connection goes back.
            await conn.execute(f"BEGIN; SELECT set_config('app.tenant_id', '{tid}', true)")
            await conn.execute("UPDATE tenants SET name = 'left open' WHERE id = $1", tid)
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT icop_current_tenant()") is None
        async with tenant_tx(pool, tid, durable=False) as conn:
            assert await conn.fetchval("SELECT name FROM tenants WHERE id = $1", tid) == "F"
            assert await conn.fetchval("SHOW synchronous_commit") == "off"
        async with tenant_tx(pool, tid) as conn:
            assert await conn.fetchval("SHOW synchronous_commit") != "off"
    finally:
        await pool.close()
