"""A real `fedgroups serve` with an open and a members-only group, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, _truncate_all
from tests.e2e.instances import Instance, start_instance


@pytest.fixture(scope="module", params=BACKENDS)
def fedgroups_instance(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instance]:
    """A fresh instance (FEDGROUPS_ALLOW_PRIVATE_PEERS=1, so it reaches the suite's peer).

    Shared by the module's tests: each run of the suite uses its own peer actors and leaves
    the groups as it found them.
    """
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_all(database_url))
    running = start_instance(tmp_path_factory.mktemp("instance"), database_url)
    try:
        running.cli("group", "create", "support", "--name", "Support circle")
        running.cli("group", "create", "secret", "--name", "Secret circle", "--private")
        yield running
    finally:
        running.stop()
