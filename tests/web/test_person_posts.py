"""A person's posts at their ids: AS JSON for the public ones, the same 404 for everything else."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from fedgroups.federation.context import Federation
from fedgroups.groups.authoring import delete_post, publish_post
from fedgroups.models import Actor, ActorKind
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_membership_elsewhere, make_remote_actor
from tests.peer import RemotePeer, serve_peer

AP = {"Accept": "application/activity+json"}


async def bob_in(settings: Settings, *, locked: bool) -> tuple[Actor, Actor]:
    account = await make_account(settings, "bob")
    await account.fetch_related("actor")
    group = await make_remote_actor(
        "https://groups.example", "recovery", kind=ActorKind.GROUP, locked=locked
    )
    await make_membership_elsewhere(account.actor, group)
    return account.actor, group


async def test_public_posts_are_served_at_their_id(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    bob, group = await bob_in(settings, locked=False)
    post = await publish_post(bob, group, "Hello **all**", summary="cw")
    response = await client.get(post.ap_id, headers=AP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    document = response.json()
    assert document["id"] == post.ap_id
    assert document["attributedTo"] == bob.ap_id
    assert document["content"] == "<p>Hello <strong>all</strong></p>\n"
    assert document["@context"][0] == "https://www.w3.org/ns/activitystreams"
    plain = await client.get(post.ap_id)  # a browser gets the same document for now
    assert plain.status_code == 200


async def test_everything_else_is_the_same_404(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    bob, group = await bob_in(settings, locked=True)
    hidden = await publish_post(bob, group, "a hard week")
    await make_group(settings, "circle")
    gone = await publish_post(bob, group, "regret")
    await delete_post(bob, gone)
    unknown = f"{bob.ap_id}/posts/nothing"
    misplaced = hidden.ap_id.replace("/u/bob/", "/u/circle/")
    answers = [
        await client.get(url, headers=AP) for url in (hidden.ap_id, gone.ap_id, unknown, misplaced)
    ]
    assert [answer.status_code for answer in answers] == [404] * 4
    assert len({answer.content for answer in answers}) == 1


async def test_a_group_only_post_is_read_by_signed_gets_of_the_group_and_its_server(
    peers_app: Starlette, federation: Federation
) -> None:
    account = await make_account(federation.settings, "bob")
    await account.fetch_related("actor")
    transport = httpx.ASGITransport(app=peers_app)
    base = federation.settings.base_url
    async with (
        serve_peer(name="grief", kind="Group", manually_approves=True) as group,
        serve_peer() as stranger,
        httpx.AsyncClient(transport=transport, base_url=base) as client,
    ):
        server = group.neighbour("instance", kind="Application")
        group_actor = await federation.remote_actors.get_actor(group.actor_id)
        await make_membership_elsewhere(account.actor, group_actor)
        post = await publish_post(account.actor, group_actor, "a hard week")

        async def status(reader: RemotePeer | None) -> int:
            headers = reader.signed_get(post.ap_id) if reader is not None else AP
            return (await client.get(post.ap_id, headers=headers)).status_code

        assert [await status(r) for r in (group, server, stranger, None)] == [200, 200, 404, 404]
        answer = await client.get(post.ap_id, headers=group.signed_get(post.ap_id))
    assert answer.headers["cache-control"] == "private, no-store"
    assert "Signature" in answer.headers["vary"]
