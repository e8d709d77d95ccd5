"""Learning a peer's software from its NodeInfo over the wire, cached per domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from fedgroups.federation.http import build_client
from fedgroups.federation.software import learn_software, software_by_domain
from fedgroups.models import PeerDomain
from tests.factories import make_remote_actor
from tests.peer import serve_peer


def guarded_client() -> httpx.AsyncClient:
    return build_client(allow_private_peers=True, user_agent="tests")


async def test_software_is_read_once_and_remembered(db: None) -> None:
    async with serve_peer(software="Lemmy") as peer, guarded_client() as c:
        actor = await make_remote_actor(peer.base_url)
        assert await learn_software(c, actor) == "lemmy"
        peer.software = "mastodon"  # a change within the week is not noticed: harmless
        assert await learn_software(c, actor) == "lemmy"
        await PeerDomain.filter(domain=actor.domain).update(
            software_checked_at=datetime.now(UTC) - timedelta(days=8)
        )
        assert await learn_software(c, actor) == "mastodon"
        assert await software_by_domain({actor.domain, "other.test"}) == {actor.domain: "mastodon"}


async def test_a_peer_without_nodeinfo_is_unknown_and_asked_again_later(db: None) -> None:
    async with serve_peer() as peer, guarded_client() as client:
        actor = await make_remote_actor(peer.base_url)
        assert await learn_software(client, actor) == ""
        record = await PeerDomain.get(domain=actor.domain)
        assert record.software_checked_at is not None
        peer.software = "pleroma"
        assert await learn_software(client, actor) == ""  # not before an hour has passed
        await PeerDomain.filter(domain=actor.domain).update(
            software_checked_at=datetime.now(UTC) - timedelta(hours=2)
        )
        assert await learn_software(client, actor) == "pleroma"
