"""The worker: claims inbox items and deliveries from the database and runs them to an outcome.

`fedgroups serve` runs it in-process, `fedgroups worker` alone; tests drain it with
`run_until_idle()` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import traceback
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from tortoise.exceptions import BaseORMException
from tortoise.models import Model

from fedgroups.db import database
from fedgroups.errors import (
    BlockedDomain,
    Conflict,
    MalformedActivity,
    NotFound,
    OriginMismatch,
    SignatureError,
    UnsafeAddress,
    ValidationError,
)
from fedgroups.federation import queue
from fedgroups.federation.batches import BATCH_SIZE, run_batch
from fedgroups.federation.context import start_federation
from fedgroups.federation.delivery import (
    PrivateKeys,
    Settlements,
    deliver,
    serialize,
    slots_for,
)
from fedgroups.federation.dispatch import Ignored, make_inbox_processor
from fedgroups.federation.fetch import FetchStatusError
from fedgroups.federation.peers import probe_unavailable_domains
from fedgroups.federation.signatures import SchemePreferences
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.models import Delivery, InboxItem, JobState
from fedgroups.settings import Settings

log = logging.getLogger(__name__)

InboxProcessor = Callable[[InboxItem], Awaitable[None]]
Job = Model | tuple[InboxItem, ...]  # a delivery, or a batch of inbox items
T = TypeVar("T")

SHUTDOWN_GRACE = 10.0
# Deliveries mostly wait on the network, so run many more of them: one post to 1,000 inboxes
# 100 ms away takes 1,000 x 0.1 s / 256 = 0.4 s of waiting at 4 x 64 in flight.
DELIVERIES_PER_SLOT = 64
CLAIM_SHARE = 8  # claim deliveries once 1/8 of their slots are free, not after every one
DB_ERROR_PAUSE = 1.0

# Errors that say the input itself is unusable: retrying cannot help.
_BAD_INPUT = (
    MalformedActivity,
    SignatureError,
    OriginMismatch,
    BlockedDomain,
    UnsafeAddress,
    ValidationError,
    NotFound,
    Conflict,
)


def is_bad_input(error: Exception) -> bool:
    """True for failures that no retry can fix; anything else is retried with backoff."""
    if isinstance(error, _BAD_INPUT):
        return True
    if isinstance(error, FetchStatusError):  # 404 or 410 for a referenced object stays so
        return 400 <= error.status < 500 and error.status not in (408, 429)
    return False


def _describe(error: Exception) -> str:
    """The error, then the innermost frames: what an admin needs to see on the row."""
    frames = traceback.format_exception(error)
    return f"{type(error).__name__}: {error}\n" + "".join(frames[-6:])


class Worker:
    """Runs due jobs with bounded concurrency: inbox items first, then deliveries.

    Inbox items are claimed and processed in batches of up to `inbox_batch` (`batches.py`);
    up to `concurrency` batches run at once.
    """

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        prefs: SchemePreferences,
        process_inbox_item: InboxProcessor,
        *,
        concurrency: int = 4,
        inbox_batch: int = BATCH_SIZE,
        worker_id: str | None = None,
        delivery_concurrency: int | None = None,
        inbox_lease: timedelta | None = None,
        delivery_lease: timedelta | None = None,
        delivery_deadline: float | None = None,
        poll_interval: float | None = None,
        poll_max: float | None = None,
        probe_interval: float | None = None,
        shutdown_grace: float = SHUTDOWN_GRACE,
    ) -> None:
        """Leases, deadline and intervals default to `settings.timing`."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.client = client
        self.prefs = prefs
        self.process_inbox_item = process_inbox_item
        self.concurrency = concurrency
        self.inbox_batch = inbox_batch
        self.delivery_concurrency = delivery_concurrency or concurrency * DELIVERIES_PER_SLOT
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        timing = settings.timing
        self.inbox_lease = inbox_lease or timedelta(seconds=timing.inbox_lease)
        self.delivery_lease = delivery_lease or timedelta(seconds=timing.delivery_lease)
        self.delivery_deadline = delivery_deadline or timing.delivery_deadline
        self.poll_interval = poll_interval or timing.poll_interval
        self.poll_max = max(poll_max or timing.poll_max, self.poll_interval)
        self.probe_interval = probe_interval or timing.probe_interval
        self.backoff_base = timedelta(seconds=timing.retry_base)
        self.backoff_cap = timedelta(seconds=timing.retry_cap)
        self.shutdown_grace = shutdown_grace
        self._keys = PrivateKeys()
        self._settlements = Settlements()
        self._slots = slots_for(client)
        self._jobs: dict[asyncio.Task[None], Job] = {}
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """New work was committed: look for it now rather than at the next poll."""
        self._wake.set()

    async def run_until_idle(self, timeout: float = 30) -> None:
        """Run until nothing is due and nothing is in flight; TimeoutError after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    busy = bool(self._jobs)  # jobs finishing during _fill may free slots
                    if await self._fill():
                        continue
                    if self._jobs:
                        await self._idle(None)
                    elif not busy:
                        return
        finally:
            await self._shutdown(grace=0)  # only on timeout or error: no job is left running

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then finish or hand back the jobs in flight (T75).

        Idle, the worker does not claim in a loop: it reads when the next job falls due and
        sleeps until then, or for an idle wait that doubles from `poll_interval` up to
        `poll_max`, since other processes (a web process, a CLI command) may queue work it
        is not told about. A notify() or a job finishing wakes it at once.
        """
        loop = asyncio.get_running_loop()
        next_probe = loop.time() + self.probe_interval
        probe: asyncio.Task[Any] | None = None
        wait = self.poll_interval
        claim = True  # claim straight away, without asking whether anything is due
        try:
            while not stop.is_set():
                started = await _unless(stop, self._fill_or_pause(), 0) if claim else 0
                if loop.time() >= next_probe and (probe is None or probe.done()):
                    probe = asyncio.create_task(probe_unavailable_domains(self.client))
                    probe.add_done_callback(self._forget)
                    next_probe = loop.time() + self.probe_interval
                if started:
                    wait, claim = self.poll_interval, True
                    continue
                claim = await self._wait_for_work(wait, stop, claimed=claim)
                wait = min(wait * 2, self.poll_max)
        finally:
            if probe is not None:
                probe.cancel()
            await self._shutdown(grace=self.shutdown_grace)

    async def _wait_for_work(self, wait: float, stop: asyncio.Event, *, claimed: bool) -> bool:
        """Sleep until work may be there (at most `wait` s); True when the next round should claim.

        `claimed`: this round already tried, so work due now is work we cannot take yet (its
        inbox or its peer is busy): wait for a job to finish or the next poll, never spin.
        """
        if claimed and self._jobs:  # busy: a job finishing is what frees a slot or an inbox
            await self._idle(wait, stop)
            return True
        due = await _unless(stop, self._next_due(), None)
        now = queue.utcnow()
        if due is not None and due <= now:
            if not claimed:
                return True  # it fell due while we slept: take it now
            sleep = wait
        else:
            sleep = wait if due is None else min(wait, (due - now).total_seconds())
        woken = await self._idle(sleep, stop)
        return woken or (due is not None and queue.utcnow() >= due)

    async def _next_due(self) -> datetime | None:
        try:
            return await queue.next_due((InboxItem, Delivery))
        except (BaseORMException, OSError):  # as in _fill_or_pause: try again by claiming
            log.exception("worker %s cannot read the queue", self.worker_id)
            await asyncio.sleep(DB_ERROR_PAUSE)
            return queue.utcnow()

    async def _fill_or_pause(self) -> int:
        try:
            return await self._fill()
        except (BaseORMException, OSError):  # database restarting or locked (T76): try again
            log.exception("worker %s cannot claim jobs", self.worker_id)
            await asyncio.sleep(DB_ERROR_PAUSE)
            return 0

    async def _fill(self) -> int:
        """Claim as many due jobs as there are free slots and start them; return how many."""
        items: list[InboxItem] = []
        if self._count(tuple) < self.concurrency:
            items = await queue.claim(
                InboxItem, worker_id=self.worker_id, lease=self.inbox_lease, limit=self.inbox_batch
            )
        if items:
            self._start(tuple(items), run_batch(items, self.process_inbox_item, self._alone))
        free = self.delivery_concurrency - self._count(Delivery)
        if free < self.delivery_concurrency // CLAIM_SHARE:
            return len(items)  # a claim costs a query: wait until it can fill a batch
        rows = await queue.claim(
            Delivery,
            worker_id=self.worker_id,
            lease=self.delivery_lease,
            limit=free,
            exclude_domains=self._slots.saturated(),
        )
        await Delivery.fetch_for_list(rows, "activity__actor")
        bodies: dict[int, bytes] = {}  # one serialization per activity per batch
        started = 0
        for row in rows:
            # A peer at its limit (T72) gets the job straight back, uncounted.
            if self._slots.try_acquire(row.domain):
                self._start(row, self._deliver(row, bodies))
                started += 1
            else:
                await queue.release(row)
        return len(items) + started

    def _count(self, kind: type[Job]) -> int:
        return sum(1 for job in self._jobs.values() if isinstance(job, kind))

    def _start(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        # A batch settles its own items; a single job's outcome is decided by _guard.
        task = asyncio.create_task(work if isinstance(job, tuple) else self._guard(job, work))
        self._jobs[task] = job
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._jobs.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            # Bookkeeping failed (database gone): the job's lease will bring it back.
            log.error("worker task failed", exc_info=task.exception())

    async def _guard(self, row: Model, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # the worker boundary: the one place that catches anything
            await self._failed(row, exc)

    async def _failed(self, row: Model, exc: Exception) -> None:
        """Settle a job whose work raised `exc`: ignored, failed for good, or retried later."""
        if isinstance(exc, Ignored):  # understood, and nothing here acts on it
            await queue.ignore(row, str(exc))
        elif isinstance(row, InboxItem) and is_bad_input(exc):
            await queue.fail(row, f"{type(exc).__name__}: {exc}")
        else:
            log.warning("%s %s failed, will retry", type(row).__name__, row.pk, exc_info=exc)
            delay = self._backoff(row.attempts)  # type: ignore[attr-defined]
            await queue.retry_later(row, _describe(exc), delay=delay)

    async def _alone(self, item: InboxItem, error: Exception | None) -> None:
        """The inbox item a batch stopped at: settled for the `error` it raised there, or run
        on its own (it needs the network, or has used up its attempts)."""
        if error is not None:
            await self._failed(item, error)
        else:
            await self._guard(item, self._process(item))

    async def _process(self, item: InboxItem) -> None:
        if item.attempts > queue.MAX_ATTEMPTS:  # it kept taking its workers down with it
            await queue.fail(item, f"abandoned after {item.attempts - 1} attempts")
            return
        await self.process_inbox_item(item)
        if item.state == JobState.RUNNING:  # the processor may have settled it itself
            await queue.complete(item)

    async def _deliver(self, row: Delivery, bodies: dict[int, bytes]) -> None:
        try:
            if row.attempts > queue.MAX_ATTEMPTS:
                await queue.fail(row, f"abandoned after {row.attempts - 1} attempts")
                return
            body = bodies.get(row.activity.pk)
            if body is None:
                body = bodies[row.activity.pk] = serialize(row.activity)
            await deliver(
                row,
                self.client,
                self.prefs,
                key_loader=self._keys,
                body=body,
                deadline=self.delivery_deadline,
                backoff=self._backoff,
                settlements=self._settlements,
            )
        finally:
            self._slots.release(row.domain)  # taken in _fill

    def _backoff(self, attempts: int) -> timedelta:
        return queue.backoff(attempts, base=self.backoff_base, cap=self.backoff_cap)

    async def _idle(self, timeout: float | None, stop: asyncio.Event | None = None) -> bool:
        """Wait for a job to finish, a notify(), `stop`, or `timeout` seconds.

        True when something happened before the timeout.
        """
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            done, _ = await asyncio.wait(
                [*self._jobs, *waiters], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()
        return bool(done)

    async def _shutdown(self, grace: float) -> None:
        """Let jobs in flight finish for `grace` seconds, then cancel them and hand them back."""
        if not self._jobs:
            await self._settlements.aclose()
            return
        jobs = dict(self._jobs)
        _done, pending = await asyncio.wait(jobs, timeout=grace) if grace > 0 else ((), set(jobs))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._settlements.aclose()  # what landed is written before anything is released
        for task in pending:
            job = jobs[task]
            if isinstance(job, tuple):  # a batch: what it committed stays done
                for item in job:
                    if item.state == JobState.RUNNING:
                        await queue.release(item)
            else:
                await queue.release(job)  # resumes at once on restart, lease or not


async def _unless(stop: asyncio.Event, work: Coroutine[Any, Any, T], default: T) -> T:
    """`work`'s result, or `default` when `stop` is set first.

    On SQLite every query waits for the one connection, which a batch holds for its whole
    transaction: a claim must not keep the worker from stopping meanwhile.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return default


async def run_worker(
    settings: Settings,
    concurrency: int = 4,
    *,
    process_inbox_item: InboxProcessor | None = None,
    **options: Any,
) -> None:
    """`fedgroups worker`: open the database and the client, work until SIGTERM or SIGINT.

    Inbox items go to the dispatcher unless `process_inbox_item` is given; `options` go to
    `Worker` (leases, deadlines), which tests shorten.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for number in stop_signals:
        loop.add_signal_handler(number, stop.set)
    try:
        async with database(settings):
            federation = start_federation(settings, await ensure_instance_actor(settings))
            try:
                processor = process_inbox_item or make_inbox_processor(federation)
                worker = Worker(
                    settings,
                    federation.delivery_client,
                    federation.prefs,
                    processor,
                    concurrency=concurrency,
                    **options,
                )
                await worker.run_forever(stop)
            finally:
                await federation.close()
    finally:
        for number in stop_signals:
            loop.remove_signal_handler(number)
