"""Appointing and dismissing moderators keeps the moderators collection and peers in sync."""

from __future__ import annotations

import pytest

from fedgroups.errors import Conflict, NotFound
from fedgroups.groups.collections import moderator_ids
from fedgroups.groups.membership import ban_member
from fedgroups.groups.moderation import ban
from fedgroups.groups.moderators import (
    appoint_moderator,
    dismiss_moderator,
    member_left,
    moderates,
)
from fedgroups.groups.modlog import Acting, log_lines
from fedgroups.models import ModerationAction
from fedgroups.settings import Settings
from tests.factories import make_account, make_remote_actor
from tests.groups.moderation_support import inboxes_of, make_circle, sent, wrapped


async def test_appointing_adds_to_the_collection_and_tells_group_software(
    db: None, settings: Settings
) -> None:
    circle = await make_circle(settings)
    await appoint_moderator(circle.group, circle.rosa, Acting(moderator=circle.owner))
    assert set(await moderator_ids(circle.group)) == {circle.owner.ap_id, circle.rosa.ap_id}
    assert await moderates(circle.group, circle.rosa)
    [announce] = wrapped(await sent("Announce"), "Add")
    add = announce["object"]
    assert add["actor"] == circle.owner.ap_id  # the local moderator who did it
    assert add["object"] == circle.rosa.ap_id
    assert add["target"] == f"{circle.group.actor.ap_id}/moderators"
    assert announce["actor"] == circle.group.actor.ap_id
    # Lemmy and the unknown server get it; Mastodon has no use for it.
    assert await inboxes_of(announce["id"]) == {
        "https://lemmy.test/inbox",
        "https://peer.test/inbox",
    }
    [entry] = await log_lines(circle.group)
    assert (entry.action, entry.by, entry.subject) == (
        ModerationAction.APPOINT_MODERATOR,
        circle.owner.handle,
        circle.rosa.handle,
    )


async def test_dismissing_removes_and_says_so(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await appoint_moderator(circle.group, circle.rosa)
    await dismiss_moderator(circle.group, circle.rosa)
    assert await moderator_ids(circle.group) == [circle.owner.ap_id]
    [announce] = wrapped(await sent("Announce"), "Remove")
    assert announce["object"]["actor"] == circle.group.actor.ap_id  # the admin: the group acts
    assert announce["object"]["object"] == circle.rosa.ap_id
    with pytest.raises(NotFound):
        await dismiss_moderator(circle.group, circle.rosa)
    with pytest.raises(NotFound):  # the owner is not dismissed
        await dismiss_moderator(circle.group, circle.owner)


async def test_only_members_can_be_appointed_once(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    stranger = await make_remote_actor("https://other.test", "sam")
    with pytest.raises(NotFound):
        await appoint_moderator(circle.group, stranger)
    await ban_member(circle.group, circle.lemmy)
    with pytest.raises(NotFound):
        await appoint_moderator(circle.group, circle.lemmy)
    await appoint_moderator(circle.group, circle.rosa)
    with pytest.raises(Conflict):
        await appoint_moderator(circle.group, circle.rosa)


async def test_a_moderator_who_leaves_or_is_banned_drops_off_the_list(
    db: None, settings: Settings
) -> None:
    circle = await make_circle(settings)
    await appoint_moderator(circle.group, circle.rosa)
    await appoint_moderator(circle.group, circle.lemmy)
    assert await member_left(circle.group, circle.rosa)
    await ban(circle.group, circle.lemmy)
    assert await moderator_ids(circle.group) == [circle.owner.ap_id]
    removed = [a["object"]["object"] for a in wrapped(await sent("Announce"), "Remove")]
    assert removed == [circle.rosa.ap_id, circle.lemmy.ap_id]
    assert not await moderates(circle.group, circle.lemmy)


async def test_a_local_account_appointed_becomes_a_member(db: None, settings: Settings) -> None:
    circle = await make_circle(settings, private=True)
    lena = await make_account(settings, "lena")
    await lena.fetch_related("actor")
    await appoint_moderator(circle.group, lena.actor)
    assert await moderates(circle.group, lena.actor)
    assert lena.actor.ap_id in await moderator_ids(circle.group)
