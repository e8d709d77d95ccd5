"""Who signed a GET: only a valid signature by an actor's own key names that actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedgroups.federation.context import instance_get_signer
from fedgroups.federation.http import build_client
from fedgroups.federation.keys import RemoteActors
from fedgroups.federation.readers import signed_reader
from fedgroups.federation.signatures import sign_cavage
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.groups.domains import block_domain
from fedgroups.models import Actor
from fedgroups.settings import Settings
from tests.peer import serve_peer

URL = "https://groups.test/g/grief/posts/1"


@pytest.fixture
async def remote_actors(db: None, settings: Settings) -> AsyncIterator[RemoteActors]:
    client = build_client(allow_private_peers=True, user_agent="fedgroups-test")
    signer = instance_get_signer(await ensure_instance_actor(settings))
    yield RemoteActors(settings, client, signer)
    await client.aclose()


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_a_valid_signature_names_its_actor(remote_actors: RemoteActors, scheme: str) -> None:
    async with serve_peer() as peer:
        reader = await signed_reader("GET", URL, peer.signed_get(URL, scheme=scheme), remote_actors)
    assert reader is not None
    assert reader.ap_id == peer.actor_id


async def test_unsigned_is_anonymous_without_any_fetch(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        assert await signed_reader("GET", URL, {"Accept": "x"}, remote_actors) is None
        assert peer.actor_fetches == 0


async def test_the_instance_actor_reads_as_itself(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        instance = peer.neighbour("peer", kind="Application")
        reader = await signed_reader("GET", URL, instance.signed_get(URL), remote_actors)
    assert reader is not None
    assert reader.ap_id == instance.actor_id != peer.actor_id


async def test_someone_elses_key_under_a_members_key_id_is_anonymous(
    remote_actors: RemoteActors, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    async with serve_peer() as peer:
        headers = sign_cavage("GET", URL, {}, None, peer.key_id, other_rsa_key)
        assert await signed_reader("GET", URL, headers, remote_actors) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Signature": "garbage"},
        {"Signature": 'keyId="https://peer.test/k",signature="AAAA"'},
        {"Signature-Input": 'sig1=("@method");created=1', "Signature": "sig1=:AAAA:"},
    ],
)
async def test_malformed_signatures_are_anonymous(
    remote_actors: RemoteActors, headers: dict[str, str]
) -> None:
    assert await signed_reader("GET", URL, headers, remote_actors) is None


async def test_a_signature_for_another_url_is_anonymous(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        headers = peer.signed_get("https://groups.test/g/grief/outbox")
        assert await signed_reader("GET", URL, headers, remote_actors) is None


async def test_unreachable_key_host_is_anonymous(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        headers = peer.signed_get(URL)
    assert await signed_reader("GET", URL, headers, remote_actors) is None  # peer is down


async def test_blocked_domains_read_as_nobody_and_are_not_fetched(
    remote_actors: RemoteActors,
) -> None:
    async with serve_peer() as peer:
        await block_domain(peer.base_url.removeprefix("http://"), reason="harm")
        assert await signed_reader("GET", URL, peer.signed_get(URL), remote_actors) is None
        assert peer.actor_fetches == 0


async def test_a_gone_actor_reads_as_nobody(remote_actors: RemoteActors) -> None:
    async with serve_peer() as peer:
        assert await signed_reader("GET", URL, peer.signed_get(URL), remote_actors) is not None
        await Actor.filter(ap_id=peer.actor_id).update(gone_at=datetime.now(UTC))
        assert await signed_reader("GET", URL, peer.signed_get(URL), remote_actors) is None
