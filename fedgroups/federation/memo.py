"""Lookups remembered for the length of one inbox batch: the group, its members' addresses,
the sender, the keyword rules, read once for many posts instead of once per post.

Only posts (Create) are processed with a memo: a post changes none of what is remembered
(memberships, groups, actors, rules, domain policy), while a Follow, a Block or an Update may,
so anything else runs without it and empties it, and so does an item run on its own. What a
post does change, which posts a group carries, is read ahead as answers given once each
(`posting.recall_carried`): the same question asked again goes to the database. A batch
takes well under a second, so a change made meanwhile by another process (a ban, a new rule)
is seen by the next batch, as it would be by the next item. Outside a batch, `remembered`
simply computes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("fedgroups_memo", default=None)


async def remembered(key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
    """`compute()`, or what it gave for `key` earlier in this memo. Callers must not change
    what they get: the next post gets the same object."""
    memo = _memo.get()
    if memo is None:
        return await compute()
    if key in memo:
        value: T = memo[key]
        return value
    value = memo[key] = await compute()
    return value


def is_remembering() -> bool:
    """Whether this code runs within a batch's memo."""
    return _memo.get() is not None


def recalled(key: Hashable) -> Any:
    """What was read ahead for `key` in this memo, or None: nothing was, or no batch runs."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)


def remember(key: Hashable, value: Any) -> None:
    """Keep `value` for `key`, read ahead for a whole batch; nothing outside a batch."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


@contextmanager
def remembering(memo: dict[Hashable, Any] | None) -> Iterator[None]:
    """Within this block, `remembered` keeps its results in `memo` (None: remembers nothing)."""
    token = _memo.set(memo)
    try:
        yield
    finally:
        _memo.reset(token)
