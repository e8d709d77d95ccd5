"""E2E fixtures: a real `fedgroups serve` process per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
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
