"""The migrations in `migrations/` describe exactly the models: no drift, and they apply twice."""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.autodetector import MigrationAutodetector

from fedgroups.db import MIGRATIONS_CONFIG, migrate, tortoise_config
from fedgroups.models import Group
from fedgroups.settings import Settings


async def test_models_and_migrations_do_not_drift() -> None:
    async with TortoiseContext() as context:
        await context.init(config=MIGRATIONS_CONFIG)
        detector = MigrationAutodetector(context.apps, MIGRATIONS_CONFIG["apps"])
        writers = await detector.changes()
    pending = [operation for writer in writers for operation in writer.operations]
    assert pending == [], "models changed without a migration: run `make migrations`"


async def test_migrate_is_idempotent(settings: Settings, tmp_path: Path) -> None:
    await migrate(settings)
    await migrate(settings)


async def test_schema_is_usable(db: None) -> None:
    assert await Group.all().count() == 0


def _indexed_columns(path: Path) -> dict[str, set[tuple[str, ...]]]:
    connection = sqlite3.connect(path)
    try:
        found: dict[str, set[tuple[str, ...]]] = {}
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables.fetchall():
            indexes = connection.execute(f'PRAGMA index_list("{table}")').fetchall()
            found[table] = {
                tuple(row[2] for row in connection.execute(f'PRAGMA index_info("{index[1]}")'))
                for index in indexes
            }
        return found
    finally:
        connection.close()


async def test_migrated_sqlite_has_every_index_the_models_declare(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter a column; a rebuild must not lose the table's indexes."""
    migrated, generated = tmp_path / "migrated.sqlite3", tmp_path / "generated.sqlite3"
    await migrate(
        Settings.from_env(
            {"FEDGROUPS_DATABASE_URL": f"sqlite://{migrated}", "FEDGROUPS_DATA_DIR": str(tmp_path)}
        )
    )
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(f"sqlite://{generated}"))
        await context.generate_schemas()
    have, want = _indexed_columns(migrated), _indexed_columns(generated)
    missing = {table: want[table] - have.get(table, set()) for table in want}
    assert {table: columns for table, columns in missing.items() if columns} == {}


_POSTGRES_SERVER = os.environ.get("FEDGROUPS_TEST_POSTGRES", "")
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# A value for each declared SQLite column type, enough for a row to exist while later
# migrations rebuild or extend its table.
_SAMPLE_BY_TYPE = {"INT": 1, "REAL": 1.0, "TIMESTAMP": "2026-01-01 00:00:00+00:00"}


def _migration_names() -> list[str]:
    return sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))


def _sample(declared_type: str) -> object:
    upper = declared_type.upper()
    for marker, value in _SAMPLE_BY_TYPE.items():
        if marker in upper:
            return value
    return "1"  # text, varchar and JSON alike: "1" is valid JSON too


def _is_rowid(pk: int, declared_type: str) -> bool:
    """SQLite numbers an INTEGER PRIMARY KEY itself."""
    return bool(pk) and declared_type.upper() == "INTEGER"


def _fill_empty_tables(path: Path) -> None:
    """One row in every table that has none, with a value in each column that needs one."""
    connection = sqlite3.connect(path)
    try:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'tortoise_%'"
        ).fetchall()
        for (table,) in tables:
            if connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
                continue
            columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
            needed = [(name, kind) for _, name, kind, notnull, default, pk in columns
                      if notnull and default is None and not _is_rowid(pk, kind)]  # fmt: skip
            names = ", ".join(f'"{name}"' for name, _ in needed)
            marks = ", ".join("?" for _ in needed)
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})' if needed else (
                f'INSERT INTO "{table}" DEFAULT VALUES'
            )  # fmt: skip
            connection.execute(sql, [_sample(kind) for _, kind in needed])
        connection.commit()
    finally:
        connection.close()


async def test_every_migration_upgrades_a_database_that_holds_data(tmp_path: Path) -> None:
    """Instances upgrade with rows in every table: a NOT NULL column added without a database
    default fails there (SQLite rebuilds the table, PostgreSQL refuses), never on a fresh one."""
    path = tmp_path / "upgraded.sqlite3"
    config = tortoise_config(f"sqlite://{path}")
    for name in _migration_names():
        async with TortoiseContext():
            await run_migrations(config=config, target=f"models.{name}")
        _fill_empty_tables(path)


_PG_SAMPLES = {
    "integer": 1, "bigint": 1, "smallint": 1, "boolean": True, "double precision": 1.0,
    "numeric": 1, "timestamp with time zone": datetime(2026, 1, 1, tzinfo=UTC),
    "timestamp without time zone": datetime(2026, 1, 1), "date": date(2026, 1, 1),
}  # fmt: skip


async def _fill_empty_postgres_tables(url: str) -> None:
    """`_fill_empty_tables` for PostgreSQL; foreign keys are not checked while filling."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET session_replication_role = replica")
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name NOT LIKE 'tortoise_%' "
            "AND is_nullable = 'NO' AND column_default IS NULL ORDER BY table_name"
        )
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'tortoise_%'"
        )
        for (table,) in tables:
            if await connection.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                continue
            needed = [row for row in columns if row["table_name"] == table]
            names = ", ".join(f'"{row["column_name"]}"' for row in needed)
            marks = ", ".join(f"${number}" for number in range(1, len(needed) + 1))
            values = [_PG_SAMPLES.get(row["data_type"], "1") for row in needed]
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})' if needed else (
                f'INSERT INTO "{table}" DEFAULT VALUES'
            )  # fmt: skip
            await connection.execute(sql, *values)
    finally:
        await connection.close()


@pytest.mark.skipif(not _POSTGRES_SERVER, reason="needs FEDGROUPS_TEST_POSTGRES")
async def test_every_migration_upgrades_a_postgres_database_that_holds_data() -> None:
    name = f"fedgroups_upgrade_{uuid.uuid4().hex[:10]}"
    server = await asyncpg.connect(_POSTGRES_SERVER)
    await server.execute(f'CREATE DATABASE "{name}"')
    url = _POSTGRES_SERVER.rstrip("/").rpartition("/")[0] + f"/{name}"
    try:
        for migration in _migration_names():
            async with TortoiseContext():
                await run_migrations(config=tortoise_config(url), target=f"models.{migration}")
            await _fill_empty_postgres_tables(url)
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


_PG_INDEXES = """
SELECT t.relname AS table_name, array_agg(a.attname ORDER BY k.n) AS columns
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace s ON s.oid = t.relnamespace
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE s.nspname = 'public'
GROUP BY t.relname, i.indexrelid
"""


async def _postgres_indexed_columns(url: str) -> dict[str, set[tuple[str, ...]]]:
    connection = await asyncpg.connect(url)
    try:
        found: dict[str, set[tuple[str, ...]]] = {}
        for row in await connection.fetch(_PG_INDEXES):
            found.setdefault(row["table_name"], set()).add(tuple(row["columns"]))
        return found
    finally:
        await connection.close()


@pytest.mark.skipif(not _POSTGRES_SERVER, reason="needs FEDGROUPS_TEST_POSTGRES")
async def test_migrated_postgres_has_every_index_the_models_declare(tmp_path: Path) -> None:
    """An operation that adds a column may leave its declared index behind (posts.source_ap_id
    had none on PostgreSQL, so looking a post up by its source read the whole table)."""
    names = [f"fedgroups_indexes_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    server = await asyncpg.connect(_POSTGRES_SERVER)
    urls = [_POSTGRES_SERVER.rstrip("/").rpartition("/")[0] + f"/{name}" for name in names]
    try:
        for name in names:
            await server.execute(f'CREATE DATABASE "{name}"')
        migrated, generated = urls
        await migrate(
            Settings.from_env(
                {"FEDGROUPS_DATABASE_URL": migrated, "FEDGROUPS_DATA_DIR": str(tmp_path)}
            )
        )
        async with TortoiseContext() as context:
            await context.init(config=tortoise_config(generated))
            await context.generate_schemas()
        have = await _postgres_indexed_columns(migrated)
        want = await _postgres_indexed_columns(generated)
        missing = {table: want[table] - have.get(table, set()) for table in want}
        assert {table: columns for table, columns in missing.items() if columns} == {}
    finally:
        for name in names:
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()
