"""Key resolution: cache, one refresh per cool-down, no fetch for local keys or blocked peers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedgroups.activitypub.keys import load_private_key
from fedgroups.errors import BlockedDomain, KeyUnavailable, SignatureError
from fedgroups.federation.context import instance_get_signer
from fedgroups.federation.http import build_client
from fedgroups.federation.keys import RemoteActors
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.groups.domains import block_domain
from fedgroups.settings import Settings
from tests.factories import make_group
from tests.peer import RemotePeer, free_port, serve_peer


@pytest.fixture
async def remote_actors(db: None, settings: Settings) -> AsyncIterator[RemoteActors]:
    client = build_client(allow_private_peers=True, user_agent="fedgroups-test")
    signer = instance_get_signer(await ensure_instance_actor(settings))
    yield RemoteActors(settings, client, signer)
    await client.aclose()


async def test_key_is_fetched_once_then_cached(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        first = await remote_actors.resolve_key(peer.key_id, False)
        again = await remote_actors.resolve_key(peer.key_id, False)
        assert first.owner == again.owner == peer.actor_id
        assert peer.actor_fetches == 1


async def test_refresh_is_rate_limited_per_key(remote_actors: RemoteActors) -> None:
    # T09b: a flood of bad signatures "from Rosa" makes at most one re-fetch per cool-down.
    async with serve_peer() as peer:
        await remote_actors.resolve_key(peer.key_id, False)
        peer.rotate_key()
        refreshed = await remote_actors.resolve_key(peer.key_id, True)
        assert refreshed.public_key.public_numbers() == (  # type: ignore[union-attr]
            load_private_key(peer.keys[0]).public_key().public_numbers()
        )
        for _ in range(20):
            with pytest.raises(SignatureError):
                await remote_actors.resolve_key(peer.key_id, True)
        assert peer.actor_fetches == 2


async def test_local_keys_come_from_the_database(
    remote_actors: RemoteActors, settings: Settings
) -> None:
    # T07: a keyId on our own origin never causes an HTTP request (the client would refuse
    # https://groups.test anyway; the point is that the answer comes without one).
    group = await make_group(settings, "recovery")
    info = await remote_actors.resolve_key(group.actor.public_key_id, False)
    assert info.owner == group.actor.ap_id
    with pytest.raises(SignatureError):
        await remote_actors.resolve_key("https://groups.test/g/nobody#main-key", False)


async def test_blocked_domain_is_never_fetched(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        await block_domain(peer.base_url.removeprefix("http://"))
        with pytest.raises(BlockedDomain):
            await remote_actors.resolve_key(peer.key_id, False)
        assert peer.actor_fetches == 0  # T13


async def test_unreachable_key_host_is_temporary(remote_actors: RemoteActors) -> None:
    # T09c: the sender should retry (503), not be told its signature is bad.
    peer = RemotePeer(base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(KeyUnavailable):
        await remote_actors.resolve_key(peer.key_id, False)


async def test_key_document_must_be_listed_by_its_owner(
    remote_actors: RemoteActors,
) -> None:
    # A key served by a peer must be the one its actor lists (FEP-fe34).
    async with serve_peer() as peer:
        with pytest.raises(SignatureError):
            await remote_actors.resolve_key(f"{peer.actor_id}#other-key", False)
