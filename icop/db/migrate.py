"""Database bootstrap (roles, extension) and a small, tested migration runner.

Migrations are the numbered ``migrations/NNNN_name.sql`` files, applied in order, each in its own
transaction, by the owner role, under an advisory lock so that two deploys cannot race. An applied
migration whose file changed afterwards is refused (checksum), never silently re-run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from icop.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BOOTSTRAP_SQL = Path(__file__).parent / "bootstrap.sql"
LOCK_KEY = 0x1C0F_D8  # pg_advisory_lock key for migrations
APP_ROLE, OWNER_ROLE, AUTH_ROLE = "icop_app", "icop_owner", "icop_auth"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", path.name)
        if not m:
            raise MigrationError(f"migration file name {path.name!r} must look like 0001_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


async def bootstrap(settings: Settings) -> None:
    """Create the roles and the database and install pgvector (superuser; idempotent)."""
    owner_pw = settings.pg_owner_password.get_secret_value()
    app_pw = settings.pg_app_password.get_secret_value()
    conn = await asyncpg.connect(settings.pg_dsn("superuser"))
    try:
        roles = {
            OWNER_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB INHERIT",
            APP_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT NOREPLICATION",
            AUTH_ROLE: "NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT",
        }
        passwords = {OWNER_ROLE: owner_pw, APP_ROLE: app_pw}
        for role, attrs in roles.items():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            sql = f"{verb} ROLE {role} WITH {attrs}"
            if role in passwords:
                sql += " PASSWORD " + await conn.fetchval("SELECT quote_literal($1)", passwords[role])
            await conn.execute(sql)
        # The owner may hand the sign-in lookup functions to icop_auth, but does not inherit its rights.
        await conn.execute(f"GRANT {AUTH_ROLE} TO {OWNER_ROLE} WITH INHERIT FALSE, SET TRUE")
        db = settings.pg_database
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db):
            await conn.execute(f'CREATE DATABASE "{db}" OWNER {OWNER_ROLE} ENCODING UTF8')
        await conn.execute(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
        await conn.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {APP_ROLE}, {OWNER_ROLE}')
    finally:
        await conn.close()
    su_db = settings.pg_dsn("superuser").rsplit("/", 1)[0] + f"/{settings.pg_database}"
    conn = await asyncpg.connect(su_db)
    try:
        await conn.execute(BOOTSTRAP_SQL.read_text())
    finally:
        await conn.close()


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
    return {r["version"]: r["checksum"] for r in rows}


async def migrate(settings: Settings, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply pending migrations as the owner role; return the ones applied now."""
    migrations = discover() if migrations is None else migrations
    conn = await asyncpg.connect(settings.pg_dsn("owner"))
    applied_now: list[Migration] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = await applied_versions(conn)
        for m in migrations:
            if m.version in done:
                if done[m.version] != m.checksum:
                    raise MigrationError(
                        f"migration {m.version:04d}_{m.name} changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version, m.name, m.checksum,
                )  # fmt: skip
            applied_now.append(m)
        await grant_app_privileges(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        await conn.close()
    return applied_now


async def grant_app_privileges(conn: asyncpg.Connection) -> None:
    """The application role may read and write rows (under RLS), and nothing more."""
    await conn.execute(
        f"""
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
        REVOKE ALL ON schema_migrations FROM {APP_ROLE};
        """
    )


async def setup_database(settings: Settings) -> list[Migration]:
    """Bootstrap (when a superuser is known) and migrate: what ``icop db migrate`` does."""
    if settings.superuser_database_url or settings.env == "development":
        await bootstrap(settings)
    return await migrate(settings)
