"""Finding actors by handle or URL: WebFinger answers fetched under the usual guards."""

from __future__ import annotations

import json

import pytest

from fedgroups.errors import BlockedDomain, FetchError, MalformedActivity, NotFound
from fedgroups.federation.context import Federation
from fedgroups.federation.discovery import resolve_actor
from fedgroups.groups.domains import block_domain
from fedgroups.models import Actor
from tests.factories import make_account, make_group
from tests.federation.conftest import Reply, ServerFactory
from tests.peer import serve_peer


def jrd(body: object, content_type: str = "application/jrd+json") -> Reply:
    """A WebFinger answer; peers send it as application/jrd+json or application/json."""
    return Reply(headers=[("Content-Type", content_type)], body=json.dumps(body).encode())


async def test_handle_resolves_through_webfinger_and_is_stored(federation: Federation) -> None:
    async with serve_peer() as peer:
        actor = await resolve_actor(federation, f"@{peer.name}@{peer.domain}")
        again = await resolve_actor(federation, peer.actor_id)
    assert actor.ap_id == peer.actor_id
    assert actor.is_local is False
    assert again.id == actor.id
    assert peer.fetched == ["/.well-known/webfinger"]
    assert await Actor.filter(ap_id=peer.actor_id).count() == 1


async def test_unknown_names_and_bad_answers(
    federation: Federation, outbound_server: ServerFactory
) -> None:
    async with serve_peer() as peer:
        with pytest.raises(NotFound):
            await resolve_actor(federation, f"ghost@{peer.domain}")
    no_self = {"subject": "acct:g@x", "links": [{"rel": "self", "type": "text/html", "href": "/"}]}
    server = await outbound_server({"/.well-known/webfinger": jrd(no_self, "application/json")})
    with pytest.raises(MalformedActivity, match="self link"):
        await resolve_actor(federation, f"g@127.0.0.1:{server.port}")
    huge = await outbound_server({"/.well-known/webfinger": jrd({"subject": "x" * 70_000})})
    with pytest.raises(FetchError, match="cap"):
        await resolve_actor(federation, f"g@127.0.0.1:{huge.port}")


async def test_local_handles_and_urls_never_leave_the_instance(federation: Federation) -> None:
    settings = federation.settings
    account = await make_account(settings, "alice")
    group = await make_group(settings, "recovery")
    await account.fetch_related("actor")
    assert (await resolve_actor(federation, f"ALICE@{settings.domain}")).id == account.actor.id
    assert (await resolve_actor(federation, group.actor.ap_id)).id == group.actor.id
    with pytest.raises(NotFound):
        await resolve_actor(federation, f"nobody@{settings.domain}")
    with pytest.raises(NotFound):
        await resolve_actor(federation, f"{settings.base_url}/u/nobody")


async def test_blocked_hosts_are_not_asked(federation: Federation) -> None:
    async with serve_peer() as peer:
        await block_domain(peer.domain)
        with pytest.raises(BlockedDomain):
            await resolve_actor(federation, peer.handle)
        with pytest.raises(BlockedDomain):
            await resolve_actor(federation, peer.actor_id)
    assert peer.fetched == []
    assert peer.actor_fetches == 0
