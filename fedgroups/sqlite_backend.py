"""tortoise's SQLite backend, with transactions that take the write lock when they begin.

`serve` and the CLI (`group create`, `group approve`, `domain block` ...) share one SQLite file.
A transaction begun with a plain BEGIN starts as a reader; once another process has committed,
it can no longer become a writer and SQLite fails it at once with "database is locked",
without waiting out the busy timeout. BEGIN IMMEDIATE takes the write lock up front, so
concurrent writers wait for each other instead. Named as an `engine` in the tortoise config.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
