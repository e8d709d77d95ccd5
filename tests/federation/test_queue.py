"""The job queue on a real database: claims, leases, fencing, per-inbox order, backoff (T68/T74)."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import asyncpg
import pytest

from fedgroups.federation import queue
from fedgroups.models import Delivery, InboxItem, JobState
from fedgroups.settings import Settings

from .delivery_support import inbox_item, local_actor, outbox_activity, utcnow

LEASE = timedelta(seconds=60)


async def _deliveries(*inboxes: str) -> list[Delivery]:
    """One activity per entry, delivered to that inbox; ids increase in argument order."""
    actor = await local_actor()
    rows = []
    for number, inbox in enumerate(inboxes, 1):
        activity = await outbox_activity(actor, number)
        rows.append(
            await Delivery.create(
                activity=activity,
                inbox_url=inbox,
                domain=inbox.split("/")[2],
                run_at=utcnow() - timedelta(seconds=10),
            )
        )
    return rows


async def test_claim_leases_due_rows_oldest_first(db: None) -> None:
    now = utcnow()
    late = await inbox_item(1, run_at=now - timedelta(seconds=1))
    early = await inbox_item(2, run_at=now - timedelta(seconds=5))
    future = await inbox_item(3, run_at=now + timedelta(minutes=1))
    claimed = await queue.claim(InboxItem, worker_id="w1", lease=LEASE, limit=10, now=now)
    assert [row.id for row in claimed] == [early.id, late.id]
    for row in claimed:
        assert (row.state, row.attempts) == (JobState.RUNNING, 1)
        assert row.leased_until == now + LEASE
    await future.refresh_from_db()
    assert (future.state, future.attempts) == (JobState.QUEUED, 0)
    assert await queue.claim(InboxItem, worker_id="w1", lease=LEASE, limit=10, now=now) == []


async def test_claim_respects_the_limit(db: None) -> None:
    for number in range(5):
        await inbox_item(number)
    first = await queue.claim(InboxItem, worker_id="w1", lease=LEASE, limit=2)
    second = await queue.claim(InboxItem, worker_id="w1", lease=LEASE, limit=10)
    assert (len(first), len(second)) == (2, 3)
    assert await queue.claim(InboxItem, worker_id="w1", lease=LEASE, limit=0) == []


async def test_dead_workers_job_is_claimed_again_after_its_lease(db: None) -> None:
    await inbox_item(1)
    now = utcnow()
    (dead,) = await queue.claim(InboxItem, worker_id="dead", lease=LEASE, limit=5, now=now)
    # Still leased: nobody else may take it.
    later = now + LEASE - timedelta(seconds=1)
    assert await queue.claim(InboxItem, worker_id="w2", lease=LEASE, limit=5, now=later) == []
    after = now + LEASE + timedelta(seconds=1)
    (again,) = await queue.claim(InboxItem, worker_id="w2", lease=LEASE, limit=5, now=after)
    assert (again.id, again.attempts) == (dead.id, 2)
    # The first worker comes back to life: its lease is gone, so its word no longer counts.
    assert await queue.complete(dead) is False
    await again.refresh_from_db()
    assert again.state == JobState.RUNNING
    assert await queue.complete(again) is True
    await again.refresh_from_db()
    assert again.state == JobState.DONE and again.finished_at is not None


async def test_concurrent_claimers_never_share_a_row(db: None) -> None:
    for number in range(40):
        await inbox_item(number)

    async def claimer(name: str) -> list[int]:
        mine: list[int] = []
        while batch := await queue.claim(InboxItem, worker_id=name, lease=LEASE, limit=3):
            mine += [row.id for row in batch]
            await asyncio.sleep(0)
        return mine

    results = await asyncio.gather(*(claimer(f"w{n}") for n in range(4)))
    every = [row_id for result in results for row_id in result]
    assert len(every) == len(set(every)) == 40
    assert await InboxItem.filter(attempts=1, state=JobState.RUNNING).count() == 40


async def test_postgres_claim_skips_rows_locked_by_another_connection(
    db: None, settings: Settings
) -> None:
    if settings.is_sqlite:
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite claims under its single write lock")
    first, second = await inbox_item(1), await inbox_item(2)
    other = await asyncpg.connect(settings.database_url)
    try:
        async with other.transaction():
            await other.execute("SELECT id FROM inbox_items WHERE id = $1 FOR UPDATE", first.id)
            async with asyncio.timeout(5):  # a plain FOR UPDATE would wait here
                claimed = await queue.claim(InboxItem, worker_id="w", lease=LEASE, limit=5)
            assert [row.id for row in claimed] == [second.id]
    finally:
        await other.close()
    (late,) = await queue.claim(InboxItem, worker_id="w", lease=LEASE, limit=5)
    assert late.id == first.id


async def test_one_delivery_per_inbox_at_a_time_oldest_first(db: None) -> None:
    a = "https://a.test/inbox"
    b = "https://b.test/users/x/inbox"
    a1, b1, a2, a3, b2, c1 = await _deliveries(a, b, a, a, b, "https://c.test/inbox")
    # A later delivery that is due earlier still waits for the older one.
    await Delivery.filter(id=a3.id).update(run_at=utcnow() - timedelta(hours=1))
    claimed = await queue.claim(Delivery, worker_id="w", lease=LEASE, limit=10)
    assert [row.id for row in claimed] == [a1.id, b1.id, c1.id]
    heads = {row.id: row for row in claimed}
    # While a1 is in flight, nothing else for inbox a goes out.
    assert await queue.claim(Delivery, worker_id="w", lease=LEASE, limit=10) == []
    await queue.complete(heads[a1.id])
    await queue.retry(heads[b1.id], "HTTP 500", timedelta(minutes=5))  # b1 waits for a retry
    (next_a,) = await queue.claim(Delivery, worker_id="w", lease=LEASE, limit=10)
    assert next_a.id == a2.id  # b2 stays behind the retrying b1
    await queue.complete(next_a)
    (last_a,) = await queue.claim(Delivery, worker_id="w", lease=LEASE, limit=10)
    assert last_a.id == a3.id
    assert await Delivery.get(id=b2.id).values_list("state", flat=True) == JobState.QUEUED


async def test_paused_delivery_holds_its_inbox(db: None) -> None:
    inbox = "https://a.test/inbox"
    first, _second = await _deliveries(inbox, inbox)
    await Delivery.filter(id=first.id).update(state=JobState.PAUSED)
    assert await queue.claim(Delivery, worker_id="w", lease=LEASE, limit=10) == []


async def test_claim_can_skip_busy_domains(db: None) -> None:
    await _deliveries(
        "https://a.test/u/1/inbox", "https://b.test/inbox", "https://a.test/u/2/inbox"
    )
    claimed = await queue.claim(
        Delivery, worker_id="w", lease=LEASE, limit=10, exclude_domains=["a.test"]
    )
    assert [row.domain for row in claimed] == ["b.test"]


async def test_next_due_is_the_earliest_run_or_lease_end(db: None) -> None:
    models = (InboxItem, Delivery)
    assert await queue.next_due(models) is None  # nothing waits: sleep as long as allowed
    now = utcnow()
    later = await inbox_item(1, run_at=now + timedelta(minutes=5))
    assert await queue.next_due(models) == later.run_at
    await _deliveries("https://peer.test/inbox")
    lease = timedelta(minutes=2)
    (running,) = await queue.claim(Delivery, worker_id="w", lease=lease, limit=1, now=now)
    assert await queue.next_due(models) == now + lease  # due again if its worker dies
    await queue.complete(running)
    paused = await inbox_item(2, run_at=now - timedelta(hours=1))
    await InboxItem.filter(id=paused.id).update(state=JobState.PAUSED)  # waits for its peer
    assert await queue.next_due(models) == later.run_at
    await InboxItem.filter(id=later.id).update(state=JobState.DONE)
    assert await queue.next_due(models) is None


async def test_settling_records_outcome_and_error(db: None) -> None:
    for number in range(5):
        await inbox_item(number)
    done, retried, failed, ignored, released = await queue.claim(
        InboxItem, worker_id="w", lease=LEASE, limit=5
    )
    assert await queue.complete(done)
    assert await queue.retry(retried, "x" * 10_000, timedelta(minutes=2))
    assert await queue.fail(failed, "HTTP 400")
    assert await queue.ignore(ignored, "no handler for Like")
    assert await queue.release(released)
    rows = {row.id: row for row in await InboxItem.all()}
    assert rows[done.id].state == JobState.DONE and rows[done.id].finished_at is not None
    row = rows[retried.id]
    assert row.state == JobState.QUEUED and row.leased_until is None and row.finished_at is None
    assert len(row.last_error) == queue.MAX_ERROR_CHARS and row.last_error.endswith("…")
    assert timedelta(seconds=100) < row.run_at - utcnow() <= timedelta(minutes=2)
    assert (rows[failed.id].state, rows[failed.id].last_error) == (JobState.FAILED, "HTTP 400")
    assert rows[failed.id].finished_at is not None
    assert rows[ignored.id].state == JobState.IGNORED
    assert (rows[released.id].state, rows[released.id].attempts) == (JobState.QUEUED, 0)
    assert released.attempts == 0


async def test_retry_later_follows_the_schedule_then_gives_up(db: None) -> None:
    await inbox_item(1)
    (row,) = await queue.claim(InboxItem, worker_id="w", lease=LEASE, limit=1)
    assert await queue.retry_later(row, "HTTP 502")
    assert row.state == JobState.QUEUED
    assert timedelta(seconds=26) < row.run_at - utcnow() < timedelta(seconds=34)
    await InboxItem.filter(id=row.id).update(attempts=queue.MAX_ATTEMPTS - 1, run_at=utcnow())
    (row,) = await queue.claim(InboxItem, worker_id="w", lease=LEASE, limit=1)
    assert await queue.retry_later(row, "HTTP 502")
    assert row.state == JobState.FAILED
    assert row.last_error == f"gave up after {queue.MAX_ATTEMPTS} attempts: HTTP 502"


class _Extreme(random.Random):
    """Jitter pinned to one end of its range."""

    def __init__(self, end: float) -> None:
        super().__init__()
        self.end = end

    def uniform(self, a: float, b: float) -> float:
        return a if self.end < 0 else b


def test_backoff_schedule_spans_at_least_two_days() -> None:
    waits = range(1, queue.MAX_ATTEMPTS)  # one wait after each attempt but the last
    shortest = sum((queue.backoff(n, rng=_Extreme(-1)) for n in waits), timedelta())
    longest = sum((queue.backoff(n, rng=_Extreme(1)) for n in waits), timedelta())
    assert shortest >= timedelta(hours=48)
    assert longest <= timedelta(hours=72)


def test_backoff_doubles_from_thirty_seconds_up_to_a_cap() -> None:
    nominal = [queue.backoff(n, rng=_Extreme(0)).total_seconds() for n in range(1, 14)]
    assert nominal[:4] == pytest.approx([33, 66, 132, 264])  # upper end of the jitter
    assert max(nominal) == pytest.approx(6 * 3600 * 1.1)
    assert nominal == sorted(nominal)
    jittered = {queue.backoff(3) for _ in range(20)}
    assert len(jittered) > 1
    assert all(timedelta(seconds=108) <= wait <= timedelta(seconds=132) for wait in jittered)


async def test_a_claim_reads_due_rows_in_order_and_stops_at_its_limit(
    db: None, settings: Settings
) -> None:
    """Blocked and paused rows cost one index probe each, never a pass over the backlog."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    connection = Delivery._meta.db
    for expired in (True, False):
        sql = queue._claim_sql(Delivery, "sqlite", 1, expired=expired)
        plan = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", [None] * 4)
        details = " | ".join(str(row["detail"]) for row in plan)
        assert "TEMP B-TREE" not in details  # no sort of every due row
        assert "SCAN" not in details  # every step is an index search
        assert "idx_deliveries_open_by_inbox" in details


async def test_a_claim_takes_expired_leases_and_due_rows_together(db: None) -> None:
    dead, waiting = await _deliveries("https://a.test/inbox", "https://b.test/inbox")
    now = utcnow()
    (taken,) = await queue.claim(Delivery, worker_id="w1", lease=LEASE, limit=1, now=now)
    assert taken.id == dead.id
    later = now + LEASE + timedelta(seconds=1)  # w1 died: its lease ran out
    claimed = await queue.claim(Delivery, worker_id="w2", lease=LEASE, limit=10, now=later)
    assert sorted(row.id for row in claimed) == [dead.id, waiting.id]
    assert {row.id: row.attempts for row in claimed} == {dead.id: 2, waiting.id: 1}


async def test_complete_many_settles_a_batch_but_never_a_lost_lease(db: None) -> None:
    await _deliveries(*(f"https://p{n}.test/inbox" for n in range(4)))
    now = utcnow()
    first, second, third, fourth = await queue.claim(
        Delivery, worker_id="w1", lease=LEASE, limit=4, now=now
    )
    later = now + LEASE + timedelta(seconds=1)
    (retaken,) = await queue.claim(Delivery, worker_id="w2", lease=LEASE, limit=1, now=later)
    assert retaken.id == first.id  # w1's lease on `first` ran out and w2 took it over
    held = await queue.complete_many([first, second, third, fourth], last_status=202)
    assert held == 3
    rows = {row.id: row for row in await Delivery.all()}
    assert rows[first.id].state == JobState.RUNNING  # w2's claim stands
    for row in (second, third, fourth):
        assert (rows[row.id].state, rows[row.id].last_status) == (JobState.DONE, 202)
        assert rows[row.id].leased_until is None and rows[row.id].finished_at is not None
