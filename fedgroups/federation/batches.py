"""Inbox items processed in batches: many items per transaction, each under its own savepoint.

One transaction per item cost every post a BEGIN and a COMMIT, its own claim and settle, and on
PostgreSQL a pool checkout and reset for each of its dozen queries. A batch runs the items of
one claim in claim order inside one transaction, and settles them in the same transaction.

An item that fails, or that needs the network (`offline.py`: a fetch must not hold the
transaction open), is rolled back to its savepoint and the items before it are committed.
Then it is handled on its own: a failure is retried later or given up on as its error says,
exactly as without batching; an item that needs the network is run again outside any batch,
where it may fetch. Then the batch goes on after it. So one bad item never loses or blocks the
others, and a thread's posts are stored in the order they were claimed. A crash loses nothing:
what was not committed is still leased to the dead worker, and claimed again when the lease
runs out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from fedgroups.federation import queue
from fedgroups.federation.atomic import under_item_savepoint
from fedgroups.federation.handlers.common import Ignored, embedded_object
from fedgroups.federation.lazy_savepoint import lazy_savepoint
from fedgroups.federation.memo import remembering
from fedgroups.federation.offline import NetworkNeeded, offline
from fedgroups.models import InboxItem, JobState
from fedgroups.models.write_behind import FlushFirst, WriteBehind, writing_behind

log = logging.getLogger(__name__)

BATCH_SIZE = 50  # items per claim
_SAVEPOINT = "inbox_item"
BATCH_SECONDS = 0.2  # a transaction takes no new item after this: SQLite's write lock is shared
# Posts: they change nothing `memo.py` remembers, and no code on their way catches an error
# and carries on, so their item's savepoint is the only one they need (`atomic.py`).
POSTS = frozenset({"Create"})

Process = Callable[[InboxItem], Awaitable[None]]


@runtime_checkable
class Preparing(Protocol):
    """A processor that reads ahead what a batch's items will look up (`dispatch.Dispatcher`)."""

    async def prepare(self, items: Sequence[InboxItem]) -> None: ...


# Handles the item a batch stopped at: with the error it raised, or None to run it alone.
Alone = Callable[[InboxItem, Exception | None], Awaitable[None]]


async def run_batch(
    items: Sequence[InboxItem], process: Process, alone: Alone, *, seconds: float | None = None
) -> None:
    """Process `items` in order, as many per transaction as go through; `alone` handles the
    items a batch stops at. A transaction takes no new item after `seconds` (BATCH_SECONDS)."""
    seconds = BATCH_SECONDS if seconds is None else seconds
    pending = list(items)
    memo: dict[Hashable, Any] = {}  # kept across the batch's transactions while only posts run
    await _prepare(process, pending, memo)
    halt: _Unprotected | None = None  # a post whose failed read undid its whole transaction
    while pending:
        try:
            committed, stop = await _run_in_transaction(pending, process, memo, seconds, halt)
        except _Unprotected as failure:  # all rolled back: run the items before it again
            log.debug("inbox item %s undid its batch: %r", failure.item.pk, failure.error)
            memo.clear()
            halt = failure
            continue
        except Exception:  # the batch's own statements or commit failed; all rolled back
            # Whatever the driver raised: one post's row that the database refuses (an error
            # the ORM does not translate, say) must not fail the whole claim at every lease
            # until all its items are given up on. The first item runs alone and the batch
            # goes on after it, so the culprit is reached and fails on its own.
            log.exception("a batch of %d inbox items was rolled back", len(pending))
            committed, stop = 0, _Stop(None)
        pending = pending[committed:]
        if stop is not None and pending:
            memo.clear()
            halt = None
            error = stop.error
            await alone(pending.pop(0), None if isinstance(error, NetworkNeeded) else error)


async def _prepare(process: Process, items: Sequence[InboxItem], memo: dict[Hashable, Any]) -> None:
    if not isinstance(process, Preparing):
        return
    try:
        with remembering(memo):
            await process.prepare(items)
    except Exception:  # each item will look up what it needs itself
        log.exception("reading ahead for a batch of %d inbox items failed", len(items))
        memo.clear()


@dataclass(frozen=True)
class _Stop:
    """The batch stopped at an item: it raised `error`, or (None) must run alone."""

    error: Exception | None


class _Unprotected(Exception):
    """A post's statement failed before it had a savepoint: on PostgreSQL its transaction is
    aborted, so the batch rolls it back and stops before that post next time."""

    def __init__(self, item: InboxItem, error: Exception) -> None:
        super().__init__(f"inbox item {item.pk}: {error!r}")
        self.item = item
        self.error = error


async def _run_in_transaction(
    items: Sequence[InboxItem],
    process: Process,
    memo: dict[Hashable, Any],
    seconds: float,
    halt: _Unprotected | None = None,
) -> tuple[int, _Stop | None]:
    """Run items in one transaction until time is up or one cannot be run here.

    Posts leave their rows in the batch's `WriteBehind`, written together before the items
    are settled, and earlier whenever the next item could read them. The transaction stops
    before `halt`'s item, which undid an earlier one, and reports its error.
    Returns how many were committed, and why it stopped at the next one, if it did.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    outcomes: list[tuple[InboxItem, str | None]] = []
    stop = None
    async with in_transaction() as connection:
        batch = _Transaction(connection, process, memo, WriteBehind())
        for item in items:
            if outcomes and loop.time() > deadline:
                break
            if item.attempts > queue.MAX_ATTEMPTS:  # the worker gives up on it, alone
                stop = _Stop(None)
                break
            if halt is not None and item is halt.item:
                stop = _Stop(halt.error)
                break
            if batch.waiting and _may_read(item, batch.waiting):
                await batch.write()
            try:
                outcome = await batch.attempt_in_order(item)
            except _Unprotected:
                raise  # nothing of this transaction can be kept
            except Exception as exc:  # rolled back to its savepoint
                log.debug("inbox item %s leaves its batch: %r", item.pk, exc)
                stop = _Stop(exc)
                break
            outcomes.append((item, outcome))
        await batch.write()
        await _settle(outcomes)
    return len(outcomes), stop


def _may_read(item: InboxItem, waiting: WriteBehind) -> bool:
    """Whether this item could read rows still waiting: anything but a post may read
    anything, a post reads the post it replies to and its own earlier copies."""
    if item.activity_type not in POSTS:
        return True
    embedded = embedded_object(item.body)
    if embedded is None:
        return False  # given by id: it needs a fetch, so it runs alone, after a commit
    named = [embedded.get("id"), embedded.get("inReplyTo")]
    ids = [str(ap_id.get("id")) if isinstance(ap_id, dict) else ap_id for ap_id in named]
    return waiting.concerns(ap_id for ap_id in ids if isinstance(ap_id, str))


@dataclass
class _Transaction:
    """What the items of one batch transaction share: its connection, the processor, the
    batch's memo and the posts' rows waiting to be written."""

    connection: BaseDBAsyncClient
    process: Process
    memo: dict[Hashable, Any]
    waiting: WriteBehind

    async def write(self) -> None:
        """Write the posts' waiting rows; what runs after them (notifications) shares the
        memo."""
        with remembering(self.memo):
            await self.waiting.flush()

    async def attempt_in_order(self, item: InboxItem) -> str | None:
        """`attempt`; an item that must write at once (FlushFirst) runs again once the rows
        waiting before it are written, so rows keep the order of their items."""
        try:
            return await self.attempt(item)
        except FlushFirst:
            await self.write()
            return await self.attempt(item)

    async def attempt(self, item: InboxItem) -> str | None:
        """Run one item under a savepoint, offline; the reason when it was ignored.

        Ignored is an outcome, not a failure: what the handler wrote before saying so is
        kept, as it is for an item run alone. Posts share the batch's memo and leave their
        rows in `waiting`; anything else may change what the memo holds, so it runs without
        it and clears it, and writes its rows itself.

        A post's savepoint is taken only if it writes (`lazy_savepoint.py`); most only read.
        The savepoint is never released: the next item's nests inside it, and the commit
        keeps them all. Releasing would cost a statement per item; rolling back to the newest
        savepoint of that name undoes the failing item alone, since nothing after it has run.
        (PostgreSQL keeps 64 subtransactions per transaction in its fast path: BATCH_SIZE
        stays below that.)
        """
        is_post = item.activity_type in POSTS
        if not is_post:
            self.memo.clear()
        self.waiting.begin_item()
        with lazy_savepoint(self.connection, _SAVEPOINT) as savepoint:
            if not is_post:
                await savepoint.take()  # it may write in any way: protected from its start
            try:
                with (
                    offline(),
                    remembering(self.memo if is_post else None),
                    under_item_savepoint(is_post),
                    writing_behind(self.waiting if is_post else None),
                ):
                    await self.process(item)
            except Ignored as exc:
                return str(exc)
            except Exception as exc:
                self.waiting.drop_item()
                if savepoint.failed_unprotected:
                    raise _Unprotected(item, exc) from exc
                if savepoint.taken:
                    await self.connection.execute_query(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                raise
        return None


async def _settle(outcomes: Sequence[tuple[InboxItem, str | None]]) -> None:
    """Mark the batch's items done or ignored, unless a processor settled one itself."""
    done = []
    for item, reason in outcomes:
        if item.state != JobState.RUNNING:
            continue
        if reason is None:
            done.append(item)
        else:
            await queue.ignore(item, reason)
    if done:
        await queue.complete_many(done)
