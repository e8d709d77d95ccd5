"""A group on a real `fedgroups serve` process, followed and posted to by a remote server.

The remote server is a separate HTTP server on another loopback port that signs what it sends
and records what it receives, as a Mastodon server would.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.instances import Instance, wait_for
from tests.peer import RemotePeer, serve_peer

pytestmark = pytest.mark.e2e
AP = {"Accept": "application/activity+json"}


def received_of(peer: RemotePeer, kind: str, object_id: str | None = None) -> list[dict[str, Any]]:
    found = [a for a in peer.received if a.get("type") == kind]
    if object_id is None:
        return found
    return [
        a
        for a in found
        if a.get("object") == object_id
        or (isinstance(a.get("object"), dict) and a["object"].get("id") == object_id)
    ]


async def send(instance: Instance, peer: RemotePeer, path: str, activity: dict[str, Any]) -> int:
    url = f"{instance.base_url}{path}"
    body, headers = peer.signed_post(url, activity)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=body, headers=headers)
    return response.status_code


def note(peer: RemotePeer, group_id: str, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{peer.actor_id}/notes/{number}",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": f"<p>post {number} <script>alert(1)</script></p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group_id],
        "tag": [{"type": "Mention", "href": group_id, "name": "@recovery"}],
        **extra,
    }


async def test_follow_post_announce_unfollow(instance: Instance) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with serve_peer() as peer:
        follow = peer.activity("Follow", group_id)
        assert await send(instance, peer, "/g/recovery/inbox", follow) == 202
        await wait_for(lambda: received_of(peer, "Accept", follow["id"]), what="Accept")
        accept = received_of(peer, "Accept", follow["id"])[0]
        assert accept["actor"] == group_id
        assert accept["object"]["actor"] == peer.actor_id

        created = peer.activity("Create", note(peer, group_id, 1), 1)
        assert await send(instance, peer, "/inbox", created) == 202
        note_id = created["object"]["id"]
        await wait_for(lambda: received_of(peer, "Announce", note_id), what="Announce")
        announce = received_of(peer, "Announce", note_id)[0]
        assert announce["actor"] == group_id
        assert "https://www.w3.org/ns/activitystreams#Public" in announce["to"]

        # Its software is unknown, so it got both forms: the Create wrapped, too (FEP-1b12).
        await wait_for(
            lambda: received_of(peer, "Announce", created["id"]), what="Announce{Create}"
        )
        wrapped = received_of(peer, "Announce", created["id"])
        assert [boost["object"] for boost in wrapped] == [created]
        outbox = instance.get("/g/recovery/outbox?page=1", headers=AP)
        boosted = [item["object"] for item in outbox.json()["orderedItems"]]
        assert sorted(boosted, key=str) == sorted([note_id, created], key=str)

        undo = peer.activity("Undo", follow, 1)
        assert await send(instance, peer, "/inbox", undo) == 202
        await wait_for(
            lambda: instance.get("/g/recovery/followers", headers=AP).json()["totalItems"] == 0,
            what="unfollow",
        )
        later = peer.activity("Create", note(peer, group_id, 2), 2)
        assert await send(instance, peer, "/inbox", later) == 202
        await wait_for(lambda: instance.processed(later["id"]), what="the post to be processed")
        assert received_of(peer, "Announce", later["object"]["id"]) == []
        assert instance.get("/g/recovery/outbox", headers=AP).json()["totalItems"] == 2


async def test_non_member_posts_are_not_announced(instance: Instance) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with serve_peer() as member, serve_peer() as stranger:
        follow = member.activity("Follow", group_id)
        assert await send(instance, member, "/inbox", follow) == 202
        await wait_for(lambda: received_of(member, "Accept", follow["id"]), what="Accept")
        created = stranger.activity("Create", note(stranger, group_id, 1), 1)
        assert await send(instance, stranger, "/inbox", created) == 202
        await wait_for(lambda: instance.processed(created["id"]), what="the post to be processed")
        assert received_of(member, "Announce", created["object"]["id"]) == []
        assert instance.get("/g/recovery/outbox", headers=AP).json()["totalItems"] == 0


async def test_private_group_waits_for_approval(instance: Instance) -> None:
    instance.cli("group", "create", "grief", "--name", "Grief Circle", "--private")
    group_id = f"{instance.base_url}/g/grief"
    async with serve_peer() as peer:
        follow = peer.activity("Follow", group_id)
        assert await send(instance, peer, "/g/grief/inbox", follow) == 202
        handle = f"{peer.name}@{peer.base_url.removeprefix('http://')}"

        def pending() -> bool:
            return instance.cli("group", "approve", "grief", handle, check=False).returncode == 0

        await wait_for(pending, what="the request to be pending and approved")
        await wait_for(lambda: received_of(peer, "Accept", follow["id"]), what="Accept")


async def test_blocked_domain_gets_nothing(instance: Instance) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with serve_peer() as blocked, serve_peer() as other:
        instance.cli("domain", "block", blocked.base_url.removeprefix("http://"))
        follow = blocked.activity("Follow", group_id)
        assert await send(instance, blocked, "/inbox", follow) == 202
        sentinel = other.activity("Follow", group_id)
        assert await send(instance, other, "/inbox", sentinel) == 202
        await wait_for(lambda: received_of(other, "Accept", sentinel["id"]), what="sentinel")
        assert blocked.received == []


async def test_a_banned_member_is_blocked_and_no_longer_announced(instance: Instance) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with serve_peer() as peer:
        follow = peer.activity("Follow", group_id)
        assert await send(instance, peer, "/inbox", follow) == 202
        await wait_for(lambda: received_of(peer, "Accept", follow["id"]), what="Accept")
        handle = f"{peer.name}@{peer.base_url.removeprefix('http://')}"
        assert "banned" in instance.cli("group", "ban", "recovery", handle).stdout
        await wait_for(lambda: received_of(peer, "Block", peer.actor_id), what="Block")
        await wait_for(lambda: received_of(peer, "Reject", follow["id"]), what="Reject")
        assert received_of(peer, "Block")[0]["actor"] == group_id

        refollow = peer.activity("Follow", group_id, 2)
        assert await send(instance, peer, "/inbox", refollow) == 202
        await wait_for(lambda: received_of(peer, "Reject", refollow["id"]), what="second Reject")
        created = peer.activity("Create", note(peer, group_id, 1), 1)
        assert await send(instance, peer, "/inbox", created) == 202
        await wait_for(lambda: instance.processed(created["id"]), what="the post to be processed")
        assert received_of(peer, "Announce") == []

        instance.cli("group", "unban", "recovery", handle)
        await wait_for(lambda: received_of(peer, "Undo"), what="Undo{Block}")
        assert received_of(peer, "Undo")[0]["object"]["type"] == "Block"
        failed = instance.cli("group", "unban", "recovery", handle, check=False)
        assert failed.returncode == 1 and "not banned" in failed.stderr
