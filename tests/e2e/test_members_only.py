"""A members-only group on a real `fedgroups serve`: members' posts come back as the group's own.

Members post with "mentioned people only" visibility (addressed to the group alone); the group
republishes each post as its own Note addressed to its followers, never Public.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.instances import Instance, wait_for
from tests.e2e.test_group_flow import received_of, send
from tests.peer import RemotePeer, serve_peer

pytestmark = pytest.mark.e2e
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def join(instance: Instance, peer: RemotePeer, group_id: str) -> None:
    follow = peer.activity("Follow", group_id)
    assert await send(instance, peer, "/g/grief/inbox", follow) == 202
    handle = f"{peer.name}@{peer.base_url.removeprefix('http://')}"

    def approve() -> bool:
        return instance.cli("group", "approve", "grief", handle, check=False).returncode == 0

    await wait_for(approve, what="the request to be pending and approved")
    await wait_for(lambda: received_of(peer, "Accept", follow["id"]), what="Accept")


def direct(peer: RemotePeer, group_id: str, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{peer.actor_id}/statuses/{number}",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": f"<p>only for the circle {number}</p>",
        "to": [group_id],
        "tag": [{"type": "Mention", "href": group_id, "name": "@grief"}],
        **extra,
    }


def group_creates(peer: RemotePeer) -> list[dict[str, Any]]:
    return received_of(peer, "Create")


async def test_posts_replies_and_deletions_stay_among_members(instance: Instance) -> None:
    instance.cli("group", "create", "grief", "--name", "Grief Circle", "--private")
    group_id = f"{instance.base_url}/g/grief"
    followers = f"{group_id}/followers"
    async with serve_peer(name="rosa") as rosa, serve_peer(name="sam") as sam:
        for peer in (rosa, sam):
            await join(instance, peer, group_id)

        post = rosa.activity("Create", direct(rosa, group_id, 1), 1)
        assert await send(instance, rosa, "/g/grief/inbox", post) == 202
        await wait_for(lambda: group_creates(sam), what="the group's Note")
        [create] = group_creates(sam)
        note = create["object"]
        assert create["actor"] == note["attributedTo"] == group_id
        assert create["to"] == note["to"] == [followers]
        assert PUBLIC not in str(create)
        assert "only for the circle 1" in note["content"]
        await wait_for(lambda: group_creates(rosa), what="the author's copy")
        assert received_of(sam, "Announce") == []

        reply = sam.activity("Create", direct(sam, group_id, 2, inReplyTo=note["id"]), 2)
        assert await send(instance, sam, "/inbox", reply) == 202
        await wait_for(lambda: len(group_creates(rosa)) == 2, what="the reply")
        assert group_creates(rosa)[1]["object"]["inReplyTo"] == note["id"]

        edited = direct(rosa, group_id, 1, content="<p>edited words</p>")
        update = rosa.activity("Update", edited, 1)
        assert await send(instance, rosa, "/inbox", update) == 202
        await wait_for(lambda: received_of(sam, "Update"), what="the group's Update")
        assert received_of(sam, "Update")[0]["object"]["id"] == note["id"]
        assert "edited words" in received_of(sam, "Update")[0]["object"]["content"]

        delete = rosa.activity("Delete", {"id": edited["id"], "type": "Tombstone"}, 1)
        assert await send(instance, rosa, "/inbox", delete) == 202
        await wait_for(lambda: received_of(sam, "Delete"), what="the group's Delete")
        assert received_of(sam, "Delete")[0]["object"] == note["id"]
        assert received_of(sam, "Delete")[0]["actor"] == group_id
