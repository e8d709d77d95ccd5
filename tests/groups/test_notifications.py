"""Notifications: replies and mentions from other servers reach local members, never as a side
door into a group they cannot read (T59)."""

from __future__ import annotations

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups.membership import request_membership
from fedgroups.groups.notifications import notices_for
from fedgroups.groups.posting import receive_post
from fedgroups.groups.writing import write_post
from fedgroups.models import Actor, Membership, MembershipState, Notification
from fedgroups.settings import Settings
from tests.factories import make_account, make_group
from tests.groups.test_membership import remote_actor
from tests.groups.test_posting import note


async def test_a_reply_from_another_server_notifies_the_local_author(
    db: None, settings: Settings
) -> None:
    group = await make_group(settings, "recovery")
    account = await make_account(settings, "lena")
    lena = await Actor.get(id=account.actor_id)  # type: ignore[attr-defined]
    await Membership.create(group=group, actor=lena, state=MembershipState.APPROVED)
    mine = (await write_post(group, lena, "a hard day")).post
    assert mine is not None
    rosa = await remote_actor("peer.test")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    await receive_post(group, rosa, parse_post(note(1, inReplyTo=mine.ap_id)))
    notices = await notices_for(account)
    assert [n.notification.kind for n in notices] == ["reply"]
    assert notices[0].post is not None and notices[0].post.in_reply_to == mine.ap_id


async def test_mentions_never_open_a_members_only_group(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery", private=True)
    account = await make_account(settings, "nina")
    rosa = await remote_actor("peer.test")
    await Membership.create(group=group, actor=rosa, state=MembershipState.APPROVED)
    mention = {"type": "Mention", "href": f"{settings.base_url}/u/nina"}
    await receive_post(group, rosa, parse_post(note(1, tag=[mention])))
    assert await Notification.filter(account=account).count() == 0


async def test_a_group_elsewhere_accepting_a_request_is_a_notification(
    db: None, settings: Settings
) -> None:
    from fedgroups.groups.following import record_follow_answer
    from fedgroups.models import ActorKind, GroupSubscription

    account = await make_account(settings, "lena")
    lena = await Actor.get(id=account.actor_id)  # type: ignore[attr-defined]
    circle = await remote_actor("peer.test", "circle")
    circle.kind = ActorKind.GROUP
    await circle.save()
    await GroupSubscription.create(
        actor=lena, group_actor=circle, follow_ap_id="https://groups.test/u/lena/follows/1"
    )
    await record_follow_answer(circle, "https://groups.test/u/lena/follows/1", "", accepted=True)
    await record_follow_answer(circle, "https://groups.test/u/lena/follows/1", "", accepted=True)
    notices = await notices_for(account)
    assert [(n.notification.kind, n.notification.actor.id) for n in notices] == [
        ("approved", circle.id)
    ]
