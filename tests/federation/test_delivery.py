"""Deliveries against peers on real sockets: enqueueing, signing, classification (T68-T72)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from tortoise.transactions import in_transaction

from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation import delivery as delivery_module
from fedgroups.federation import queue
from fedgroups.federation.delivery import (
    PrivateKeys,
    Settlements,
    Verdict,
    classify_response,
    deliver,
    enqueue,
)
from fedgroups.federation.http import build_client
from fedgroups.federation.signatures import SchemePreferences
from fedgroups.models import (
    Actor,
    Delivery,
    JobState,
    Membership,
    MembershipState,
    OutboxActivity,
    PeerDomain,
)
from fedgroups.settings import Settings
from tests.peer import Reply, free_port

from .delivery_support import (
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
# --- enqueue -------------------------------------------------------------------------------


async def test_enqueue_writes_one_delivery_per_distinct_remote_inbox(db: None) -> None:
    sender = await local_actor()
    local_member = await local_actor("lena")
    rosa = await remote_actor("https://peer.test", "rosa")
    sam = await remote_actor("https://peer.test", "sam")  # same shared inbox as rosa
    ivy = await remote_actor("https://solo.test:8443", "ivy", shared=False)
    gone = await remote_actor("https://old.test", "fay")
    gone.gone_at = utcnow()
    await gone.save()
    activity = await outbox_activity(sender, 1)
    assert await enqueue(activity, [rosa, sam, ivy, gone, local_member, rosa]) == 2
    rows = await Delivery.all().order_by("id")
    assert [(r.inbox_url, r.domain, r.state) for r in rows] == [
        ("https://peer.test/inbox", "peer.test", JobState.QUEUED),
        ("https://solo.test:8443/users/ivy/inbox", "solo.test:8443", JobState.QUEUED),
    ]
    assert all(r.run_at <= utcnow() and r.attempts == 0 for r in rows)
    assert await enqueue(activity, [sam, ivy]) == 0  # already queued: nothing doubles


async def test_enqueue_commits_or_rolls_back_with_its_cause(db: None) -> None:
    sender = await local_actor()
    rosa = await remote_actor("https://peer.test", "rosa")
    with pytest.raises(RuntimeError):
        async with in_transaction():
            activity = await outbox_activity(sender, 1)
            await enqueue(activity, [rosa])
            raise RuntimeError("the post could not be stored")
    assert await OutboxActivity.all().count() == 0
    assert await Delivery.all().count() == 0
    async with in_transaction():
        activity = await outbox_activity(sender, 2)
        assert await enqueue(activity, [rosa]) == 1
    assert await Delivery.filter(activity_id=activity.id).count() == 1


async def test_enqueue_to_an_unavailable_peer_waits_paused(db: None) -> None:
    await PeerDomain.create(domain="peer.test", unavailable_since=utcnow())
    activity = await outbox_activity(await local_actor(), 1)
    await enqueue(activity, [await remote_actor("https://peer.test", "rosa")])
    assert (await Delivery.get()).state == JobState.PAUSED


# --- classification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict", "peer_up"),
    [
        (200, Verdict.DONE, True),
        (202, Verdict.DONE, True),
        (204, Verdict.DONE, True),
        (410, Verdict.GONE, True),
        (500, Verdict.RETRY, False),
        (502, Verdict.RETRY, False),
        (503, Verdict.RETRY, False),
        (504, Verdict.RETRY, False),
        (408, Verdict.RETRY, False),
        (429, Verdict.RETRY, None),
        (401, Verdict.RETRY, True),
        (301, Verdict.FAIL, True),
        (400, Verdict.FAIL, True),
        (403, Verdict.FAIL, True),
        (404, Verdict.FAIL, True),
        (413, Verdict.FAIL, True),
        (422, Verdict.FAIL, True),
        (501, Verdict.FAIL, True),
    ],
)
def test_classify_status(status: int, verdict: Verdict, peer_up: bool | None) -> None:
    outcome = classify_response(status, {}, None)
    assert (outcome.verdict, outcome.peer_up) == (verdict, peer_up)
    assert outcome.max_attempts == (2 if status == 401 else queue.MAX_ATTEMPTS)


def test_classify_retry_after() -> None:
    assert classify_response(429, {"retry-after": "120"}, None).delay == timedelta(seconds=120)
    assert classify_response(429, {}, None).delay is None
    when = format_datetime(utcnow() + timedelta(minutes=10), usegmt=True)
    delay = classify_response(503, {"retry-after": when}, None).delay
    assert delay is not None and timedelta(minutes=9) < delay <= timedelta(minutes=10)
    huge = classify_response(503, {"retry-after": "99999999"}, None).delay
    assert huge == delivery_module.RETRY_AFTER_CAP
    past = format_datetime(utcnow() - timedelta(hours=1), usegmt=True)
    assert classify_response(429, {"retry-after": past}, None).delay == timedelta(0)
    assert classify_response(429, {"retry-after": "soon"}, None).delay is None


@pytest.mark.parametrize(
    ("error", "verdict", "peer_up"),
    [
        (httpx.ConnectError("refused"), Verdict.RETRY, False),
        (httpx.ReadTimeout("slow"), Verdict.RETRY, False),
        (TimeoutError(), Verdict.RETRY, False),
        (httpx.RemoteProtocolError("reset mid-body"), Verdict.RETRY, False),
        (UnsafeAddress("resolves to 10.0.0.1"), Verdict.FAIL, None),
        (FetchError("URL contains a forbidden character"), Verdict.FAIL, None),
    ],
)
def test_classify_errors(error: Exception, verdict: Verdict, peer_up: bool | None) -> None:
    outcome = classify_response(None, None, error)
    assert (outcome.verdict, outcome.peer_up) == (verdict, peer_up)


# --- sending to a real peer ----------------------------------------------------------------


async def test_delivery_is_signed_and_recorded(
    db: None, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    activity = await outbox_activity(sender, 1)
    await enqueue(activity, [await remote_actor(peer.base_url, "rosa")])
    outcome = await send_one(peer_client)
    assert outcome.verdict == Verdict.DONE
    (got,) = peer.received
    assert (got.path, got.signer, got.activity) == ("/inbox", sender.ap_id, activity.payload)
    assert peer.rejected == []
    row = await Delivery.get()
    assert (row.state, row.last_status, row.attempts) == (JobState.DONE, 202, 1)
    health = await PeerDomain.get(domain=f"127.0.0.1:{peer.port}")
    assert health.last_success_at is not None and health.consecutive_failures == 0


@pytest.mark.parametrize(
    ("reply", "state", "last_error", "wait"),
    [
        (Reply(status=200), JobState.DONE, "", None),
        (Reply(status=400), JobState.FAILED, "HTTP 400", None),
        (Reply(status=403), JobState.FAILED, "HTTP 403", None),
        (Reply(status=500), JobState.QUEUED, "HTTP 500", timedelta(seconds=30)),
        (Reply(status=503), JobState.QUEUED, "HTTP 503", timedelta(seconds=30)),
        (
            Reply(status=429, headers={"Retry-After": "120"}),
            JobState.QUEUED,
            "HTTP 429",
            timedelta(seconds=120),
        ),
        (
            Reply(status=429, headers={"Retry-After": "0"}),
            JobState.QUEUED,
            "HTTP 429",
            timedelta(seconds=30),  # never sooner than the backoff
        ),
        (Reply(delay=2.0), JobState.QUEUED, "timed out (TimeoutError)", timedelta(seconds=30)),
    ],
    ids=["200", "400", "403", "500", "503", "429-retry-after", "429-now", "slow"],
)
async def test_replies_are_classified(
    db: None,
    receivers: ReceiverFactory,
    peer_client: httpx.AsyncClient,
    reply: Reply,
    state: JobState,
    last_error: str,
    wait: timedelta | None,
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    peer.default = reply
    await enqueue(await outbox_activity(sender, 1), [await remote_actor(peer.base_url, "rosa")])
    await send_one(peer_client, deadline=0.5)
    row = await Delivery.get()
    assert (row.state, row.last_error) == (state, last_error)
    if wait is not None:  # back in the queue, due after the backoff or Retry-After
        assert wait * 0.85 < row.run_at - utcnow() <= wait * 1.1
        assert row.leased_until is None


async def test_connection_refused_is_retried(db: None, peer_client: httpx.AsyncClient) -> None:
    sender = await local_actor()
    nobody = await remote_actor(f"http://127.0.0.1:{free_port()}", "rosa")  # nothing listens
    await enqueue(await outbox_activity(sender, 1), [nobody])
    outcome = await send_one(peer_client)
    assert (outcome.verdict, outcome.peer_up) == (Verdict.RETRY, False)
    row = await Delivery.get()
    assert row.state == JobState.QUEUED and row.last_error.startswith("ConnectError")
    assert (await PeerDomain.get(domain=row.domain)).consecutive_failures == 1


async def test_unsafe_address_fails_at_once(db: None, receivers: ReceiverFactory) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    await enqueue(await outbox_activity(sender, 1), [await remote_actor(peer.base_url, "rosa")])
    async with build_client(allow_private_peers=False, user_agent="t") as guarded:
        outcome = await send_one(guarded)
    assert outcome.verdict == Verdict.FAIL
    row = await Delivery.get()
    assert row.state == JobState.FAILED and row.last_error.startswith("UnsafeAddress")
    assert peer.received == []


async def test_unauthorized_is_retried_once_then_failed(
    db: None, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers({})  # knows no key: every signature is refused with 401
    await enqueue(await outbox_activity(sender, 1), [await remote_actor(peer.base_url, "rosa")])
    await send_one(peer_client)
    row = await Delivery.get()
    assert (row.state, row.last_error) == (JobState.QUEUED, "HTTP 401")
    await Delivery.filter(id=row.id).update(run_at=utcnow())
    await send_one(peer_client)
    row = await Delivery.get()
    assert (row.state, row.last_error) == (JobState.FAILED, "gave up after 2 attempts: HTTP 401")
    assert len(peer.rejected) == 4  # two attempts, each knocking with both schemes


async def test_gone_recipient_loses_its_memberships(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    from tests.factories import make_group

    group = await make_group(settings)
    sender = await Actor.get(id=group.actor.id)
    peer = await receivers(keys_of(sender))
    peer.default = Reply(status=410)
    ivy = await remote_actor(peer.base_url, "ivy", shared=False)
    ben = await remote_actor(peer.base_url, "ben", shared=False)
    await Membership.create(group=group, actor=ivy, state=MembershipState.APPROVED)
    await Membership.create(group=group, actor=ben, state=MembershipState.BANNED)
    activity = await outbox_activity(sender, 1)
    await enqueue(activity, [ivy, ben])
    await send_one(peer_client)
    await send_one(peer_client)
    assert [r.state for r in await Delivery.all()] == [JobState.IGNORED] * 2
    assert (await Delivery.first()).last_error == "HTTP 410: recipient gone, memberships ended"
    assert await Membership.exists(actor=ivy, state=MembershipState.LEFT)
    assert await Membership.exists(actor=ben, state=MembershipState.BANNED)  # bans outlive 410
    await ivy.refresh_from_db()
    assert ivy.gone_at is not None
    assert await enqueue(await outbox_activity(sender, 2), [ivy]) == 0


# --- ordering and isolation ----------------------------------------------------------------


async def test_peer_down_then_up_receives_everything_in_order_per_inbox(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender), start=False)  # refuses connections for now
    rosa = await remote_actor(peer.base_url, "rosa")
    ivy = await remote_actor(peer.base_url, "ivy", shared=False)
    activities = [await outbox_activity(sender, n) for n in range(1, 6)]
    for activity in activities:
        await enqueue(activity, [rosa, ivy])
    worker = worker_for(settings, peer_client)
    await worker.run_until_idle(timeout=10)
    rows = await Delivery.all()
    assert len(rows) == 10 and all(r.state == JobState.QUEUED for r in rows)
    assert sorted(r.attempts for r in rows) == [0] * 8 + [1, 1]  # only each inbox's head tried
    await peer.start()
    await Delivery.all().update(run_at=utcnow())
    await worker.run_until_idle(timeout=10)
    ids = [a.ap_id for a in activities]
    assert peer.ids("/inbox") == ids
    assert peer.ids("/users/ivy/inbox") == ids
    assert {r.state for r in await Delivery.all()} == {JobState.DONE}


async def test_a_dead_host_never_delays_the_others(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    stalled = await receivers(keys_of(sender))
    stalled.default = Reply(hold=True)  # accepts, then never answers
    healthy = await receivers(keys_of(sender))
    dead = [await remote_actor(stalled.base_url, f"d{n}", shared=False) for n in range(8)]
    alive = [await remote_actor(healthy.base_url, f"h{n}", shared=False) for n in range(4)]
    await enqueue(await outbox_activity(sender, 1), dead)  # first in line
    await enqueue(await outbox_activity(sender, 2), alive)
    worker = worker_for(settings, peer_client, delivery_concurrency=8, delivery_deadline=0.6)
    start = time.monotonic()
    await worker.run_until_idle(timeout=10)
    took = time.monotonic() - start
    assert len(healthy.received) == 4
    assert max(r.at for r in healthy.received) - start < 0.5
    assert len(stalled.received) == 8
    assert took >= 1.2  # the stalled peer's 8 inboxes went 4 at a time, each timing out
    states = {r.domain: r.state for r in await Delivery.all()}
    assert states[f"127.0.0.1:{healthy.port}"] == JobState.DONE
    assert states[f"127.0.0.1:{stalled.port}"] == JobState.QUEUED


async def test_deliveries_that_land_together_are_settled_together(
    db: None, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    inboxes = [await remote_actor(peer.base_url, f"m{n}", shared=False) for n in range(5)]
    await enqueue(await outbox_activity(sender, 1), inboxes)
    rows = await queue.claim(Delivery, worker_id="t", lease=timedelta(seconds=30), limit=10)
    settlements = Settlements(window=0.05)
    outcomes = await asyncio.gather(
        *(
            deliver(row, peer_client, SchemePreferences(), key_loader=PrivateKeys(),
                    settlements=settlements)
            for row in rows
        )
    )  # fmt: skip
    assert {outcome.verdict for outcome in outcomes} == {Verdict.DONE}
    assert len(peer.received) == 5
    # Every delivery returned only once its batch was written.
    settled = await Delivery.all().values_list("state", "last_status")
    assert settled == [(JobState.DONE, 202)] * 5
    assert settlements.successes.fresh(f"127.0.0.1:{peer.port}", utcnow())
    assert await PeerDomain.filter(domain=f"127.0.0.1:{peer.port}").count() == 1
    await settlements.aclose()
