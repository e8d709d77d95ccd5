"""Helpers for the queue, delivery and worker tests: real rows, and peers' inboxes on real sockets.

The inboxes are `tests.peer.Receiver`s: signature-checking, recording, misbehaving on request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fedgroups.federation import queue
from fedgroups.federation.delivery import Outcome, PrivateKeys, deliver
from fedgroups.federation.http import build_client
from fedgroups.federation.signatures import SchemePreferences
from fedgroups.models import Actor, ActorKind, Delivery, InboxItem, OutboxActivity
from fedgroups.settings import Settings
from fedgroups.worker import Worker
from tests.factories import make_remote_actor
from tests.peer import Receiver, shared_key_pair

LOCAL_BASE = "https://groups.test"
key_pair = shared_key_pair


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- rows ----------------------------------------------------------------------------------


async def local_actor(name: str = "circle") -> Actor:
    private_pem, public_pem = key_pair()
    ap_id = f"{LOCAL_BASE}/g/{name}"
    return await Actor.create(
        ap_id=ap_id,
        kind=ActorKind.GROUP,
        is_local=True,
        username=name,
        domain="groups.test",
        handle_key=f"{name}@groups.test",
        inbox_url=f"{ap_id}/inbox",
        shared_inbox_url=f"{LOCAL_BASE}/inbox",
        public_key_id=f"{ap_id}#main-key",
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )


async def remote_actor(base_url: str, name: str, *, shared: bool = True) -> Actor:
    """A remote Person at `base_url`; with `shared`, it has the peer's shared inbox."""
    return await make_remote_actor(base_url, name, shared=shared)


async def outbox_activity(actor: Actor, number: int, kind: str = "Create") -> OutboxActivity:
    ap_id = f"{actor.ap_id}/activities/{number}"
    payload = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ap_id,
        "type": kind,
        "actor": actor.ap_id,
        "object": {"id": f"{actor.ap_id}/posts/{number}", "type": "Note", "content": f"n{number}"},
    }
    return await OutboxActivity.create(
        ap_id=ap_id, actor=actor, activity_type=kind, payload=payload
    )


async def inbox_item(number: int, *, run_at: datetime | None = None) -> InboxItem:
    actor = "https://peer.test/users/rosa"
    return await InboxItem.create(
        activity_ap_id=f"{actor}/activities/{number}",
        activity_type="Create",
        actor_ap_id=actor,
        signer_key_id=f"{actor}#main-key",
        body={"id": f"{actor}/activities/{number}", "type": "Create"},
        run_at=run_at or utcnow(),
    )


# --- sending -------------------------------------------------------------------------------

LEASE = timedelta(seconds=30)


async def send_one(client: httpx.AsyncClient, *, deadline: float = 5.0) -> Outcome:
    """Claim the one due delivery and make one attempt at it."""
    (row,) = await queue.claim(Delivery, worker_id="t", lease=LEASE, limit=1)
    return await deliver(
        row, client, SchemePreferences(), key_loader=PrivateKeys(), deadline=deadline
    )


async def _no_inbox_items(item: object) -> None:
    raise AssertionError("no inbox items in these tests")


def worker_for(settings: Settings, client: httpx.AsyncClient, **options: object) -> Worker:
    """A delivery-only worker on `client`, drained with `run_until_idle()`."""
    return Worker(settings, client, SchemePreferences(), _no_inbox_items, **options)  # type: ignore[arg-type]


# --- peers' inboxes ------------------------------------------------------------------------


ReceiverFactory = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def receivers() -> AsyncIterator[ReceiverFactory]:
    """Factory: `await receivers(keys, port=None, start=True)`; all stopped at teardown."""
    made: list[Receiver] = []

    async def make(keys: dict[str, str], port: int | None = None, start: bool = True) -> Receiver:
        receiver = Receiver(keys, port)
        made.append(receiver)
        if start:
            await receiver.start()
        return receiver

    yield make
    for receiver in made:
        await receiver.stop()


@pytest.fixture
async def peer_client() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled outbound client, allowed to reach loopback peers (allow_private_peers)."""
    async with build_client(allow_private_peers=True, user_agent="fedgroups-test") as client:
        yield client


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 15) -> None:
    """Wait until `check()` holds: for work done by another process, which we cannot drain."""
    step = 0.02
    for _ in range(int(timeout / step)):
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        await asyncio.sleep(step)
    raise TimeoutError(f"condition not met within {timeout} s")


def keys_of(actor: Actor) -> dict[str, str]:
    return {actor.public_key_id: actor.public_key_pem}
