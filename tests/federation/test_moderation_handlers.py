"""Moderation from other servers, through the dispatcher: a listed moderator's removals, bans and
locks are honoured, anyone else's are ignored with the reason kept; Flags become reports.

Payloads are Lemmy's and Mastodon's own (tests/payloads), with their ids swapped for ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from fedgroups.federation.context import Federation, start_federation
from fedgroups.federation.dispatch import handler_for
from fedgroups.federation.handlers.common import Ignored, Received
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.groups.membership import is_member
from fedgroups.groups.moderators import appoint_moderator
from fedgroups.groups.modlog import log_lines
from fedgroups.models import (
    Actor,
    HeldPost,
    InboxItem,
    ModerationAction,
    Notification,
    NotificationKind,
    Post,
    Report,
)
from fedgroups.settings import Settings
from tests.factories import captured, make_account, make_remote_actor
from tests.groups.moderation_support import Circle, make_circle, post_by, sent, wrapped

LEMMY_MOD = "http://enterprise.lemmy.ml/u/lemmy_beta"
LEMMY_GROUP = "http://enterprise.lemmy.ml/c/main"


@pytest.fixture
async def federation(db: None, settings: Settings) -> AsyncIterator[Federation]:
    running = start_federation(settings, await ensure_instance_actor(settings))
    yield running
    await running.close()


async def deliver(federation: Federation, actor: Actor, activity: dict[str, Any]) -> None:
    """Process `activity` from `actor` exactly as the worker does after the inbox stored it."""
    handler = handler_for(activity)
    assert handler is not None, activity
    item = InboxItem(activity_ap_id=activity["id"], actor_ap_id=actor.ap_id, body=activity)
    await handler(Received(item=item, activity=activity, actor=actor, federation=federation))


@dataclass
class Moderated:
    circle: Circle
    moderator: Actor  # lee@lemmy.test, listed in the moderators collection
    post: Post  # by rosa


@pytest.fixture
async def moderated(federation: Federation, settings: Settings) -> Moderated:
    circle = await make_circle(settings)
    await appoint_moderator(circle.group, circle.lemmy)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    return Moderated(circle, circle.lemmy, post)


def lemmy(name: str, m: Moderated, actor: Actor | None = None, **more: str) -> dict[str, Any]:
    group_id = m.circle.group.actor.ap_id
    ids = {LEMMY_MOD: (actor or m.moderator).ap_id, LEMMY_GROUP: group_id, **more}
    return captured("lemmy", name, ids)


async def test_a_listed_moderators_removal_is_honoured(
    federation: Federation, moderated: Moderated
) -> None:
    delete = lemmy(
        "remove_note.json", moderated, **{"http://ds9.lemmy.ml/comment/1": moderated.post.ap_id}
    )
    await deliver(federation, moderated.moderator, delete)
    assert (await Post.get(pk=moderated.post.pk)).deleted_at is not None
    [relayed] = wrapped(await sent("Announce"), "Delete")
    assert relayed["object"] == delete  # verbatim, as FEP-1b12 asks
    assert [u["object"]["type"] for u in await sent("Undo")] == ["Announce", "Announce"]
    entry = (await log_lines(moderated.circle.group))[0]
    assert (entry.action, entry.by, entry.reason) == (
        ModerationAction.REMOVE_POST,
        moderated.moderator.handle,
        "bad comment",
    )


async def test_a_moderators_own_announce_of_the_removal_works_too(
    federation: Federation, moderated: Moderated
) -> None:
    delete = lemmy(
        "remove_note.json", moderated, **{"http://ds9.lemmy.ml/comment/1": moderated.post.ap_id}
    )
    announce = {
        "id": f"{moderated.moderator.ap_id}/announces/1",
        "type": "Announce",
        "actor": moderated.moderator.ap_id,
        "object": delete,
    }
    await deliver(federation, moderated.moderator, announce)
    assert (await Post.get(pk=moderated.post.pk)).deleted_at is not None


@pytest.mark.parametrize("who", ["member", "stranger", "wrapper"])
async def test_anyone_elses_removal_is_ignored_with_a_reason(
    federation: Federation, moderated: Moderated, who: str
) -> None:
    circle = moderated.circle
    sender = circle.mastodon if who == "member" else await make_remote_actor("https://x.test")
    delete = lemmy(
        "remove_note.json",
        moderated,
        sender,
        **{"http://ds9.lemmy.ml/comment/1": moderated.post.ap_id},
    )
    if who == "wrapper":  # a stranger wrapping the real moderator's Delete: not authenticated
        delete = lemmy(
            "remove_note.json", moderated, **{"http://ds9.lemmy.ml/comment/1": moderated.post.ap_id}
        )
        delete = {
            "id": "https://x.test/a/1",
            "type": "Announce",
            "actor": sender.ap_id,
            "object": delete,
        }
    with pytest.raises(Ignored) as ignored:
        await deliver(federation, sender, delete)
    assert "moderator" in str(ignored.value) or "someone else" in str(ignored.value)
    assert (await Post.get(pk=moderated.post.pk)).deleted_at is None
    assert [e.action for e in await log_lines(circle.group)] == [ModerationAction.APPOINT_MODERATOR]


async def test_a_listed_moderators_ban_is_honoured(
    federation: Federation, moderated: Moderated
) -> None:
    rosa = moderated.circle.rosa
    await HeldPost.create(
        group=moderated.circle.group,
        author=rosa,
        ap_id="https://peer.test/x",
        published_at=moderated.post.published_at,
    )
    block = lemmy("block_user.json", moderated, **{"http://ds9.lemmy.ml/u/lemmy_alpha": rosa.ap_id})
    await deliver(federation, moderated.moderator, block)
    assert not await is_member(moderated.circle.group, rosa)
    assert (await Post.get(pk=moderated.post.pk)).deleted_at is not None  # removeData
    assert await HeldPost.all().count() == 0
    [our_block] = await sent("Block")
    assert (
        our_block["object"] == rosa.ap_id
        and our_block["actor"] == moderated.circle.group.actor.ap_id
    )
    assert wrapped(await sent("Announce"), "Block")[0]["object"] == block
    undo = {
        "id": f"{moderated.moderator.ap_id}/undo/1",
        "type": "Undo",
        "actor": moderated.moderator.ap_id,
        "object": block,
    }
    await deliver(federation, moderated.moderator, undo)
    assert [e.action for e in await log_lines(moderated.circle.group)][:2] == [
        ModerationAction.UNBAN,
        ModerationAction.BAN,
    ]


async def test_bans_by_others_or_of_moderators_are_ignored(
    federation: Federation, moderated: Moderated
) -> None:
    circle = moderated.circle
    block = lemmy(
        "block_user.json",
        moderated,
        circle.mastodon,
        **{"http://ds9.lemmy.ml/u/lemmy_alpha": circle.rosa.ap_id},
    )
    with pytest.raises(Ignored, match="not a moderator"):
        await deliver(federation, circle.mastodon, block)
    of_owner = lemmy(
        "block_user.json", moderated, **{"http://ds9.lemmy.ml/u/lemmy_alpha": circle.owner.ap_id}
    )
    with pytest.raises(Ignored, match="own server"):
        await deliver(federation, moderated.moderator, of_owner)
    assert await is_member(circle.group, circle.rosa)


async def test_a_member_blocking_the_group_leaves(
    federation: Federation, moderated: Moderated
) -> None:
    circle = moderated.circle
    block = {
        "id": "https://peer.test/b/1",
        "type": "Block",
        "actor": circle.rosa.ap_id,
        "object": circle.group.actor.ap_id,
    }
    await deliver(federation, circle.rosa, block)
    assert not await is_member(circle.group, circle.rosa)


async def test_locks_and_moderator_changes(federation: Federation, moderated: Moderated) -> None:
    lock = captured(
        "lemmy",
        "lock_page.json",
        {
            "http://lemmy-alpha:8541/u/lemmy_alpha": moderated.moderator.ap_id,
            "http://lemmy-alpha:8541/post/2": moderated.post.ap_id,
        },
    )
    await deliver(federation, moderated.moderator, lock)
    assert (await Post.get(pk=moderated.post.pk)).locked_at is not None
    with pytest.raises(Ignored, match="own server"):
        moderators = f"{moderated.circle.group.actor.ap_id}/moderators"
        add = lemmy("add_mod.json", moderated, **{f"{LEMMY_GROUP}/moderators": moderators})
        await deliver(federation, moderated.moderator, add)


async def test_flags_become_reports_for_what_the_sender_could_see(
    federation: Federation, moderated: Moderated, settings: Settings
) -> None:
    circle = moderated.circle
    server = await make_remote_actor("https://example.com", "example.com")
    flag = captured(
        "mastodon",
        "flag.json",
        {
            "https://example.com/actor": server.ap_id,
            "https://example.com/users/flagged": circle.rosa.ap_id,
            "https://example.com/users/flagged/statuses/1": moderated.post.ap_id,
        },
    )
    await make_account(settings, "ada", admin=True)
    await deliver(federation, server, flag)
    [report] = await Report.all().select_related("post", "reported_actor", "group")
    # It reaches the group's moderators (omar, the owner) and every admin.
    told = await Notification.filter(kind=NotificationKind.REPORT, report=report).values_list(
        "account__actor__username", flat=True
    )
    assert sorted(told) == ["ada", "omar"]
    assert (report.post.pk, report.reported_actor.pk, report.group.pk) == (
        moderated.post.pk,
        circle.rosa.pk,
        circle.group.pk,
    )
    assert report.comment == "Boo!!"
    with pytest.raises(Ignored, match="already"):  # the same Flag again: no second report
        await deliver(federation, server, flag)
    assert await Report.all().count() == 1

    person = captured(
        "lemmy",
        "report_page.json",
        {
            "http://ds9.lemmy.ml/u/lemmy_alpha": circle.mastodon.ap_id,
            "http://enterprise.lemmy.ml/post/7": circle.rosa.ap_id,
            LEMMY_GROUP: circle.group.actor.ap_id,
        },
    )
    await deliver(federation, circle.mastodon, person)
    about_rosa = await Report.filter(flag_ap_id=person["id"]).first()
    assert about_rosa is not None and about_rosa.comment == "report this post"
    assert about_rosa.post_id is None  # type: ignore[attr-defined]

    nothing = {**flag, "id": "https://example.com/2", "object": ["https://example.com/nope"]}
    with pytest.raises(Ignored):
        await deliver(federation, server, nothing)


async def test_members_only_posts_are_reported_only_by_members_servers(
    federation: Federation, settings: Settings
) -> None:
    circle = await make_circle(settings, private=True)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    outsider = await make_remote_actor("https://else.test", "else.test")
    insider = await make_remote_actor("https://masto.test", "masto.test")  # mo's server
    for number, server in enumerate((outsider, insider)):
        flag = {
            "id": f"{server.ap_id}/flags/{number}",
            "type": "Flag",
            "actor": server.ap_id,
            "content": "worrying",
            "object": [circle.rosa.ap_id, post.ap_id],
        }
        if server is outsider:
            with pytest.raises(Ignored):
                await deliver(federation, server, flag)
        else:
            await deliver(federation, server, flag)
    [report] = await Report.all()
    assert report.reporter_id == insider.pk  # type: ignore[attr-defined]
