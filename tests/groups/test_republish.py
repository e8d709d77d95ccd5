"""Members-only groups republish members' posts as their own followers-only Notes."""

from __future__ import annotations

from typing import Any

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups.membership import decide_membership, request_membership
from fedgroups.groups.posting import delete_post, receive_post, update_post
from fedgroups.models import Actor, Group, OutboxActivity, Post
from fedgroups.settings import Settings
from tests.factories import make_group, make_remote_actor

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def direct_note(group: Group, number: int, **extra: Any) -> dict[str, Any]:
    """What Mastodon sends for "mentioned people only": addressed to the group alone."""
    return {
        "id": f"https://peer.test/users/rosa/statuses/{number}",
        "type": "Note",
        "attributedTo": "https://peer.test/users/rosa",
        "content": "<p>hard week<script>x()</script></p>",
        "to": [group.actor.ap_id],
        "tag": [{"type": "Mention", "href": group.actor.ap_id}],
        **extra,
    }


async def _members(settings: Settings) -> tuple[Group, Actor, Actor]:
    group = await make_group(settings, "grief", private=True)
    rosa = await make_remote_actor("https://peer.test", "rosa")
    sam = await make_remote_actor("https://other.test", "sam")
    for number, actor in enumerate((rosa, sam)):
        await request_membership(group, actor, f"{actor.ap_id}/follows/{number}")
        await decide_membership(group, actor, approve=True)
    return group, rosa, sam


async def _sent(kind: str) -> list[dict[str, Any]]:
    return [a.payload for a in await OutboxActivity.filter(activity_type=kind).order_by("id")]


async def test_a_post_becomes_the_groups_own_followers_only_note(
    db: None, settings: Settings
) -> None:
    group, rosa, _ = await _members(settings)
    stored = await receive_post(group, rosa, parse_post(direct_note(group, 1)))
    assert stored is not None
    assert stored.ap_id.startswith(f"{group.actor.ap_id}/posts/")
    assert stored.source_ap_id == "https://peer.test/users/rosa/statuses/1"
    assert (stored.author_id, stored.publisher_id) == (rosa.pk, group.actor.pk)
    [create] = await _sent("Create")
    note = create["object"]
    assert create["actor"] == note["attributedTo"] == group.actor.ap_id
    assert note["to"] == [group.actor.followers_url] == create["to"]
    assert PUBLIC not in str(create)
    assert "@rosa@peer.test" in note["content"] and "<script" not in note["content"]
    assert await _sent("Announce") == []  # Mastodon refuses boosts of non-public posts
    assert await receive_post(group, rosa, parse_post(direct_note(group, 1))) is None


async def test_replies_hang_off_the_groups_note(db: None, settings: Settings) -> None:
    group, rosa, sam = await _members(settings)
    first = await receive_post(group, rosa, parse_post(direct_note(group, 1)))
    assert first is not None
    to_original = {
        **direct_note(group, 2),
        "id": "https://other.test/users/sam/statuses/2",
        "attributedTo": sam.ap_id,
        "inReplyTo": first.source_ap_id,
        "to": [],
        "tag": [],
    }
    reply = await receive_post(group, sam, parse_post(to_original))
    assert reply is not None
    assert reply.in_reply_to == first.ap_id
    assert reply.thread_root == first.ap_id


async def test_edits_and_deletions_become_the_groups(db: None, settings: Settings) -> None:
    group, rosa, _ = await _members(settings)
    stored = await receive_post(group, rosa, parse_post(direct_note(group, 1)))
    assert stored is not None
    edited = direct_note(group, 1, content="<p>better now</p>")
    assert await update_post(rosa, parse_post(edited), {"type": "Update"}) == 1
    [update] = await _sent("Update")
    assert update["object"]["id"] == stored.ap_id
    assert "better now" in update["object"]["content"]
    assert await delete_post(rosa, "https://peer.test/users/rosa/statuses/1", None) == 1
    [delete] = await _sent("Delete")
    assert delete["object"] == stored.ap_id
    assert delete["to"] == [group.actor.followers_url]
    assert (await Post.get(pk=stored.pk)).deleted_at is not None


async def test_an_open_groups_non_public_posts_go_to_members_only(
    db: None, settings: Settings
) -> None:
    """A followers-only or direct post is never boosted (Mastodon refuses), nor made public."""
    group = await make_group(settings, "recovery")
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(group, rosa, f"{rosa.ap_id}/follows/1")
    stored = await receive_post(group, rosa, parse_post(direct_note(group, 1)))
    assert stored is not None and not stored.is_public
    assert stored.publisher_id == group.actor.pk
    assert await _sent("Announce") == []
    [create] = await _sent("Create")
    assert create["to"] == [group.actor.followers_url]
    assert PUBLIC not in str(create)
    public = direct_note(group, 2, to=[PUBLIC, group.actor.ap_id])
    boosted = await receive_post(group, rosa, parse_post(public))
    assert boosted is not None and boosted.publisher_id == rosa.pk
    assert len(await _sent("Announce")) == 1
