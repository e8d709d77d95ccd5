"""E2E fixtures: a real `fedgroups serve` process per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import _POSTGRES_SERVER, BACKENDS, _server_url_with_db
from tests.e2e.circles import Circle, start_circle
from tests.e2e.instances import Instance, start_instance


@pytest.fixture(params=BACKENDS)
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instance]:
    """One running instance with a fresh database of the given backend."""
    database_url = None
    if request.param == "postgres":
        import asyncio

        from tests.conftest import _truncate_all

        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_all(database_url))
    running = start_instance(tmp_path / "instance", database_url)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def circle(instance: Instance) -> AsyncIterator[Circle]:
    """A group followed by Mastodon-like, Lemmy-like and unknown peers (`tests.e2e.circles`)."""
    async with start_circle(instance) as started:
        yield started


@pytest.fixture(scope="module", params=BACKENDS)
def start_instances(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., list[Instance]]]:
    """Factory for several instances, each with its own fresh database of the backend.

    Module-scoped: starting processes is the slow part, so a module's tests share them.
    On PostgreSQL every instance gets a throwaway database, dropped afterwards.
    """
    started: list[Instance] = []
    databases: list[str] = []

    def start_one(name: str) -> Instance:
        database_url = None
        if request.param == "postgres":
            database = f"fedgroups_e2e_{uuid.uuid4().hex[:10]}"
            asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
            databases.append(database)
            database_url = _server_url_with_db(database)
        directory = tmp_path_factory.mktemp(f"instance-{name}-{request.param}")
        running = start_instance(directory, database_url)
        started.append(running)  # stopped at the end even if a sibling fails to start
        return running

    def start(*names: str) -> list[Instance]:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:  # migrations run in parallel
            return list(pool.map(start_one, names))

    try:
        yield start
    finally:
        for running in started:
            running.stop()
        for database in databases:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_POSTGRES_SERVER)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
