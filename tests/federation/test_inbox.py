"""The inbox stores, then answers: signature and origin checks, replays, blocks, size caps."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.activitypub.parse import parse_actor
from fedgroups.app import create_app
from fedgroups.db import bind_context
from fedgroups.groups.domains import block_domain
from fedgroups.models import Actor, Delivery, InboxItem, JobState, OutboxActivity, PeerDomain
from fedgroups.settings import Settings
from tests.conftest import make_settings
from tests.factories import make_group
from tests.peer import RemotePeer, free_port, serve_peer

INBOX = "https://groups.test/inbox"


def note(peer: RemotePeer, number: int = 1) -> dict[str, object]:
    return {
        "id": f"{peer.actor_id}/notes/{number}",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": "<p>hello @recovery</p>",
        "to": ["https://groups.test/g/recovery"],
    }


@pytest.fixture
async def private_peers_app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    """An instance allowed to fetch from loopback peers (FEDGROUPS_ALLOW_PRIVATE_PEERS=1)."""
    settings = make_settings(database_url, tmp_path / "data", FEDGROUPS_ALLOW_PRIVATE_PEERS="1")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):
            yield application


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> int:
    response = await client.post(url, content=body, headers=headers)
    return response.status_code


async def test_signed_activity_from_a_fetched_actor_is_stored(
    private_peers_app: Starlette,
) -> None:
    transport = httpx.ASGITransport(app=private_peers_app)
    async with (
        serve_peer() as peer,
        httpx.AsyncClient(transport=transport, base_url="https://groups.test") as client,
    ):
        activity = peer.activity("Create", note(peer))
        body, headers = peer.signed_post(INBOX, activity)
        assert await post(client, "/inbox", body, headers) == 202
        assert await post(client, "/inbox", body, headers) == 202  # replay: ignored (T15)
    items = await InboxItem.all()
    assert [item.activity_ap_id for item in items] == [activity["id"]]
    assert items[0].actor_ap_id == peer.actor_id
    assert items[0].body == activity
    stored = await Actor.get(ap_id=peer.actor_id)
    assert stored.is_local is False
    assert stored.public_key_id == peer.key_id


async def test_rotated_key_is_refetched_once(private_peers_app: Starlette) -> None:
    transport = httpx.ASGITransport(app=private_peers_app)
    async with (
        serve_peer() as peer,
        httpx.AsyncClient(transport=transport, base_url="https://groups.test") as client,
    ):
        body, headers = peer.signed_post(INBOX, peer.activity("Create", note(peer), 1))
        assert await post(client, "/inbox", body, headers) == 202
        peer.rotate_key()  # the peer now serves and signs with a new key (T09a)
        body, headers = peer.signed_post(INBOX, peer.activity("Create", note(peer, 2), 2))
        assert await post(client, "/inbox", body, headers) == 202
    assert await InboxItem.all().count() == 2


@pytest.fixture
async def known_peer(app: Starlette) -> RemotePeer:
    """A remote actor already cached here, so no fetch is needed to verify it."""
    peer = RemotePeer(base_url="https://peer.test")
    await app.state.federation.remote_actors.store_actor(parse_actor(peer.actor_document()))
    return peer


async def test_unsigned_post_is_401_and_stores_nothing(
    client: httpx.AsyncClient, known_peer: RemotePeer
) -> None:
    body, _ = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    status = await post(client, "/inbox", body, {"Content-Type": "application/activity+json"})
    assert status == 401  # T01
    assert await InboxItem.all().count() == 0


async def test_tampered_body_is_401(client: httpx.AsyncClient, known_peer: RemotePeer) -> None:
    body, headers = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    assert await post(client, "/inbox", body.replace(b"hello", b"HELLO"), headers) == 401  # T02
    assert await InboxItem.all().count() == 0


async def test_signature_for_another_inbox_is_401(
    client: httpx.AsyncClient, settings: Settings, known_peer: RemotePeer
) -> None:
    await make_group(settings, "recovery")
    body, headers = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    assert await post(client, "/g/recovery/inbox", body, headers) == 401  # T03
    assert await InboxItem.all().count() == 0


async def test_signer_must_be_the_actor(client: httpx.AsyncClient, known_peer: RemotePeer) -> None:
    activity = known_peer.activity("Create", note(known_peer))
    activity["actor"] = "https://peer.test/users/sam"
    activity["id"] = "https://peer.test/users/sam/activities/1"
    body, headers = known_peer.signed_post(INBOX, activity)
    assert await post(client, "/inbox", body, headers) == 401  # T06
    assert await InboxItem.all().count() == 0


async def test_activity_id_on_another_origin_is_refused(
    client: httpx.AsyncClient, known_peer: RemotePeer
) -> None:
    activity = known_peer.activity("Create", note(known_peer))
    activity["id"] = "https://evil.test/activities/1"
    body, headers = known_peer.signed_post(INBOX, activity)
    assert await post(client, "/inbox", body, headers) == 401  # T17b
    assert await InboxItem.all().count() == 0


async def test_blocked_domain_is_dropped_with_202(
    client: httpx.AsyncClient, known_peer: RemotePeer
) -> None:
    await block_domain("peer.test", reason="harm")
    body, headers = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    assert await post(client, "/inbox", body, headers) == 202
    assert await InboxItem.all().count() == 0


async def test_oversized_body_is_413(client: httpx.AsyncClient, known_peer: RemotePeer) -> None:
    activity = known_peer.activity("Create", {**note(known_peer), "content": "x" * 600_000})
    body, headers = known_peer.signed_post(INBOX, activity)
    assert await post(client, "/inbox", body, headers) == 413  # T29
    assert await InboxItem.all().count() == 0


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"id": 1}', b'{"a": 1, "a": 2}', b"[" * 100 + b"]" * 100],
)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, known_peer: RemotePeer, body: bytes
) -> None:
    _, headers = known_peer.signed_post(INBOX, {})
    assert await post(client, "/inbox", body, headers) == 400  # T30, T33


async def test_compressed_body_is_415(client: httpx.AsyncClient, known_peer: RemotePeer) -> None:
    body, headers = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    status = await post(
        client, "/inbox", gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    )
    assert status == 415  # T34


async def test_unknown_actor_self_delete_is_dropped_unsigned(client: httpx.AsyncClient) -> None:
    actor = "https://gone.test/users/x"
    activity = {"id": f"{actor}#delete", "type": "Delete", "actor": actor, "object": actor}
    response = await client.post("/inbox", json=activity)
    assert response.status_code == 202
    assert await InboxItem.all().count() == 0


async def test_hearing_from_an_unavailable_peer_resumes_its_deliveries(
    client: httpx.AsyncClient, settings: Settings, known_peer: RemotePeer
) -> None:
    group = await make_group(settings, "recovery")
    activity = await OutboxActivity.create(
        ap_id="https://groups.test/g/recovery/activities/1",
        actor=group.actor,
        group=group,
        activity_type="Announce",
        payload={"type": "Announce"},
    )
    await PeerDomain.create(domain="peer.test", unavailable_since=datetime.now(UTC))
    delivery = await Delivery.create(
        activity=activity,
        inbox_url="https://peer.test/inbox",
        domain="peer.test",
        run_at=datetime.now(UTC),
        state=JobState.PAUSED,
    )
    body, headers = known_peer.signed_post(INBOX, known_peer.activity("Create", note(known_peer)))
    assert await post(client, "/inbox", body, headers) == 202
    await delivery.refresh_from_db()
    assert delivery.state == JobState.QUEUED
    peer = await PeerDomain.get(domain="peer.test")
    assert peer.unavailable_since is None


async def test_unreachable_key_host_gets_503(private_peers_app: Starlette) -> None:
    # The key host is down: the sender must retry later, so 503, not 401 (Mastodon 4.5.4+).
    peer = RemotePeer(base_url=f"http://127.0.0.1:{free_port()}")
    transport = httpx.ASGITransport(app=private_peers_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://groups.test") as client:
        body, headers = peer.signed_post(INBOX, peer.activity("Create", note(peer)))
        assert await post(client, "/inbox", body, headers) == 503
    assert await InboxItem.all().count() == 0
