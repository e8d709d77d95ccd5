"""Opening, migrating and closing the database, for the web app, workers, CLI and tests alike.

Each instance gets its own `TortoiseContext`, so several instances (or tests) can live in one
process; `bind_context` makes a context current for code running in another task.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, _current_context
from tortoise.migrations.api import migrate as run_migrations

from fedgroups.errors import ConfigError
from fedgroups.settings import Settings

MODELS_MODULE = "fedgroups.models"
MIGRATIONS_MODULE = "migrations"
SQLITE_ENGINE = "fedgroups.sqlite_backend"  # transactions begin as writers: see that module


def _connection_name(database_url: str) -> str:
    # tortoise caches compiled SQL per connection name; naming the connection after its
    # dialect keeps SQLite and PostgreSQL statements apart when one process uses both.
    return "sqlite" if database_url.startswith("sqlite://") else "postgres"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The tortoise configuration for one database: one app, its migrations package."""
    name = _connection_name(database_url)
    connection: str | dict[str, Any] = database_url
    if name == "sqlite":
        connection = {**expand_db_url(database_url), "engine": SQLITE_ENGINE}
    return {
        "connections": {name: connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": name,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(database_url: str) -> None:
    if not database_url.startswith("sqlite://"):
        return
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create database directory for {path}: {exc}") from exc


async def migrate(settings: Settings) -> None:
    """Create or upgrade the schema to the latest migration."""
    _ensure_sqlite_dir(settings.database_url)
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(settings.database_url))


async def _tune_sqlite(context: TortoiseContext) -> None:
    # WAL lets readers proceed while the single writer commits; NORMAL sync is safe with WAL.
    connection = context.db()
    await connection.execute_script(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
    )


async def open_database(settings: Settings) -> TortoiseContext:
    """Connect to the instance's database; the caller closes it with `close_connections()`."""
    _ensure_sqlite_dir(settings.database_url)
    context = TortoiseContext()
    with bind_context(context):
        await context.init(config=tortoise_config(settings.database_url))
        if settings.is_sqlite:
            await _tune_sqlite(context)
    return context


@contextlib.contextmanager
def bind_context(context: TortoiseContext) -> Iterator[None]:
    """Make `context` the current database for the code inside (this task only)."""
    token = _current_context.set(context)
    try:
        yield
    finally:
        _current_context.reset(token)


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[TortoiseContext]:
    """Open the database, bind it for the block, and close it afterwards."""
    context = await open_database(settings)
    try:
        with bind_context(context):
            yield context
    finally:
        await context.close_connections()


# For tortoise's own CLI (`tortoise -c fedgroups.db.MIGRATIONS_CONFIG makemigrations`), which
# compares the models with the migrations and needs no real database to do so.
MIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")
