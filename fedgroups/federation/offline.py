"""Work that must not wait on the network: inbox items processed inside a batch's transaction.

A batch holds one transaction open for many items (on SQLite, the database's write lock), so
an item that needs a remote document (an unknown actor, a post given by id, a peer's NodeInfo)
must not fetch it there: the fetch raises `NetworkNeeded` instead, and the item is run again
on its own, outside the batch, where it may fetch as long as it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_offline: ContextVar[bool] = ContextVar("fedgroups_offline", default=False)


class NetworkNeeded(Exception):
    """Raised by a fetch attempted while offline; the item is run again outside the batch."""


@contextmanager
def offline() -> Iterator[None]:
    """Within this block, any remote fetch raises `NetworkNeeded` instead of waiting."""
    token = _offline.set(True)
    try:
        yield
    finally:
        _offline.reset(token)


def check_online(url: str) -> None:
    """Called before every remote fetch."""
    if _offline.get():
        raise NetworkNeeded(f"{url} would be fetched inside a batch")
