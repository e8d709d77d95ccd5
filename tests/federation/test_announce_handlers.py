"""Announces from followed remote groups: what is kept, what is fetched, what is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from fedgroups.errors import OriginMismatch
from fedgroups.federation.context import Federation
from fedgroups.federation.dispatch import Ignored
from fedgroups.groups.authoring import publish_post
from fedgroups.groups.domains import block_domain
from fedgroups.groups.following import subscribe
from fedgroups.models import Actor, RemoteGroupPost
from tests.factories import make_account, make_membership_elsewhere
from tests.federation.inbox_support import process
from tests.peer import RemotePeer, serve_peer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Scene:
    federation: Federation
    group: RemotePeer  # the remote group bob follows
    author: RemotePeer  # a member of it on a third server
    bob: Actor
    group_actor: Actor

    def note(self, number: int, **extra: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.author.base_url}/notes/{number}",
            "type": "Note",
            "attributedTo": self.author.actor_id,
            "content": f"<p>post {number}<script>x()</script></p>",
            "to": [PUBLIC],
            "cc": [self.group.actor_id],
            **extra,
        }

    def announce(self, obj: Any, number: int, **extra: Any) -> dict[str, Any]:
        return self.group.activity("Announce", obj, number, to=[PUBLIC], **extra)


def _group(base_url: str) -> RemotePeer:
    return RemotePeer(base_url=base_url, name="recovery", kind="Group")


@pytest.fixture
async def scene(federation: Federation) -> AsyncIterator[Scene]:
    account = await make_account(federation.settings, "bob")
    await account.fetch_related("actor")
    async with serve_peer(_group) as group, serve_peer() as author:
        group_actor = await federation.remote_actors.get_actor(group.actor_id)
        await make_membership_elsewhere(account.actor, group_actor)
        yield Scene(federation, group, author, account.actor, group_actor)


async def kept(ap_id: str) -> RemoteGroupPost | None:
    return await RemoteGroupPost.get_or_none(ap_id=ap_id).select_related("author", "group_actor")


async def test_an_announced_post_is_fetched_from_its_origin_and_kept(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    announce = scene.announce(note["id"], 1)
    await process(scene.federation, announce)
    post = await kept(note["id"])
    assert post is not None
    assert post.content == "<p>post 1</p>"
    assert post.author.ap_id == scene.author.actor_id
    assert post.group_actor.ap_id == scene.group.actor_id
    assert post.announce_ap_id == announce["id"]
    assert post.announced_at is not None and post.is_public


async def test_groups_nobody_here_belongs_to_are_not_listened_to(scene: Scene) -> None:
    async with serve_peer(_group) as other:
        other_actor = await scene.federation.remote_actors.get_actor(other.actor_id)
        await subscribe(scene.bob, other_actor)  # asked, not accepted (T61)
        note = scene.note(1)
        scene.author.serve_document(note)
        with pytest.raises(Ignored):
            await process(scene.federation, other.activity("Announce", note["id"]))
    assert scene.author.fetched == []
    assert await RemoteGroupPost.all().count() == 0


async def test_a_forged_embedded_copy_is_replaced_by_the_origins(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    forged = {**note, "content": "<p>words rosa never wrote</p>"}
    await process(scene.federation, scene.announce(forged, 1))  # T11
    post = await kept(note["id"])
    assert post is not None and post.content == "<p>post 1</p>"
    assert scene.author.fetched == ["/notes/1"]


async def test_the_groups_own_embedded_post_is_taken_as_sent(scene: Scene) -> None:
    own = {
        "id": f"{scene.group.base_url}/notes/7",
        "type": "Note",
        "attributedTo": scene.group.actor_id,
        "content": "<p>Welcome, everyone</p>",
        "to": [PUBLIC],
    }
    await process(scene.federation, scene.announce(own, 1))
    post = await kept(own["id"])
    assert post is not None and post.content == "<p>Welcome, everyone</p>"
    assert scene.group.fetched == []


async def test_fep_1b12_announce_of_a_create(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    create = scene.author.activity("Create", note, 1)
    await process(scene.federation, scene.announce(create, 1))
    assert await kept(note["id"]) is not None


async def test_a_post_attributed_across_origins_is_refused(scene: Scene) -> None:
    note = scene.note(1, attributedTo=scene.group.actor_id)  # on the author's server
    scene.author.serve_document(note)
    with pytest.raises(OriginMismatch):
        await process(scene.federation, scene.announce(note["id"], 1))
    assert await RemoteGroupPost.all().count() == 0


async def test_posts_from_blocked_servers_are_dropped_unfetched(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    await block_domain(scene.author.domain)
    with pytest.raises(Ignored):
        await process(scene.federation, scene.announce(note["id"], 1))
    assert scene.author.fetched == []


async def test_a_local_post_shared_back_by_the_group(scene: Scene) -> None:
    post = await publish_post(scene.bob, scene.group_actor, "hello from here")
    await process(scene.federation, scene.announce(post.ap_id, 1))
    shared = await kept(post.ap_id)
    assert shared is not None and shared.announced_at is not None
    stray = f"{scene.federation.settings.base_url}/u/bob/posts/unknown"
    with pytest.raises(Ignored):
        await process(scene.federation, scene.announce(stray, 2))


async def test_announced_update_is_confirmed_at_the_origin(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    await process(scene.federation, scene.announce(note["id"], 1))
    scene.author.serve_document({**note, "content": "<p>edited</p>"})
    forged = {**note, "content": "<p>forged</p>"}
    update = scene.author.activity("Update", forged, 1)
    await process(scene.federation, scene.announce(update, 2))
    post = await kept(note["id"])
    assert post is not None and post.content == "<p>edited</p>"
    assert post.updated_at is not None
    unknown = scene.author.activity("Update", scene.note(2), 2)
    with pytest.raises(Ignored):
        await process(scene.federation, scene.announce(unknown, 3))


async def test_announced_delete_is_believed_when_the_origin_agrees(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    await process(scene.federation, scene.announce(note["id"], 1))
    delete = scene.author.activity("Delete", {"id": note["id"], "type": "Tombstone"}, 1)
    with pytest.raises(Ignored, match="still served"):
        await process(scene.federation, scene.announce(delete, 2))
    del scene.author.documents["/notes/1"]
    await process(scene.federation, scene.announce(delete, 3))
    post = await kept(note["id"])
    assert post is not None and post.deleted_at is not None and post.content == ""


async def test_undo_announce_takes_the_post_out_of_the_group(scene: Scene) -> None:
    note = scene.note(1)
    scene.author.serve_document(note)
    announce = scene.announce(note["id"], 1)
    await process(scene.federation, announce)
    await process(scene.federation, scene.group.activity("Undo", announce, 1))
    post = await kept(note["id"])
    assert post is not None and post.removed_at is not None
    with pytest.raises(Ignored):
        await process(scene.federation, scene.group.activity("Undo", announce, 2))
