"""The migrations in `migrations/` describe exactly the models: no drift, and they apply twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tortoise.context import TortoiseContext
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
