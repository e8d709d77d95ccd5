"""One savepoint per post in a batch, instead of one per service that stores part of it.

Storing a member's post opens a transaction for the post and another for its Announce; in a
batch each is a savepoint inside the item's own (two statements each, a third of a post's
statements). A post in a batch runs under its item's savepoint, and nothing on its way from
the handler to those services catches an error and carries on, so any error rolls the whole
item back anyway: there, `atomic()` adds nothing. Everywhere else it is `in_transaction()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from tortoise.transactions import in_transaction

_whole_item: ContextVar[bool] = ContextVar("fedgroups_whole_item", default=False)


def atomic() -> AbstractAsyncContextManager[Any]:
    """A transaction, or none when the caller already runs inside an item's own savepoint."""
    return nullcontext() if _whole_item.get() else in_transaction()


@contextmanager
def under_item_savepoint(active: bool = True) -> Iterator[None]:
    """Within this block (when `active`), `atomic()` relies on the item's savepoint."""
    token = _whole_item.set(active)
    try:
        yield
    finally:
        _whole_item.reset(token)
