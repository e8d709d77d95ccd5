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
from datetime import datetime, timedelta
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


async def record_success(domain: str, now: datetime) -> None:
    """The peer answered as a live server would: clear its failures, resume it if paused."""
    peer, created = await PeerDomain.get_or_create(domain=domain, defaults={"last_success_at": now})
    if created:
        return
    fresh = peer.last_success_at is not None and now - peer.last_success_at < SUCCESS_REFRESH
    if fresh and peer.consecutive_failures == 0 and peer.unavailable_since is None:
        return  # nothing new to say: spare the database a write per delivery
    await PeerDomain.filter(id=peer.id).update(
        last_success_at=now, consecutive_failures=0, unavailable_since=None
    )
    if peer.unavailable_since is not None:
        await resume(domain, now)


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
