"""Peer health over real sockets: failing peers paused, resumed when heard from or probed (T73)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from fedgroups.federation import queue
from fedgroups.federation.delivery import enqueue
from fedgroups.federation.peers import (
    SUCCESS_REFRESH,
    Successes,
    mark_domain_heard,
    probe_unavailable_domains,
    record_successes,
)
from fedgroups.models import Actor, Delivery, JobState, PeerDomain
from fedgroups.settings import Settings
from tests.peer import free_port

from .delivery_support import (
    LEASE,
    ReceiverFactory,
    keys_of,
    local_actor,
    outbox_activity,
    peer_client,
    receivers,
    remote_actor,
    send_one,
    utcnow,
    worker_for,
)

__all__ = ["peer_client", "receivers"]  # fixtures


async def _failing_peer(sender: Actor, port: int, inboxes: int) -> str:
    """A peer at `port` that has failed 7 times in a row, with work waiting for 2 hours."""
    base = f"http://127.0.0.1:{port}"
    actors = [await remote_actor(base, f"p{n}", shared=False) for n in range(inboxes)]
    await enqueue(await outbox_activity(sender, port), actors)
    domain = f"127.0.0.1:{port}"
    two_hours_ago = utcnow() - timedelta(hours=2)
    await Delivery.filter(domain=domain).update(created_at=two_hours_ago)
    await PeerDomain.create(domain=domain, consecutive_failures=7, last_failure_at=two_hours_ago)
    return domain


async def test_failing_peer_is_paused_then_resumed_when_heard_from(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    port = free_port()
    sender = await local_actor()
    domain = await _failing_peer(sender, port, inboxes=3)
    await send_one(peer_client)  # the 8th failure in a row, with work waiting for over an hour
    health = await PeerDomain.get(domain=domain)
    assert health.unavailable_since is not None and health.consecutive_failures == 8
    assert {r.state for r in await Delivery.all()} == {JobState.PAUSED}
    assert await queue.claim(Delivery, worker_id="t", lease=LEASE, limit=10) == []
    peer = await receivers(keys_of(sender), port=port)
    assert await mark_domain_heard(domain) is True
    assert await mark_domain_heard(domain) is False  # already available: nothing to do
    await worker_for(settings, peer_client).run_until_idle(timeout=10)
    assert len(peer.received) == 3
    assert {r.state for r in await Delivery.all()} == {JobState.DONE}
    health = await PeerDomain.get(domain=domain)
    assert health.unavailable_since is None and health.consecutive_failures == 0


async def test_failures_in_a_burst_do_not_mark_a_peer_unavailable(
    db: None, peer_client: httpx.AsyncClient
) -> None:
    port = free_port()
    domain = await _failing_peer(await local_actor(), port, inboxes=2)
    await Delivery.all().update(created_at=utcnow())  # the work is fresh: a blip, not an outage
    await send_one(peer_client)
    health = await PeerDomain.get(domain=domain)
    assert health.consecutive_failures == 8 and health.unavailable_since is None
    assert {r.state for r in await Delivery.all()} == {JobState.QUEUED}


async def test_probe_resumes_only_peers_that_answer(
    db: None, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    up_port, down_port = free_port(), free_port()
    sender = await local_actor()
    up = await _failing_peer(sender, up_port, inboxes=1)
    down = await _failing_peer(sender, down_port, inboxes=1)
    await PeerDomain.all().update(unavailable_since=utcnow())
    await Delivery.all().update(state=JobState.PAUSED)
    await receivers(keys_of(sender), port=up_port)
    assert await probe_unavailable_domains(peer_client, timeout=2) == [up]
    states = {r.domain: r.state for r in await Delivery.all()}
    assert states == {up: JobState.QUEUED, down: JobState.PAUSED}
    assert (await PeerDomain.get(domain=down)).unavailable_since is not None


async def test_successes_write_once_per_refresh_and_again_after_a_failure(db: None) -> None:
    memo = Successes()
    now = utcnow()
    await record_successes(["a.test", "b.test"], now, memo)
    assert set(await PeerDomain.all().values_list("domain", flat=True)) == {"a.test", "b.test"}
    await PeerDomain.all().delete()  # any write from here on would show as a new row
    await record_successes(["a.test", "b.test"], now + timedelta(seconds=30), memo)
    assert await PeerDomain.all().count() == 0  # fresh in this process: nothing written
    memo.forget("a.test")  # this process saw a.test fail
    await record_successes(["a.test", "b.test"], now + timedelta(seconds=31), memo)
    assert await PeerDomain.all().values_list("domain", flat=True) == ["a.test"]
    later = now + SUCCESS_REFRESH + timedelta(seconds=1)
    await record_successes(["b.test"], later, memo)  # stale: written again
    assert await PeerDomain.filter(domain="b.test").count() == 1


async def test_a_batch_of_successes_clears_failures_and_resumes_paused_peers(
    db: None,
) -> None:
    sender = await local_actor()
    domain = await _failing_peer(sender, free_port(), inboxes=2)
    await PeerDomain.filter(domain=domain).update(unavailable_since=utcnow())
    await Delivery.filter(domain=domain).update(state=JobState.PAUSED)
    await record_successes([domain, "new.test"], utcnow(), Successes())
    health = await PeerDomain.get(domain=domain)
    assert (health.consecutive_failures, health.unavailable_since) == (0, None)
    assert health.last_success_at is not None
    assert {r.state for r in await Delivery.filter(domain=domain)} == {JobState.QUEUED}
    assert await PeerDomain.exists(domain="new.test")


async def test_a_fresh_success_is_not_written_again(db: None) -> None:
    now = utcnow()
    await record_successes(["a.test"], now)
    await record_successes(["a.test"], now + timedelta(seconds=30))  # no memo: read, skip
    health = await PeerDomain.get(domain="a.test")
    assert health.last_success_at == now
    later = now + SUCCESS_REFRESH + timedelta(seconds=1)
    await record_successes(["a.test"], later)
    assert (await PeerDomain.get(domain="a.test")).last_success_at == later
