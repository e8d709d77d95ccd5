"""The database layer: SQLite shared by `serve` and the CLI at the same time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from fedgroups.db import database, migrate
from fedgroups.models import DomainBlock
from tests.conftest import make_settings


async def test_a_sqlite_transaction_that_reads_first_still_writes_beside_another_process(
    tmp_path: Path,
) -> None:
    """`fedgroups group create` reads, then writes, while `serve` keeps writing.

    A transaction that began as a reader cannot become a writer once another connection has
    committed (SQLite answers "database is locked" at once, without waiting), so transactions
    take the write lock when they begin, and other writers wait for them instead.
    """
    path = tmp_path / "fedgroups.sqlite3"
    settings = make_settings(f"sqlite://{path}", tmp_path)
    await migrate(settings)
    other_process = sqlite3.connect(path, timeout=0)
    insert = (
        "INSERT INTO domain_blocks (domain, severity, reason, created_at) "
        "VALUES ('other.example', 'suspend', '', '2026-09-01 00:00:00+00:00')"
    )
    async with database(settings), in_transaction():
        assert not await DomainBlock.exists(domain="spam.example")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_process.execute(insert)
        await DomainBlock.create(domain="spam.example")
    other_process.execute(insert)
    other_process.commit()
    other_process.close()
    async with database(settings):
        assert await DomainBlock.all().count() == 2
