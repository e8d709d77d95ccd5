"""Peer health: a domain that keeps failing is paused, never given up on (T68-T73).

Deliveries report each attempt's verdict on the peer here. After enough consecutive failures
over a long enough span, the domain is marked unavailable and its queued deliveries are
paused (they spend no attempts meanwhile). It resumes as soon as it is heard from (a signed
inbox request, Mastodon's `track_inverse_success!`), a delivery to it succeeds, or a periodic
probe gets an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from tortoise.expressions import F

from fedgroups.errors import FetchError
from fedgroups.federation import queue
from fedgroups.models import Delivery, JobState, PeerDomain

log = logging.getLogger(__name__)

UNAVAILABLE_FAILURES = 8  # consecutive failures, and …
UNAVAILABLE_SPAN = timedelta(hours=1)  # … no success for this long with work waiting
SUCCESS_REFRESH = timedelta(minutes=1)  # how stale last_success_at may get before a write
PROBE_PATH = "/.well-known/nodeinfo"
PROBE_TIMEOUT = 10.0
PROBE_CONCURRENCY = 8


class Successes:
    """When this process last wrote a success for each peer, so a fan-out need not write again.

    A busy peer answers thousands of deliveries a minute; its health record only needs a
    write when it had failures, was paused, or its last success is older than
    SUCCESS_REFRESH. A failure seen here forgets the peer; one recorded by another process
    is cleared by our next write, at most SUCCESS_REFRESH later.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._written: dict[str, datetime] = {}
        self._max_entries = max_entries

    def fresh(self, domain: str, now: datetime) -> bool:
        written = self._written.get(domain)
        return written is not None and now - written < SUCCESS_REFRESH

    def wrote(self, domain: str, now: datetime) -> None:
        if len(self._written) >= self._max_entries:
            self._written.clear()  # a cache: starting over costs one write per peer
        self._written[domain] = now

    def forget(self, domain: str) -> None:
        self._written.pop(domain, None)


async def record_success(domain: str, now: datetime) -> None:
    """The peer answered as a live server would: clear its failures, resume it if paused."""
    await record_successes([domain], now)


async def record_successes(
    domains: Collection[str], now: datetime, memo: Successes | None = None
) -> None:
    """`record_success` for many peers at once: one read, then writes only where needed."""
    todo = {domain for domain in domains if memo is None or not memo.fresh(domain, now)}
    if not todo:
        return
    known = await PeerDomain.filter(domain__in=list(todo)).values(
        "id", "domain", "last_success_at", "consecutive_failures", "unavailable_since"
    )
    missing = todo - {str(peer["domain"]) for peer in known}
    if missing:
        rows = [PeerDomain(domain=domain, last_success_at=now) for domain in sorted(missing)]
        await PeerDomain.bulk_create(rows, ignore_conflicts=True)
    stale = [peer for peer in known if _needs_write(peer, now)]
    if stale:
        await PeerDomain.filter(id__in=[peer["id"] for peer in stale]).update(
            last_success_at=now, consecutive_failures=0, unavailable_since=None
        )
    for peer in stale:
        if peer["unavailable_since"] is not None:
            await resume(str(peer["domain"]), now)
    if memo is not None:
        for domain in todo:
            memo.wrote(domain, now)


def _needs_write(peer: dict[str, Any], now: datetime) -> bool:
    last = peer["last_success_at"]
    fresh = last is not None and now - last < SUCCESS_REFRESH
    return not fresh or bool(peer["consecutive_failures"]) or peer["unavailable_since"] is not None


async def record_failure(domain: str, now: datetime) -> bool:
    """Count a failure; True when the domain is (now) unavailable and its jobs should wait."""
    peer, _ = await PeerDomain.get_or_create(domain=domain)
    await PeerDomain.filter(id=peer.id).update(
        consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now
    )
    await peer.refresh_from_db(fields=["consecutive_failures", "unavailable_since"])
    if peer.unavailable_since is not None:
        return True
    if peer.consecutive_failures < UNAVAILABLE_FAILURES:
        return False
    if now - await _failing_since(peer, now) < UNAVAILABLE_SPAN:
        return False
    await PeerDomain.filter(id=peer.id, unavailable_since__isnull=True).update(
        unavailable_since=now
    )
    paused = await Delivery.filter(domain=domain, state=JobState.QUEUED).update(
        state=JobState.PAUSED
    )
    log.warning(
        "%s unavailable after %d failures; %d deliveries paused",
        domain,
        peer.consecutive_failures,
        paused,
    )
    return True


async def _failing_since(peer: PeerDomain, now: datetime) -> datetime:
    """Since when work for the peer has waited without a single success (T73)."""
    open_states = [JobState.QUEUED, JobState.RUNNING, JobState.PAUSED]
    oldest = (
        await Delivery.filter(domain=peer.domain, state__in=open_states)
        .order_by("created_at")
        .limit(1)
        .values_list("created_at", flat=True)
    )
    since = oldest[0] if oldest and isinstance(oldest[0], datetime) else now
    if peer.last_success_at is not None:
        since = max(since, peer.last_success_at)
    return since


async def resume(domain: str, now: datetime) -> int:
    """Mark the domain available and make its paused deliveries due now; return how many."""
    await PeerDomain.filter(domain=domain).update(unavailable_since=None, consecutive_failures=0)
    return await Delivery.filter(domain=domain, state=JobState.PAUSED).update(
        state=JobState.QUEUED, run_at=now
    )


async def mark_domain_heard(domain: str, *, now: datetime | None = None) -> bool:
    """The peer just spoke to us (e.g. a signed inbox POST): resume it if it was unavailable.

    Mastodon's `track_inverse_success!` does the same. Cheap when the peer was fine: one read.
    """
    domain = domain.lower()
    if not await PeerDomain.exists(domain=domain, unavailable_since__isnull=False):
        return False
    resumed = await resume(domain, now or queue.utcnow())
    log.info("%s heard from again; %d deliveries resumed", domain, resumed)
    return True


async def probe_unavailable_domains(
    client: httpx.AsyncClient, *, timeout: float = PROBE_TIMEOUT
) -> list[str]:
    """One cheap GET per unavailable domain; any answer short of a 5xx resumes it."""
    domains = await PeerDomain.filter(unavailable_since__isnull=False).values_list(
        "domain", flat=True
    )
    limit = asyncio.Semaphore(PROBE_CONCURRENCY)

    async def probe(domain: str) -> str | None:
        async with limit:
            return domain if await _probe(client, domain, timeout) else None

    results = await asyncio.gather(*(probe(str(domain)) for domain in domains))
    return [domain for domain in results if domain is not None]


async def _probe(client: httpx.AsyncClient, domain: str, timeout: float) -> bool:
    # The scheme is not stored with the domain: take it from a waiting delivery's inbox.
    sample = await Delivery.filter(domain=domain, state=JobState.PAUSED).first()
    if sample is not None:
        parts = urlsplit(sample.inbox_url)
        try:
            async with (
                asyncio.timeout(timeout),
                client.stream("GET", f"{parts.scheme}://{parts.netloc}{PROBE_PATH}") as response,
            ):
                if response.status_code >= 500:
                    return False
        except (httpx.HTTPError, TimeoutError, FetchError):
            return False
    await resume(domain, queue.utcnow())  # it answers, or nothing waits for it any more
    return True
