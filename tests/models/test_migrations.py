"""The migrations in `migrations/` describe exactly the models: no drift, and they apply twice."""

from __future__ import annotations

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from fedgroups.db import MIGRATIONS_CONFIG, migrate
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
