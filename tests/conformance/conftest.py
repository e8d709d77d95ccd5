"""A real `fedgroups serve` with an open and a members-only group, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, _truncate_all
from tests.e2e.instances import Instance, start_instance


@pytest.fixture(params=BACKENDS)
def fedgroups_instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instance]:
    """A fresh instance (FEDGROUPS_ALLOW_PRIVATE_PEERS=1, so it reaches the suite's peer)."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_all(database_url))
    running = start_instance(tmp_path / "instance", database_url)
    try:
        running.cli("group", "create", "support", "--name", "Support circle")
        running.cli("group", "create", "secret", "--name", "Secret circle", "--private")
        yield running
    finally:
        running.stop()
