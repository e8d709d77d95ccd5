"""Helpers for the queue, delivery and worker tests: real rows, and peers' inboxes on real sockets.

`Receiver` is a starlette app under uvicorn on a loopback port. It verifies our HTTP signatures
with `verify_request`, records every body it accepts, and misbehaves on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.activitypub.keys import generate_key_pair
from fedgroups.errors import SignatureError
from fedgroups.federation import queue
from fedgroups.federation.delivery import Outcome, PrivateKeys, deliver
from fedgroups.federation.http import build_client
from fedgroups.federation.signatures import PublicKeyInfo, SchemePreferences, verify_request
from fedgroups.models import Actor, ActorKind, Delivery, InboxItem, OutboxActivity
from fedgroups.settings import Settings
from fedgroups.worker import Worker
from tests.factories import make_remote_actor
from tests.peer import free_port

LOCAL_BASE = "https://groups.test"
key_pair = functools.cache(generate_key_pair)  # RSA generation is slow; one pair per run


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


# --- a peer's inbox ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # answer this late
    hold: bool = False  # answer only when the test calls release_held() (or at stop)


@dataclass
class Received:
    path: str
    activity: dict[str, Any]
    signer: str
    at: float  # time.monotonic()


class Receiver:
    """A peer's inboxes on 127.0.0.1. Paths answer `replies.get(path, default)`."""

    def __init__(self, public_keys: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.public_keys = public_keys  # key id -> public PEM of the actors allowed to sign
        self.default = Reply()
        self.replies: dict[str, Reply] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.in_flight = 0
        self._released = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def ids(self, path: str | None = None) -> list[str]:
        return [r.activity["id"] for r in self.received if path in (None, r.path)]

    def release_held(self) -> None:
        self._released.set()

    async def _resolve(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        pem = self.public_keys[key_id]
        key = load_pem_public_key(pem.encode())
        return PublicKeyInfo(key_id, key_id.split("#")[0], key)  # type: ignore[arg-type]

    async def _inbox(self, request: Request) -> Response:
        body = await request.body()
        try:
            verified = await verify_request(
                "POST", str(request.url), request.headers, body, self._resolve
            )
        except (SignatureError, KeyError) as exc:
            self.rejected.append(str(exc))
            return Response(status_code=401)
        self.received.append(
            Received(request.url.path, orjson.loads(body), verified.owner, time.monotonic())
        )
        reply = self.replies.get(request.url.path, self.default)
        self.in_flight += 1
        try:
            if reply.hold:
                await self._released.wait()
            elif reply.delay:
                with contextlib.suppress(TimeoutError):  # stop() cuts the wait short
                    await asyncio.wait_for(self._released.wait(), reply.delay)
        finally:
            self.in_flight -= 1
        return Response(status_code=reply.status, headers=reply.headers)

    async def _nodeinfo(self, request: Request) -> Response:
        return Response(b'{"links": []}', media_type="application/json")

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/.well-known/nodeinfo", self._nodeinfo),
                Route("/{path:path}", self._inbox, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self.release_held()
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


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
