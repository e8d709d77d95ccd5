"""The migrations in `migrations/` describe exactly the models: no drift, and they apply twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
