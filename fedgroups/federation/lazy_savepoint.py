"""A post's savepoint in an inbox batch, taken only when the post first writes.

A batch runs every item under a savepoint of its own, so that a failing item is undone alone
(`batches.py`). A post in a batch, though, writes nothing itself: its rows wait in the batch's
`WriteBehind` until the batch writes them together. Its SAVEPOINT was a statement per post, and
on SQLite each statement is a hand-off to the database's thread: a fifth of a post's CPU.

While a post runs, its batch's connection is replaced (for that task alone) by `LazySavepoint`,
which passes everything on and issues the SAVEPOINT just before the first statement that is not
a SELECT, or before a nested transaction begins. A post that writes is protected exactly as
before; one that only reads has nothing to undo.

Only a failing read is left uncovered. On PostgreSQL any failed statement aborts the whole
transaction, and without a savepoint there is nothing to return to: `failed_unprotected` tells
the batch so, and the batch rolls back and runs the items before that post again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.connection import get_connections

T = TypeVar("T")


def _only_reads(query: str) -> bool:
    """A plain SELECT; anything else (a CTE too, which may write) is treated as a write."""
    return query.lstrip()[:6].upper() == "SELECT"


class LazySavepoint:
    """The batch's connection, as seen by one post: it takes the post's savepoint on demand."""

    def __init__(self, connection: BaseDBAsyncClient, name: str) -> None:
        self._connection = connection
        self._name = name
        self.taken = False
        self.failed_unprotected = False

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._connection, attribute)

    async def take(self) -> None:
        """Issue the savepoint now, if it was not issued yet."""
        if not self.taken:
            await self._guarded(lambda: self._connection.execute_query(f"SAVEPOINT {self._name}"))
            self.taken = True

    async def _guarded(self, statement: Callable[[], Awaitable[T]]) -> T:
        try:
            return await statement()
        except Exception:
            if not self.taken:
                self.failed_unprotected = True
            raise

    async def _run(self, query: str, statement: Callable[[], Awaitable[T]]) -> T:
        if not _only_reads(query):
            await self.take()
        return await self._guarded(statement)

    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[Any, Any]]]:
        return await self._run(query, lambda: self._connection.execute_query(query, values))

    async def execute_query_dict(
        self, query: str, values: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        return await self._run(query, lambda: self._connection.execute_query_dict(query, values))

    async def execute_insert(self, query: str, values: list[Any]) -> Any:
        await self.take()
        return await self._connection.execute_insert(query, values)

    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        await self.take()
        await self._connection.execute_many(query, values)

    async def execute_script(self, query: str) -> None:
        await self.take()
        await self._connection.execute_script(query)

    def _in_transaction(self) -> TransactionContext:
        return _NestedAfterSavepoint(self, self._connection)


class _NestedAfterSavepoint(TransactionContext):
    """A nested transaction opened by the post: its savepoint must come after the post's."""

    def __init__(self, lazy: LazySavepoint, connection: BaseDBAsyncClient) -> None:
        self._lazy = lazy
        self._nested = connection._in_transaction()
        self.client = self._nested.client

    async def __aenter__(self) -> TransactionalDBClient:
        await self._lazy.take()
        return await self._nested.__aenter__()

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        await self._nested.__aexit__(exc_type, exc_val, exc_tb)


@contextmanager
def lazy_savepoint(connection: BaseDBAsyncClient, name: str) -> Iterator[LazySavepoint]:
    """Within this block, this task's queries go through a `LazySavepoint` on `connection`."""
    lazy = LazySavepoint(connection, name)
    connections = get_connections()
    token = connections.set(connection.connection_name, cast(BaseDBAsyncClient, lazy))
    try:
        yield lazy
    finally:
        connections.reset(token)
