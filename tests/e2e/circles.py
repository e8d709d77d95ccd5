"""One group followed by three remote servers that say they run Mastodon, Lemmy and unknown
software, for e2e tests of what each receives in its own form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.e2e.instances import Instance, wait_for
from tests.e2e.test_group_flow import note, received_of, send
from tests.peer import RemotePeer, serve_peer


@dataclass
class Circle:
    instance: Instance
    group_id: str
    mastodon: RemotePeer
    lemmy: RemotePeer
    author: RemotePeer


async def join(instance: Instance, peer: RemotePeer, group_id: str) -> None:
    follow = peer.activity("Follow", group_id)
    assert await send(instance, peer, "/g/recovery/inbox", follow) == 202
    await wait_for(lambda: received_of(peer, "Accept", follow["id"]), what="Accept")


@asynccontextmanager
async def start_circle(instance: Instance) -> AsyncIterator[Circle]:
    """A `recovery` group on `instance`, joined by a Mastodon, a Lemmy and an unknown peer."""
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with AsyncExitStack() as stack:
        mastodon = await stack.enter_async_context(serve_peer(software="mastodon", name="mo"))
        lemmy = await stack.enter_async_context(serve_peer(software="lemmy", name="lee"))
        author = await stack.enter_async_context(serve_peer(name="rosa"))
        for peer in (mastodon, lemmy, author):
            await join(instance, peer, group_id)
        yield Circle(instance, group_id, mastodon, lemmy, author)


def wrapped(peer: RemotePeer, kind: str) -> list[dict[str, Any]]:
    """Announces carrying an activity of `kind` embedded (FEP-1b12 form)."""
    return [
        boost["object"]
        for boost in received_of(peer, "Announce")
        if isinstance(boost["object"], dict) and boost["object"].get("type") == kind
    ]


async def post(circle: Circle, number: int) -> dict[str, Any]:
    created = circle.author.activity("Create", note(circle.author, circle.group_id, number), number)
    assert await send(circle.instance, circle.author, "/inbox", created) == 202
    note_id = created["object"]["id"]
    await wait_for(lambda: received_of(circle.mastodon, "Announce", note_id), what="boost")
    await wait_for(lambda: wrapped(circle.lemmy, "Create"), what="wrapped Create")
    return created
