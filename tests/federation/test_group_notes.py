"""Notes a followed remote group writes in its own name (members-only groups republish that way)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fedgroups.errors import MalformedActivity
from fedgroups.federation.context import Federation
from fedgroups.federation.dispatch import Ignored
from fedgroups.federation.fetch import FetchStatusError
from fedgroups.models import Actor, RemoteGroupPost
from tests.factories import make_account, make_membership_elsewhere
from tests.federation.inbox_support import process
from tests.peer import RemotePeer, serve_peer


@pytest.fixture
async def group(federation: Federation) -> AsyncIterator[RemotePeer]:
    """A members-only remote group that bob, a local person, belongs to."""
    account = await make_account(federation.settings, "bob")
    await account.fetch_related("actor")
    async with serve_peer(name="grief", kind="Group", manually_approves=True) as peer:
        actor = await federation.remote_actors.get_actor(peer.actor_id)
        await make_membership_elsewhere(account.actor, actor)
        yield peer


def group_note(group: RemotePeer, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{group.base_url}/g/grief/posts/{number}",
        "type": "Note",
        "attributedTo": group.actor_id,
        "content": f"<p>@bea@b.test wrote:</p><p>week {number}</p>",
        "to": [f"{group.actor_id}/followers"],
        **extra,
    }


async def kept() -> list[RemoteGroupPost]:
    return await RemoteGroupPost.all().select_related("author", "group_actor")


async def test_the_groups_own_note_is_kept_under_it(
    federation: Federation, group: RemotePeer
) -> None:
    note = group_note(group, 1)
    await process(federation, group.activity("Create", note, 1))
    [post] = await kept()
    assert (post.ap_id, post.author.ap_id, post.group_actor.ap_id) == (
        note["id"], group.actor_id, group.actor_id,
    )  # fmt: skip
    assert post.is_public is False and post.announced_at is not None
    assert "week 1" in post.content
    assert group.fetched == []  # its own Note, embedded: nothing to fetch


async def test_edits_and_deletions_by_the_group(federation: Federation, group: RemotePeer) -> None:
    note = group_note(group, 1)
    await process(federation, group.activity("Create", note, 1))
    edited = {**note, "content": "<p>week 1, better</p>", "updated": "2026-09-02T00:00:00Z"}
    await process(federation, group.activity("Update", edited, 1))
    assert [post.content for post in await kept()] == ["<p>week 1, better</p>"]
    with pytest.raises(Ignored):
        await process(federation, group.activity("Update", group_note(group, 2), 2))
    with pytest.raises(MalformedActivity):
        await process(federation, group.activity("Delete", "https://else.test/posts/1", 1))
    await process(federation, group.activity("Delete", note["id"], 2))
    [post] = await kept()
    assert post.deleted_at is not None and post.content == ""


async def test_only_the_groups_own_notes(federation: Federation, group: RemotePeer) -> None:
    neighbour = group.neighbour("omar")  # another account on the group's server
    by_neighbour = {**group_note(group, 1), "attributedTo": neighbour.actor_id}
    with pytest.raises(Ignored):  # members' words come by Announce, fetched at their origin
        await process(federation, group.activity("Create", by_neighbour, 1))
    async with serve_peer() as rosa:
        forged = {**group_note(group, 2), "attributedTo": rosa.actor_id}
        with pytest.raises(FetchStatusError):  # not vouched for: fetched, and not there (T10)
            await process(federation, group.activity("Create", forged, 2))
    assert await kept() == []


async def test_groups_nobody_here_belongs_to_are_posts_to_our_groups(
    federation: Federation,
) -> None:
    async with serve_peer(name="other", kind="Group") as stranger:
        note = {**group_note(stranger, 1), "id": f"{stranger.base_url}/posts/1"}
        await process(federation, stranger.activity("Create", note, 1))  # for notes.py: no-op
    assert await kept() == []
    assert await Actor.filter(ap_id=stranger.actor_id).exists()
