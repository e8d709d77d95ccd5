"""Removing posts, locking threads and banning: what each member's server is told, and the log."""

from __future__ import annotations

import pytest

from fedgroups.errors import Conflict, NotFound
from fedgroups.groups.collections import count_outbox
from fedgroups.groups.membership import is_member, request_membership
from fedgroups.groups.moderation import (
    ban,
    find_post,
    lock_thread,
    remove_post,
    unban,
    unlock_thread,
)
from fedgroups.groups.modlog import Acting, group_log, log_lines
from fedgroups.models import MembershipState, ModerationAction, Post
from fedgroups.settings import Settings
from tests.factories import make_remote_actor
from tests.groups.moderation_support import inboxes_of, make_circle, post_by, sent, wrapped


async def test_removal_reaches_each_member_in_its_form(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    assert await count_outbox(circle.group) == 2  # the boost of the id, and the wrapped Create
    boosts = await sent("Announce")
    await remove_post(circle.group, post, Acting(moderator=circle.owner, reason="spam link"))
    stored = await Post.get(pk=post.pk)
    assert stored.deleted_at is not None and stored.content == ""
    # Microblogs: Undo of each boost they got (Mastodon ignores a Delete of another's post);
    # the unknown server got both forms, so both are undone there.
    undo_id, undo_create = await sent("Undo")
    assert [undo_id["object"]["id"], undo_create["object"]["id"]] == [b["id"] for b in boosts]
    assert await inboxes_of(undo_id["id"]) == {
        "https://masto.test/inbox",
        "https://peer.test/inbox",
    }
    assert await inboxes_of(undo_create["id"]) == {"https://peer.test/inbox"}
    # FEP-1b12: the group's Delete, announced (Lemmy's "remove").
    [removal] = wrapped(await sent("Announce"), "Delete")
    assert removal["object"]["actor"] == circle.group.actor.ap_id
    assert removal["object"]["object"] == post.ap_id
    assert await inboxes_of(removal["id"]) == {
        "https://lemmy.test/inbox",
        "https://peer.test/inbox",
    }
    assert await count_outbox(circle.group) == 0
    [entry] = await log_lines(circle.group)
    assert (entry.action, entry.by, entry.subject, entry.object_ap_id, entry.reason) == (
        ModerationAction.REMOVE_POST,
        circle.owner.handle,
        circle.rosa.handle,
        post.ap_id,
        "spam link",
    )
    with pytest.raises(NotFound):
        await find_post(circle.group, post.ap_id)


async def test_a_members_only_group_deletes_its_own_note(db: None, settings: Settings) -> None:
    circle = await make_circle(settings, private=True)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    assert (await find_post(circle.group, f"{circle.rosa.ap_id}/notes/1")).pk == post.pk
    await remove_post(circle.group, post)
    [delete] = await sent("Delete")
    assert delete["actor"] == circle.group.actor.ap_id
    assert delete["object"] == post.ap_id
    assert delete["to"] == [circle.group.actor.followers_url]
    assert await sent("Undo") == []
    [entry] = await log_lines(circle.group)
    assert entry.object_ap_id == post.source_ap_id  # the member's own id, as members know it
    assert entry.by == "an instance admin"


async def test_locking_tells_group_software_and_once_only(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    root = await post_by(circle, circle.rosa, 1)
    assert root is not None
    reply = await post_by(circle, circle.mastodon, 2, inReplyTo=root.ap_id)
    assert reply is not None
    locked = await lock_thread(circle.group, reply, Acting(moderator=circle.owner))
    assert locked.pk == root.pk  # a reply locks its whole thread
    with pytest.raises(Conflict):
        await lock_thread(circle.group, root)
    [announce] = wrapped(await sent("Announce"), "Lock")
    assert announce["object"]["object"] == root.ap_id
    assert announce["object"]["actor"] == circle.owner.ap_id

    await unlock_thread(circle.group, root)
    [undo] = wrapped(await sent("Announce"), "Undo")
    assert undo["object"]["object"]["id"] == announce["object"]["id"]  # the Lock it undoes


async def test_a_ban_ends_membership_and_tells_everyone_it_should(
    db: None, settings: Settings
) -> None:
    circle = await make_circle(settings)
    first = await post_by(circle, circle.rosa, 1)
    assert first is not None
    await ban(circle.group, circle.rosa, Acting(reason="harassment"), remove_posts=True)
    membership_states = await circle.group.memberships.filter(actor=circle.rosa).values_list(
        "state", flat=True
    )
    assert membership_states == [MembershipState.BANNED]
    assert not await is_member(circle.group, circle.rosa)
    [block] = [a for a in await sent("Block")]
    assert block["object"] == circle.rosa.ap_id
    assert await inboxes_of(block["id"]) == {"https://peer.test/inbox"}
    [reject] = await sent("Reject")
    assert reject["object"]["id"] == f"{circle.rosa.ap_id}/follows/1"
    [lemmy_ban] = wrapped(await sent("Announce"), "Block")
    assert lemmy_ban["object"]["target"] == circle.group.actor.ap_id
    assert lemmy_ban["object"]["summary"] == "harassment"
    assert lemmy_ban["object"]["removeData"] is True
    assert lemmy_ban["to"] == [circle.group.actor.followers_url]  # never Public
    assert (await Post.get(pk=first.pk)).deleted_at is not None
    assert [e.action for e in await log_lines(circle.group)] == [
        ModerationAction.BAN,
        ModerationAction.REMOVE_POST,
    ]
    assert await post_by(circle, circle.rosa, 2) is None
    assert (await request_membership(circle.group, circle.rosa, "x")).state == "banned"

    await unban(circle.group, circle.rosa, Acting(reason="apologised"))
    [undo_block] = [a for a in await sent("Undo") if a["object"]["type"] == "Block"]
    assert undo_block["object"]["id"] == block["id"]
    [undo_lemmy] = wrapped(await sent("Announce"), "Undo")
    assert undo_lemmy["object"]["object"]["id"] == lemmy_ban["object"]["id"]
    assert (await log_lines(circle.group))[0].reason == "apologised"


async def test_the_log_is_for_members_moderators_and_admins(db: None, settings: Settings) -> None:
    circle = await make_circle(settings, private=False)
    await ban(circle.group, circle.mastodon, Acting(reason="spam"))
    stranger = await make_remote_actor("https://other.test", "sam")
    for reader in (circle.rosa, circle.owner):
        [line] = await group_log(circle.group, reader)
        assert (line.subject, line.reason) == (circle.mastodon.handle, "spam")
    for outsider in (None, stranger, circle.mastodon):  # the banned are members no more
        with pytest.raises(NotFound):
            await group_log(circle.group, outsider)
