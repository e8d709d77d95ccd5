"""The inbox under the instance's federation policy: limit accepts, the allowlist drops like a
block (202, no key fetch), and cautious mode verifies and keeps a new server's activities but
holds them for an admin."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.activitypub.parse import parse_actor
from fedgroups.groups.domains import allow_domain, block_domain
from fedgroups.groups.federation_mode import set_federation_mode
from fedgroups.models import BlockSeverity, FederationMode, InboxItem, JobState
from tests.peer import RemotePeer, serve_peer

INBOX = "https://groups.test/inbox"


def note(peer: RemotePeer, number: int = 1) -> dict[str, object]:
    return {
        "id": f"{peer.actor_id}/notes/{number}",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": "<p>hello</p>",
        "to": ["https://groups.test/g/recovery"],
    }


@pytest.fixture
async def known_peer(app: Starlette) -> RemotePeer:
    peer = RemotePeer(base_url="https://peer.test")
    await app.state.federation.remote_actors.store_actor(parse_actor(peer.actor_document()))
    return peer


async def deliver(client: httpx.AsyncClient, peer: RemotePeer, number: int = 1) -> int:
    body, headers = peer.signed_post(INBOX, peer.activity("Create", note(peer, number), number))
    return (await client.post("/inbox", content=body, headers=headers)).status_code


async def test_a_limited_server_is_heard(client: httpx.AsyncClient, known_peer: RemotePeer) -> None:
    await block_domain("peer.test", severity=BlockSeverity.LIMIT)
    assert await deliver(client, known_peer) == 202
    assert (await InboxItem.get()).state == JobState.QUEUED


async def test_allowlist_mode_drops_unlisted_servers_like_a_block(
    client: httpx.AsyncClient, known_peer: RemotePeer
) -> None:
    await set_federation_mode(FederationMode.ALLOWLIST)
    assert await deliver(client, known_peer, 1) == 202
    assert await InboxItem.all().count() == 0
    await allow_domain("peer.test")
    assert await deliver(client, known_peer, 2) == 202
    item = await InboxItem.get()
    assert (item.state, item.domain) == (JobState.QUEUED, "peer.test")


async def test_allowlist_mode_fetches_nothing_from_unlisted_servers(
    peers_app: Starlette,
) -> None:
    await set_federation_mode(FederationMode.ALLOWLIST)
    transport = httpx.ASGITransport(app=peers_app)
    async with (
        serve_peer() as peer,
        httpx.AsyncClient(transport=transport, base_url="https://groups.test") as client,
    ):
        assert await deliver(client, peer) == 202
    assert peer.actor_fetches == 0
    assert await InboxItem.all().count() == 0


async def test_cautious_mode_verifies_a_new_server_then_holds_what_it_sent(
    peers_app: Starlette,
) -> None:
    await set_federation_mode(FederationMode.CAUTIOUS)
    transport = httpx.ASGITransport(app=peers_app)
    async with (
        serve_peer() as peer,
        httpx.AsyncClient(transport=transport, base_url="https://groups.test") as client,
    ):
        assert await deliver(client, peer) == 202
        assert peer.actor_fetches == 1  # its key was fetched and the signature checked
        forged_body, headers = peer.signed_post(INBOX, peer.activity("Create", note(peer), 2))
        response = await client.post("/inbox", content=forged_body + b" ", headers=headers)
        assert response.status_code == 401  # nothing unverified is kept, held or not
    item = await InboxItem.get()
    assert (item.state, item.domain) == (JobState.HELD, peer.domain)
    await allow_domain(peer.domain)
    await item.refresh_from_db()
    assert item.state == JobState.QUEUED
