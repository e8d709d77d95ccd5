"""Membership decisions, and who a group delivers to."""

from __future__ import annotations

import pytest

from fedgroups.errors import NotFound
from fedgroups.groups.domains import block_domain
from fedgroups.groups.membership import (
    approved_members,
    ban_member,
    decide_membership,
    is_member,
    request_membership,
    unban_member,
)
from fedgroups.models import Actor, Delivery, MembershipState, OutboxActivity
from fedgroups.settings import Settings
from tests.factories import make_group, make_remote_actor


async def remote_actor(domain: str, name: str = "rosa") -> Actor:
    return await make_remote_actor(f"https://{domain}", name)


async def test_open_group_accepts_and_queues_the_accept(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    membership = await request_membership(group, rosa, "https://peer.test/follows/1")
    assert membership.state == MembershipState.APPROVED
    delivery = await Delivery.get().select_related("activity")
    assert delivery.inbox_url == "https://peer.test/inbox"
    assert delivery.activity.payload["type"] == "Accept"
    assert delivery.activity.payload["object"]["id"] == "https://peer.test/follows/1"


async def test_private_group_waits_then_rejects(db: None, settings: Settings) -> None:
    group = await make_group(settings, "grief", private=True)
    rosa = await remote_actor("peer.test")
    membership = await request_membership(group, rosa, "https://peer.test/follows/1")
    assert membership.state == MembershipState.PENDING
    assert await Delivery.all().count() == 0
    await decide_membership(group, rosa, approve=False)
    delivery = await Delivery.get().select_related("activity")
    assert delivery.activity.payload["type"] == "Reject"


async def test_members_on_blocked_domains_get_nothing(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    mal = await remote_actor("sub.evil.test", "mal")
    for number, actor in enumerate((rosa, mal)):
        await request_membership(group, actor, f"https://x.test/follows/{number}")
    await block_domain("evil.test")
    assert [actor.ap_id for actor in await approved_members(group)] == [rosa.ap_id]


async def test_a_ban_blocks_rejects_and_refuses_follows_again(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    banned = await ban_member(group, rosa)
    assert banned.state == MembershipState.BANNED
    sent = [a.payload for a in await OutboxActivity.filter(group=group).order_by("id")]
    assert [a["type"] for a in sent] == ["Accept", "Block", "Reject"]
    assert sent[1]["object"] == rosa.ap_id
    assert sent[2]["object"]["id"] == "https://peer.test/follows/1"
    assert not await is_member(group, rosa)
    again = await request_membership(group, rosa, "https://peer.test/follows/2")
    assert again.state == MembershipState.BANNED
    assert (await OutboxActivity.filter(group=group).order_by("-id").first()).activity_type == (
        "Reject"
    )


async def test_unbanning_undoes_the_block(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    with pytest.raises(NotFound):
        await unban_member(group, rosa)
    await ban_member(group, rosa)  # never a member: banned ahead, Block only
    await unban_member(group, rosa)
    sent = [a.payload for a in await OutboxActivity.filter(group=group).order_by("id")]
    assert [a["type"] for a in sent] == ["Block", "Undo"]
    assert sent[1]["object"]["id"] == sent[0]["id"]
    rejoined = await request_membership(group, rosa, "https://peer.test/follows/3")
    assert rejoined.state == MembershipState.APPROVED
