"""Group commit for the inbox: the requests waiting to store an item share one INSERT.

Each request hands its verified item to the writer and waits until the statement that holds
it has committed, so "stored, then 202" still holds for every request. While one batch is
being committed the next ones queue up, so batches grow with the load and an idle instance
commits each item at once. A batch that fails is retried item by item (one bad row must not
fail its neighbours); whatever still fails reaches its request as StoreUnavailable (503).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from fedgroups.errors import StoreUnavailable
from fedgroups.models.inbox_item import NewInboxItem, insert_inbox_items

MAX_BATCH = 500  # rows per statement; 12 values each stays far below both drivers' limits

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    """The requests waiting on one activity id: the first one's item is the one stored."""

    item: NewInboxItem
    futures: list[asyncio.Future[int | None]] = field(default_factory=list)

    def settle(self, new_id: int | None) -> None:
        """The first request gets the new row's id; copies in the same batch are duplicates."""
        for index, future in enumerate(self.futures):
            if not future.done():  # its request may have been cancelled meanwhile
                future.set_result(new_id if index == 0 else None)

    def fail(self, error: BaseException) -> None:
        for future in self.futures:
            if not future.done():
                future.set_exception(StoreUnavailable(f"the inbox could not store: {error}"))


class InboxWriter:
    """Stores inbox items for the requests of one instance, many per commit."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self._max_batch = max_batch
        self._queue: dict[str, _Waiting] = {}
        self._flushing: asyncio.Task[None] | None = None
        self._closed = False
        self.commits = 0  # statements that stored a batch (or tried to)

    async def store(self, item: NewInboxItem) -> int | None:
        """Wait until `item` is committed: its new id, or None when the activity id was stored
        already (a replay, or a copy in the same batch). Raises StoreUnavailable.
        """
        if self._closed:
            raise StoreUnavailable("the inbox is shutting down")
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        waiting = self._queue.setdefault(item.activity_ap_id, _Waiting(item))
        waiting.futures.append(future)
        if self._flushing is None:
            # The task copies this request's context, hence its database.
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def close(self) -> None:
        """Refuse new items and wait until every queued one is committed (or failed)."""
        self._closed = True
        if self._flushing is not None:
            await self._flushing

    async def _flush(self) -> None:
        batch: list[_Waiting] = []
        try:
            await asyncio.sleep(0)  # requests ready in this turn of the loop join the batch
            while self._queue:
                batch = self._take()
                await self._commit(batch)
                batch = []
        except BaseException as exc:  # cancelled: no request may wait for ever, none gets 202
            for waiting in [*batch, *self._queue.values()]:
                waiting.fail(exc)
            self._queue.clear()
            raise
        finally:
            self._flushing = None

    def _take(self) -> list[_Waiting]:
        keys = list(self._queue)[: self._max_batch]
        return [self._queue.pop(key) for key in keys]

    async def _commit(self, batch: list[_Waiting]) -> None:
        self.commits += 1
        try:
            new_ids = await insert_inbox_items([waiting.item for waiting in batch])
        except Exception as exc:  # handed to the waiting requests (503), never swallowed
            if len(batch) == 1:
                log.warning("inbox item not stored: %s", exc)
                batch[0].fail(exc)
                return
            for waiting in batch:  # find the row that failed; store the others
                await self._commit([waiting])
            return
        for waiting in batch:
            waiting.settle(new_ids.get(waiting.item.activity_ap_id))
