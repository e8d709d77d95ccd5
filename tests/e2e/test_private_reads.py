"""Signed GETs against a real `fedgroups serve`: a members-only group's activities are read by
its member's own signature only; the same server's other account and instance actor, and
unsigned readers, get the 404 of an id that never existed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.instances import Instance, wait_for
from tests.e2e.test_group_flow import received_of, send
from tests.peer import RemotePeer, serve_peer

pytestmark = pytest.mark.e2e
AP = {"Accept": "application/activity+json"}


async def fetch(instance: Instance, url: str, signer: RemotePeer | None) -> httpx.Response:
    headers = signer.signed_get(url) if signer is not None else dict(AP)
    async with httpx.AsyncClient() as client:
        return await client.get(url, headers=headers)


def observable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body; only the Date header may differ between two answers."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
    return response.status_code, headers, response.content


async def join_and_post(
    instance: Instance, rosa: RemotePeer, group_id: str
) -> list[dict[str, Any]]:
    """rosa joins the members-only group, is approved, posts; returns what the group sent.

    A members-only group republishes her post as its own Note: one Create by the group.
    """
    follow = rosa.activity("Follow", group_id)
    assert await send(instance, rosa, "/g/grief/inbox", follow) == 202
    handle = f"{rosa.name}@{rosa.base_url.removeprefix('http://')}"

    def approved() -> bool:
        return instance.cli("group", "approve", "grief", handle, check=False).returncode == 0

    await wait_for(approved, what="the request to be pending and approved")
    await wait_for(lambda: received_of(rosa, "Accept", follow["id"]), what="Accept")
    note = {
        "id": f"{rosa.actor_id}/notes/1",
        "type": "Note",
        "attributedTo": rosa.actor_id,
        "content": "<p>@grief it was a hard week</p>",
        "to": [group_id],  # "mentioned people only", as members-only groups ask
        "tag": [{"type": "Mention", "href": group_id, "name": "@grief"}],
    }
    created = rosa.activity("Create", note)
    assert await send(instance, rosa, "/inbox", created) == 202
    await wait_for(lambda: received_of(rosa, "Create"), what="the group's Create")
    return received_of(rosa, "Create")


async def test_members_only_activity_is_served_to_the_members_own_signature(
    instance: Instance,
) -> None:
    instance.cli("group", "create", "grief", "--name", "Grief Circle", "--private")
    group_id = f"{instance.base_url}/g/grief"
    async with serve_peer() as rosa:
        sam = rosa.neighbour("sam")
        server_actor = rosa.neighbour("peer", kind="Application")
        announces = await join_and_post(instance, rosa, group_id)
        outbox_url = f"{group_id}/outbox?page=1"
        outbox = await fetch(instance, outbox_url, rosa)
        assert outbox.status_code == 200
        assert "hard week" in outbox.text
        assert sorted(item["id"] for item in outbox.json()["orderedItems"]) == sorted(
            announce["id"] for announce in announces
        )
        never = observable(await fetch(instance, f"{group_id}/activities/never-existed", None))
        assert never[0] == 404
        for announce in announces:
            assert announce["id"].startswith(f"{group_id}/activities/")
            member_view = await fetch(instance, announce["id"], rosa)
            assert member_view.status_code == 200
            assert member_view.json() == announce
            assert member_view.headers["content-type"] == "application/activity+json"
            assert member_view.headers["vary"] == "Accept, Signature"
            assert member_view.headers["cache-control"] == "private, no-store"
            note_view = await fetch(instance, announce["object"]["id"], rosa)
            assert note_view.status_code == 200
            assert note_view.json()["attributedTo"] == group_id
            assert note_view.json()["to"] == [f"{group_id}/followers"]
            for reader in (None, sam, server_actor):
                for url in (announce["id"], announce["object"]["id"], outbox_url):
                    denied = await fetch(instance, url, reader)
                    assert observable(denied) == never, (reader and reader.actor_id, url)
                    assert "hard week" not in denied.text  # the wrapped Create's words
        # Both were fetched to check their signatures: verified, and still not members.
        assert sam.actor_fetches == 1
        assert server_actor.actor_fetches == 1
