"""The durable job queue: claim due rows of a `QueueFields` model under a lease, then settle them.

Jobs live only in the database, so a killed worker loses nothing: its lease runs out and
another worker claims the job again (T74; Sidekiq's in-memory fetch is the counter-example).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tortoise.expressions import Expression, F
from tortoise.models import Model
from tortoise.transactions import in_transaction

from fedgroups.models import Delivery, JobState

log = logging.getLogger(__name__)

Job = TypeVar("Job", bound=Model)

MAX_ERROR_CHARS = 4_000
MAX_ATTEMPTS = 20
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
BACKOFF_JITTER = 0.1  # each delay is scaled by a random factor in [0.9, 1.1)

# Jobs of these models go out one at a time per key, oldest first: a peer must see Create
# before Update before Delete (T68; Lemmy walks its per-instance queue in id order too).
_SERIAL_KEY: dict[type[Model], str] = {Delivery: "inbox_url"}
# Jobs that still stand in line for their key: waiting, in flight, or held for a dead peer.
_OPEN_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED)


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(
    attempts: int,
    *,
    base: timedelta = BACKOFF_BASE,
    cap: timedelta = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt before the next one.

    30 s doubling per attempt (30 s, 1 min, 2 min … 4 h 16 min), then 6 h per step, each
    jittered by ±10 % so a recovering peer is not hit by every sender at once. With
    MAX_ATTEMPTS = 20 the 19 waits add up to about 62.5 h (at least 56 h with jitter), close
    to Mastodon's 16 retries over 2-3 days (security-cases §3); a peer down longer than that
    is paused as a whole (see `fedgroups.federation.peers`) instead of being given up on.
    `base` and `cap` are for tests that cannot wait minutes (Settings.timing).
    """
    exponent = min(max(attempts, 1) - 1, 20)  # bounded so the float never overflows
    nominal = min(base.total_seconds() * 2**exponent, cap.total_seconds())
    factor = 1 + (rng or random).uniform(-BACKOFF_JITTER, BACKOFF_JITTER)
    return timedelta(seconds=nominal * factor)


def _claim_sql(model: type[Model], dialect: str, excluded: int, *, expired: bool) -> str:
    """One UPDATE … RETURNING that picks due rows and leases them, atomically on both backends.

    `expired`: running rows whose lease ran out (their worker died), else queued rows that
    are due. Kept apart so each walks its own index in order and stops at the limit; an OR
    of both made every claim read and sort every due row. PostgreSQL: the inner SELECT
    locks with SKIP LOCKED, so concurrent workers on any number of machines each get
    different rows without waiting. SQLite: the single statement runs under the database
    write lock, so it is its own conditional, atomic claim.
    """
    table = model._meta.db_table
    mark = _placeholders(dialect)
    now, until, limit = next(mark), next(mark), next(mark)
    if expired:
        where = [f"j.state = '{JobState.RUNNING}' AND j.leased_until < {now}"]
    else:
        where = [f"j.state = '{JobState.QUEUED}' AND j.run_at <= {now}"]
    key = _SERIAL_KEY.get(model)
    if key is not None:
        # Only the oldest open job of each key may go: one probe of the (key, id) index per
        # due candidate, so held (paused) jobs cost nothing until they are due. A grouped
        # pass over every open row cost milliseconds per claim with a large backlog.
        states = ", ".join(f"'{state}'" for state in _OPEN_STATES)
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {table} e WHERE e.{key} = j.{key} "  # noqa: S608
            f"AND e.id < j.id AND e.state IN ({states}))"
        )
    if excluded:
        where.append(f"j.domain NOT IN ({', '.join(next(mark) for _ in range(excluded))})")
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
    inner = (
        f"SELECT j.id FROM {table} j WHERE {' AND '.join(where)} "  # noqa: S608 - names are ours
        f"ORDER BY j.run_at, j.id LIMIT {limit}{lock}"
    )
    return (
        f"UPDATE {table} SET state = '{JobState.RUNNING}', leased_until = {until}, "  # noqa: S608
        f"attempts = attempts + 1 WHERE id IN ({inner}) RETURNING id"
    )


def _placeholders(dialect: str) -> Iterator[str]:
    """Numbered parameters, so one value can be used twice: `$1` (asyncpg), `?1` (SQLite)."""
    prefix = "$" if dialect == "postgres" else "?"
    return (f"{prefix}{number}" for number in itertools.count(1))


async def claim(
    model: type[Job],
    *,
    worker_id: str,
    lease: timedelta,
    limit: int,
    now: datetime | None = None,
    exclude_domains: Collection[str] = (),
) -> list[Job]:
    """Lease up to `limit` due jobs, oldest `run_at` first, and return them.

    Due: queued with `run_at <= now`, or running with an expired lease (its worker died).
    Each claim counts as an attempt. `exclude_domains` (deliveries only) skips peers whose
    concurrency budget is spent, so they cannot crowd the others out of a batch (T72).
    """
    if limit <= 0:
        return []
    moment = (now or utcnow()).astimezone(UTC)
    ids: list[Any] = []
    async with in_transaction() as connection:
        dialect = connection.capabilities.dialect
        for expired in (True, False):
            sql = _claim_sql(model, dialect, len(exclude_domains), expired=expired)
            values = [moment, moment + lease, limit - len(ids), *exclude_domains]
            ids += [row["id"] for row in await connection.execute_query_dict(sql, values)]
            if len(ids) >= limit:
                break
    if not ids:
        return []
    log.debug("%s claimed %s %s", worker_id, model.__name__, ids)
    return list(await model.filter(id__in=ids).order_by("run_at", "id"))


async def next_due(models: Collection[type[Model]]) -> datetime | None:
    """When the earliest job of `models` falls due; None when none is queued or leased.

    A queued job is due at `run_at`, a running one when its lease ends (its worker may have
    died). One read, so an idle worker can sleep until then instead of claiming in a loop:
    a claim is an UPDATE, and on SQLite every UPDATE takes the database's one write lock.
    """
    parts = []
    for model in models:
        table = model._meta.db_table
        parts += [
            f"SELECT MIN(run_at) AS due FROM {table} WHERE state = '{JobState.QUEUED}'",  # noqa: S608
            f"SELECT MIN(leased_until) AS due FROM {table} WHERE state = '{JobState.RUNNING}'",  # noqa: S608
        ]
    sql = f"SELECT MIN(due) AS due FROM ({' UNION ALL '.join(parts)}) AS waiting"  # noqa: S608
    rows = await next(iter(models))._meta.db.execute_query_dict(sql)
    value = rows[0]["due"] if rows else None
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back the stored text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _settle(row: Model, **changes: Any) -> bool:
    """Apply `changes` if this worker still holds the row's lease; mirror them on `row`.

    `leased_until` doubles as a fencing token: a worker whose lease ran out (and whose job
    another worker has since claimed) must not overwrite the newer claim's outcome.
    """
    held = await (
        type(row)
        .filter(id=row.pk, state=JobState.RUNNING, leased_until=row.leased_until)  # type: ignore[attr-defined]
        .update(**changes)
    )
    if not held:
        log.warning("lost the lease on %s %s", type(row).__name__, row.pk)
        return False
    for name, value in changes.items():
        if not isinstance(value, Expression):
            setattr(row, name, value)
    return True


async def complete_many(rows: Collection[Model], **fields: Any) -> int:
    """Settle many finished jobs at once, as `complete` would each; return how many were held.

    One UPDATE per lease (rows claimed together share it) instead of one per job, fenced
    by the lease as in `_settle`, so a row another worker has since claimed is left alone.
    """
    changes = {"state": JobState.DONE, "leased_until": None, "finished_at": utcnow(), **fields}
    by_lease: dict[tuple[type[Model], Any], list[Model]] = {}
    for row in rows:
        by_lease.setdefault((type(row), row.leased_until), []).append(row)  # type: ignore[attr-defined]
    held = 0
    for (model, lease), group in by_lease.items():
        ids = [row.pk for row in group]
        running = model.filter(id__in=ids, state=JobState.RUNNING, leased_until=lease)
        count = await running.update(**changes)
        if count < len(group):
            log.warning("lost the lease on %d of %s %s", len(group) - count, model.__name__, ids)
        held += count
        for row in group:
            for name, value in changes.items():
                setattr(row, name, value)
    return held


def _error_text(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


async def complete(row: Model, **fields: Any) -> bool:
    """The job did what it was for."""
    return await _settle(
        row, state=JobState.DONE, leased_until=None, finished_at=utcnow(), **fields
    )


async def retry(row: Model, error: str, delay: timedelta, **fields: Any) -> bool:
    """Put the job back in the queue, due after `delay`, keeping why it failed."""
    return await _settle(
        row,
        state=JobState.QUEUED,
        run_at=utcnow() + delay,
        leased_until=None,
        last_error=_error_text(error),
        **fields,
    )


async def retry_later(
    row: Model,
    error: str,
    *,
    delay: timedelta | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    **fields: Any,
) -> bool:
    """Retry after `delay` (default: the backoff schedule), or fail once attempts run out."""
    attempts: int = row.attempts  # type: ignore[attr-defined]
    if attempts >= max_attempts:
        return await fail(row, f"gave up after {attempts} attempts: {error}", **fields)
    return await retry(row, error, delay if delay is not None else backoff(attempts), **fields)


async def fail(row: Model, error: str, **fields: Any) -> bool:
    """Give up for good; `last_error` says why (the dead letter an admin can replay)."""
    return await _settle(
        row,
        state=JobState.FAILED,
        leased_until=None,
        last_error=_error_text(error),
        finished_at=utcnow(),
        **fields,
    )


async def ignore(row: Model, reason: str, **fields: Any) -> bool:
    """Understood and deliberately not acted upon (e.g. an activity type we do not handle)."""
    return await _settle(
        row,
        state=JobState.IGNORED,
        leased_until=None,
        last_error=_error_text(reason),
        finished_at=utcnow(),
        **fields,
    )


async def pause(row: Model, error: str, **fields: Any) -> bool:
    """Hold the job until its peer is heard from again; no attempts are spent meanwhile."""
    return await _settle(
        row, state=JobState.PAUSED, leased_until=None, last_error=_error_text(error), **fields
    )


async def release(row: Model, delay: timedelta = timedelta(0)) -> bool:
    """Hand a claimed job back untouched (shutdown, busy peer): the claim does not count."""
    released = await _settle(
        row,
        state=JobState.QUEUED,
        run_at=utcnow() + delay,
        leased_until=None,
        attempts=F("attempts") - 1,
    )
    if released:
        row.attempts -= 1  # type: ignore[attr-defined]
    return released
