"""Membership decisions, and who a group delivers to."""

from __future__ import annotations

from fedgroups.groups.domains import block_domain
from fedgroups.groups.membership import approved_members, decide_membership, request_membership
from fedgroups.models import Actor, Delivery, MembershipState
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
