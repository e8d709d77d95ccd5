"""Rules reach newcomers: remote members by a private mention, local members confirm them."""

from __future__ import annotations

from fedgroups.groups.intake import (
    configure_group,
    confirm_rules,
    decide_join_request,
    must_confirm_rules,
)
from fedgroups.groups.joining import receive_join_request
from fedgroups.groups.membership import decide_membership, request_membership
from fedgroups.groups.modlog import Acting, log_lines
from fedgroups.models import ModerationAction, Notification, NotificationKind
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.groups.moderation_support import inboxes_of, sent

RULES = "Be kind.\n<b>No</b> advice unless asked."


async def test_a_newcomer_from_another_server_is_sent_the_rules(
    db: None, settings: Settings
) -> None:
    group = await make_group(settings, "grief", private=True)
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    assert await sent("Create") == []  # nothing before a moderator says yes
    await decide_membership(group, rosa, approve=True)
    assert await sent("Create") == []  # no rules, no message
    await configure_group(group, rules=RULES)
    sam = await make_remote_actor("https://other.test", "sam")
    await request_membership(group, sam, "https://other.test/follows/1")
    await decide_membership(group, sam, approve=True)
    [create] = await sent("Create")
    note = create["object"]
    assert note["to"] == [sam.ap_id] and note["cc"] == []
    assert note["tag"] == [{"type": "Mention", "href": sam.ap_id, "name": "@sam@other.test"}]
    assert "<p>Be kind.<br>&lt;b&gt;No&lt;/b&gt; advice unless asked.</p>" in note["content"]
    assert f'href="{group.actor.ap_id}"' in note["content"]
    assert await inboxes_of(create["id"]) == {"https://other.test/inbox"}
    await request_membership(group, sam, "https://other.test/follows/2")  # a re-follow
    assert len(await sent("Create")) == 1


async def test_open_groups_welcome_at_once(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    await configure_group(group, rules=RULES)
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    [create] = await sent("Create")
    assert create["object"]["to"] == [rosa.ap_id]


async def test_local_members_confirm_the_rules_again_when_they_change(
    db: None, settings: Settings
) -> None:
    owner = (await make_account(settings, "omar")).actor
    lena = (await make_account(settings, "lena")).actor
    group = await make_group(settings, "recovery", owner="omar")
    await request_membership(group, await lena, f"{settings.base_url}/u/lena/follows/1")
    member = await lena
    assert not await must_confirm_rules(group, member)  # no rules yet
    await configure_group(group, rules=RULES)
    assert await must_confirm_rules(group, member)
    assert not await must_confirm_rules(group, await owner)  # who keeps the rules is not asked
    await confirm_rules(group, member)
    assert not await must_confirm_rules(group, member)
    await configure_group(group, rules=RULES + "\nNo selling.")
    assert await must_confirm_rules(group, member)
    assert await sent("Create") == []  # local members read the rules here, not by message


async def test_join_decisions_are_logged_without_naming_the_turned_away(
    db: None, settings: Settings
) -> None:
    group = await make_group(settings, "grief", private=True)
    await configure_group(group, join_questions=["What brings you here?"])
    rosa = await make_remote_actor("https://peer.test", "rosa")
    sam = await make_remote_actor("https://other.test", "sam")
    for person in (rosa, sam):
        await request_membership(group, person, f"{person.ap_id}/follows/1")
    await decide_join_request(group, rosa, approve=True, acting=Acting(reason="welcome"))
    await decide_join_request(group, sam, approve=False)
    rejected, approved, _questions = await log_lines(group)
    assert (approved.action, approved.subject) == (ModerationAction.APPROVE_MEMBER, rosa.handle)
    assert (rejected.action, rejected.subject) == (ModerationAction.REJECT_MEMBER, "")
    assert group.join_questions == ["What brings you here?"]


async def test_a_request_from_another_server_reaches_the_moderators_once(
    db: None, settings: Settings
) -> None:
    await make_account(settings, "omar")
    group = await make_group(settings, "grief", private=True, owner="omar")
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await receive_join_request(group, rosa, "https://peer.test/follows/1")
    await receive_join_request(group, rosa, "https://peer.test/follows/2")  # sent again
    [notice] = await Notification.filter(kind=NotificationKind.JOIN_REQUEST)
    assert (notice.group_id, notice.actor_id) == (group.pk, rosa.pk)  # type: ignore[attr-defined]
    open_group = await make_group(settings, "open", owner="omar")
    await receive_join_request(open_group, rosa, "https://peer.test/follows/3")
    assert await Notification.filter(kind=NotificationKind.JOIN_REQUEST).count() == 1
