"""Outbound deliveries: one durable job per distinct inbox, POSTed signed, the reply classified.

Each attempt's verdict on the peer's health goes to `fedgroups.federation.peers`, which pauses
a domain that keeps failing and resumes it when it is heard from again (T68-T73).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedgroups.activitypub.keys import load_private_key
from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation import peers, queue
from fedgroups.federation.memo import is_remembering, remembered
from fedgroups.federation.signatures import SchemePreferences, post_signed
from fedgroups.models import (
    Actor,
    Delivery,
    JobState,
    Membership,
    MembershipState,
    OutboxActivity,
)
from fedgroups.models.domain import policy_for
from fedgroups.models.write_behind import deferring, insert_deliveries

log = logging.getLogger(__name__)

DELIVERY_DEADLINE = 30.0  # seconds for a whole attempt, both knocks included (T71)
DOMAIN_CONCURRENCY = 4  # deliveries in flight per peer domain (T72; Lemmy sends 1 by default)
RETRY_AFTER_CAP = timedelta(hours=6)
AUTH_ATTEMPTS = 2  # a 401 gets one more try: the peer may hold a stale copy of our key


class Verdict(StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAIL = "fail"  # permanent: retrying cannot help
    GONE = "gone"  # HTTP 410: the recipient no longer exists


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt means; `peer_up` feeds the domain's health record."""

    verdict: Verdict
    reason: str
    delay: timedelta | None = None  # Retry-After, when the peer said how long to wait
    max_attempts: int = queue.MAX_ATTEMPTS
    peer_up: bool | None = None  # None: the attempt says nothing about the peer's health


def domain_of(url: str) -> str:
    """host[:port] of a URL, lower-cased, without user information."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


# --- enqueueing ----------------------------------------------------------------------------


async def enqueue(
    activity: OutboxActivity,
    recipients: Iterable[Actor],
    *,
    now: datetime | None = None,
    new: bool = False,
) -> int:
    """Write one Delivery per distinct remote inbox; return how many were written.

    Runs in the caller's transaction, so the change and its deliveries commit together
    (transactional outbox, T78). Peers currently unavailable get their deliveries paused;
    servers this instance refuses (suspended, or outside the allowlist) get nothing at all.
    `new`: the activity was just stored, so it has no deliveries yet to leave out.
    """
    if is_remembering() and isinstance(recipients, list):
        # A batch's posts go to the same remembered members: their inboxes and what the
        # policy says of each are worked out once. The plan holds the list itself, so no
        # other list can take its id while the memo keeps the plan.
        key = ("inboxes of", id(recipients))
        _, fresh, paused = await remembered(key, lambda: _plan(recipients))
    else:
        _, fresh, paused = await _plan(recipients)
    if not new and fresh and activity.pk is not None:
        queued = Delivery.filter(activity_id=activity.pk, inbox_url__in=[url for url, _ in fresh])
        existing = {str(url) for url in await queued.values_list("inbox_url", flat=True)}
        fresh = [(url, domain) for url, domain in fresh if url not in existing]
    if not fresh:
        return 0
    moment = now or queue.utcnow()
    rows = [(url, domain, _state(domain in paused), moment) for url, domain in fresh]
    buffer = deferring()
    if buffer is not None and buffer.holds(activity):  # written with the batch's other rows
        buffer.add_deliveries(activity, rows)
    else:
        await insert_deliveries([(activity.pk, *row) for row in rows])
    return len(rows)


async def _plan(
    recipients: Iterable[Actor],
) -> tuple[Iterable[Actor], list[tuple[str, str]], frozenset[str]]:
    """The recipients (kept alive with their plan), the distinct remote inboxes with their
    domains, less those the policy refuses, and the domains whose deliveries wait (paused)
    for the peer to come back."""
    inboxes = {
        actor.delivery_inbox: None
        for actor in recipients
        if not actor.is_local and actor.gone_at is None and actor.delivery_inbox
    }
    if not inboxes:
        return recipients, [], frozenset()
    domains = {url: domain_of(url) for url in inboxes}
    peers_of = frozenset(domains.values())
    policy = await remembered(
        ("policy", peers_of), lambda: policy_for(peers_of, health_of=peers_of)
    )
    fresh = [(url, domains[url]) for url in inboxes if not policy.refuses(domains[url])]
    return recipients, fresh, frozenset(policy.unavailable)


def _state(paused: bool) -> str:
    return (JobState.PAUSED if paused else JobState.QUEUED).value


# --- classification ------------------------------------------------------------------------


def classify_response(
    status: int | None, headers: Mapping[str, str] | None, error: Exception | None
) -> Outcome:
    """THE place that decides what a reply means (T69; Mastodon's unsalvageable set).

    2xx done; 410 gone; 429/503 retry, not before Retry-After; 408 and other 5xx retry with
    backoff; 401 retried once (a stale key cache, then signature double-knocking already
    happened); other 3xx/4xx and 501 fail for good. Timeouts and network errors retry;
    an address the SSRF guard refuses (T26) fails for good.
    """
    if error is not None:
        return _classify_error(error)
    assert status is not None
    label = f"HTTP {status}"
    if 200 <= status < 300:
        return Outcome(Verdict.DONE, label, peer_up=True)
    if status == 410:
        return Outcome(Verdict.GONE, label, peer_up=True)
    if status in (429, 503):
        wait = _retry_after((headers or {}).get("retry-after"))
        return Outcome(Verdict.RETRY, label, delay=wait, peer_up=None if status == 429 else False)
    if status == 408 or (status >= 500 and status != 501):
        return Outcome(Verdict.RETRY, label, peer_up=False)
    if status == 401:
        return Outcome(Verdict.RETRY, label, max_attempts=AUTH_ATTEMPTS, peer_up=True)
    return Outcome(Verdict.FAIL, label, peer_up=True)


def _classify_error(error: Exception) -> Outcome:
    reason = f"{type(error).__name__}: {error}"
    if isinstance(error, UnsafeAddress):
        return Outcome(Verdict.FAIL, reason)
    if isinstance(error, FetchError):  # a URL the client refuses to even try
        return Outcome(Verdict.FAIL, reason)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return Outcome(Verdict.RETRY, f"timed out ({type(error).__name__})", peer_up=False)
    if isinstance(error, httpx.TransportError):
        return Outcome(Verdict.RETRY, reason, peer_up=False)
    return Outcome(Verdict.RETRY, reason)


def _retry_after(value: str | None) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date, capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - queue.utcnow()
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(wait, timedelta(0)), RETRY_AFTER_CAP)


# --- sending -------------------------------------------------------------------------------


class DomainSlots:
    """Non-blocking per-domain semaphores: at most `per_domain` deliveries in flight per peer.

    Taken before a delivery starts rather than waited on, so a claimed job never sits out
    its lease behind a slow peer, and a dead host can hold only its own slots (T72).
    """

    def __init__(self, per_domain: int = DOMAIN_CONCURRENCY) -> None:
        self.per_domain = per_domain
        self._busy: Counter[str] = Counter()

    def try_acquire(self, domain: str) -> bool:
        if self._busy[domain] >= self.per_domain:
            return False
        self._busy[domain] += 1
        return True

    def release(self, domain: str) -> None:
        self._busy[domain] -= 1
        if self._busy[domain] <= 0:
            del self._busy[domain]

    def saturated(self) -> frozenset[str]:
        return frozenset(d for d, n in self._busy.items() if n >= self.per_domain)


_SLOTS: weakref.WeakKeyDictionary[httpx.AsyncClient, DomainSlots] = weakref.WeakKeyDictionary()


def slots_for(client: httpx.AsyncClient) -> DomainSlots:
    """The per-domain limits of one pooled client, shared by every worker that uses it."""
    return _SLOTS.setdefault(client, DomainSlots())


KeyLoader = Callable[[Actor], RSAPrivateKey]
Backoff = Callable[[int], timedelta]


class PrivateKeys:
    """A KeyLoader that parses each local actor's PEM once (parsing costs more than signing)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._keys: dict[str, RSAPrivateKey] = {}
        self._max_entries = max_entries

    def __call__(self, actor: Actor) -> RSAPrivateKey:
        pem = actor.private_key_pem or ""
        key = self._keys.get(pem)
        if key is None:
            if len(self._keys) >= self._max_entries:
                self._keys.pop(next(iter(self._keys)))
            key = self._keys[pem] = load_private_key(pem)
        return key


class Settlements:
    """Deliveries that landed, settled together: one UPDATE and one health read per batch.

    A fan-out finishes hundreds of deliveries a second; settling each alone cost more than
    sending it. `done` returns once the batch holding the delivery is written, so a job
    counts as finished only when the database says so (the next job for that inbox waits
    on it). Batches close after `window` seconds or `max_rows` rows, whichever comes first.
    """

    def __init__(self, *, window: float = 0.02, max_rows: int = 200) -> None:
        self.window, self.max_rows = window, max_rows
        self.successes = peers.Successes()
        self._pending: list[tuple[Delivery, int | None, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def done(self, delivery: Delivery, status: int | None) -> None:
        loop = asyncio.get_running_loop()
        landed: asyncio.Future[None] = loop.create_future()
        self._pending.append((delivery, status, landed))
        if len(self._pending) >= self.max_rows:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window, self._flush)
        await landed

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.create_task(self._write(batch))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _write(self, batch: list[tuple[Delivery, int | None, asyncio.Future[None]]]) -> None:
        try:
            now = queue.utcnow()
            await peers.record_successes({row.domain for row, _, _ in batch}, now, self.successes)
            by_status: dict[int | None, list[Delivery]] = {}
            for row, status, _ in batch:
                by_status.setdefault(status, []).append(row)
            for status, rows in by_status.items():
                await queue.complete_many(rows, last_status=status)
        except Exception as exc:  # each delivery's worker task decides what to do
            for _, _, landed in batch:
                if not landed.done():
                    landed.set_exception(exc)
        else:
            for _, _, landed in batch:
                if not landed.done():
                    landed.set_result(None)

    async def aclose(self) -> None:
        """Write what is pending now and wait for every write in progress."""
        self._flush()
        await asyncio.gather(*self._writes, return_exceptions=True)


def serialize(activity: OutboxActivity) -> bytes:
    """The bytes every recipient of `activity` receives."""
    return orjson.dumps(activity.payload)


async def deliver(
    delivery: Delivery,
    client: httpx.AsyncClient,
    prefs: SchemePreferences,
    *,
    key_loader: KeyLoader,
    body: bytes | None = None,
    deadline: float = DELIVERY_DEADLINE,
    backoff: Backoff = queue.backoff,
    settlements: Settlements | None = None,
) -> Outcome:
    """Make one attempt at a claimed delivery and settle it; per-domain limits are the caller's.

    `body` lets a fan-out serialize the activity once for all of its recipients; `backoff`
    maps the attempts made so far to the wait before the next one; `settlements` batches
    the settling of deliveries that landed.
    """
    activity = await delivery.activity
    actor = await activity.actor
    if not actor.private_key_pem:
        outcome = Outcome(Verdict.FAIL, f"{actor.ap_id} has no private key to sign with")
        await _apply(delivery, outcome, None, backoff, settlements)
        return outcome
    payload = body if body is not None else serialize(activity)
    status: int | None = None
    try:
        async with asyncio.timeout(deadline):  # per-read timeouts alone never fire on trickles
            response = await post_signed(
                client, delivery.inbox_url, payload, actor.public_key_id, key_loader(actor), prefs
            )
    except (httpx.HTTPError, TimeoutError, FetchError) as exc:
        outcome = classify_response(None, None, exc)
    else:
        status = response.status_code
        outcome = classify_response(status, response.headers, None)
    await _apply(delivery, outcome, status, backoff, settlements)
    return outcome


async def _apply(
    delivery: Delivery,
    outcome: Outcome,
    status: int | None,
    backoff: Backoff,
    settlements: Settlements | None,
) -> None:
    if outcome.verdict is Verdict.DONE and settlements is not None:
        await settlements.done(delivery, status)
        log.info("delivery %s to %s: %s", delivery.pk, delivery.inbox_url, outcome.reason)
        return
    now = queue.utcnow()
    memo = settlements.successes if settlements is not None else None
    if outcome.peer_up is True:
        await peers.record_successes([delivery.domain], now, memo)
    elif outcome.peer_up is False and memo is not None:
        memo.forget(delivery.domain)
    paused = outcome.peer_up is False and await peers.record_failure(delivery.domain, now)
    reason = outcome.reason
    if outcome.verdict is Verdict.DONE:
        await queue.complete(delivery, last_status=status)
    elif outcome.verdict is Verdict.GONE:
        reason = await _recipient_gone(delivery.inbox_url, now)
        await queue.ignore(delivery, reason, last_status=status)
    elif outcome.verdict is Verdict.FAIL:
        await queue.fail(delivery, reason, last_status=status)
    elif paused:
        await queue.pause(
            delivery, f"{reason}; {delivery.domain} is unavailable", last_status=status
        )
    else:
        # Retry-After is a floor, never a shortcut past the backoff: "0" must not spin us.
        wait = backoff(delivery.attempts)
        delay = wait if outcome.delay is None else max(outcome.delay, wait)
        await queue.retry_later(
            delivery, reason, delay=delay, max_attempts=outcome.max_attempts, last_status=status
        )
    log.info("delivery %s to %s: %s", delivery.pk, delivery.inbox_url, reason)


async def _recipient_gone(inbox_url: str, now: datetime) -> str:
    """410 on a personal inbox: that actor is gone, so it leaves its groups (bans stay)."""
    gone = await Actor.filter(inbox_url=inbox_url, is_local=False).values_list("id", flat=True)
    if not gone:  # a shared inbox: one 410 there does not say every member left
        return "HTTP 410 from a shared inbox; members kept"
    await Actor.filter(id__in=gone).update(gone_at=now)
    await Membership.filter(
        actor_id__in=gone, state__in=[MembershipState.APPROVED, MembershipState.PENDING]
    ).update(state=MembershipState.LEFT, decided_at=now)
    return "HTTP 410: recipient gone, memberships ended"
